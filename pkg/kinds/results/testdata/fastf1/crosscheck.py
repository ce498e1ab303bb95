"""Feed TestBuild's cases to FastF1 and compare its results with theirs.

usage (from the project root, with the ff1bench harness (FastF1 run offline on a recorded
tree; its README gives the setup):

  mkdir -p /tmp/cases
  (cd pkg && RESULTS_CASES_DIR=/tmp/cases go test ./kinds/results/ -run TestWriteCasesForFastF1)
  FF1_SRC=/path/to/Fast-F1 /usr/bin/python3 \
      pkg/kinds/results/testdata/fastf1/crosscheck.py "$FF1BENCH" testdata/f1 /tmp/cases

Each case's DriverList body is served at the session's archive path and its
Jolpica body at the session's Jolpica URLs; every other URL but the season
schedule answers 404. FastF1 runs session.load(laps=False, telemetry=False,
weather=False, messages=False); its session.results, written as the
reference's results.csv, must equal the case's expected rows. Exit status 1
on any difference.
"""
import base64
import glob
import io
import json
import math
import os
import sys
import warnings

warnings.simplefilter("ignore")
FF1BENCH, FIXTURES, CASES = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, FF1BENCH)
os.environ.setdefault("FF1BENCH_FIXTURES", os.path.abspath(FIXTURES))

import ff1_offline as h  # noqa: E402  (imports FastF1 from FF1_SRC)
import fastf1  # noqa: E402
from fastf1.req import Cache  # noqa: E402

SERVE = {}  # URL prefix -> body


def get(url, **kwargs):
    for prefix, body in SERVE.items():
        if url.startswith(prefix):
            return h._response(url, 200, body)
    if "raw.githubusercontent.com" in url:  # the season schedule
        return h.recorded_get(url, **kwargs)
    return h._response(url, 404, b"not recorded")


Cache.requests_get = staticmethod(get)


def rows(session):
    df = session.results.copy()
    for c in ("Q1", "Q2", "Q3", "Time"):
        df[c] = df[c].dt.total_seconds().map(lambda x: "" if math.isnan(x) else f"{x:.3f}")
    out = io.StringIO()
    df.to_csv(out, index=False)
    return out.getvalue().rstrip("\n").split("\n")[1:]


differ = 0
for path in sorted(glob.glob(os.path.join(CASES, "case*.json"))):
    case = json.load(open(path, encoding="utf-8"))
    inp = case["in"]
    if inp["Round"] == 0:
        session = fastf1.get_testing_session(inp["Year"], 1, 1)
    else:
        session = fastf1.get_session(inp["Year"], inp["Round"], inp["Session"])
    SERVE.clear()
    if inp["DriverList"]:
        SERVE["https://livetiming.formula1.com" + session.api_path + "DriverList.jsonStream"] = \
            base64.b64decode(inp["DriverList"])
    if inp["Jolpica"]:
        SERVE[f"https://api.jolpi.ca/ergast/f1/{inp['Year']}/{inp['Round']}/"] = base64.b64decode(inp["Jolpica"])
    session.load(laps=False, telemetry=False, weather=False, messages=False)
    got, want = rows(session), case["rows"] or []
    if got == want:
        print("agree ", case["name"])
        continue
    differ += 1
    print("DIFFER", case["name"])
    print("  FastF1:\n    " + "\n    ".join(got))
    print("  case:\n    " + "\n    ".join(want))
print(f"{differ} case(s) differ")
sys.exit(1 if differ else 0)
