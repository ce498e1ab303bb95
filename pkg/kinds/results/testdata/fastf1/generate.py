"""FastF1's session.results for every recorded session with a DriverList.

usage (from the project root, with the ff1bench harness (FastF1 run offline on a recorded
tree; its README gives the setup): Debian python3 with pandas, a FastF1
source tree at theOehrly/Fast-F1 b1c23c2):

  FF1_SRC=/path/to/Fast-F1 /usr/bin/python3 \
      pkg/kinds/results/testdata/fastf1/generate.py \
      "$FF1BENCH" testdata/f1 pkg/kinds/results/testdata/fastf1

For each DriverList.jsonStream in the fixtures' MANIFEST.tsv whose session
has no results.csv in the fixtures' reference/ (and is not one of the
sessions kept back there), it runs fastf1.get_session(year, round, name) and
session.load(laps=False, telemetry=False, weather=False, messages=False)
offline on the recorded tree (ff1bench's ff1_offline), and writes
<folder>/results.csv in the reference's format (timedeltas as seconds with
3 decimals, pandas to_csv otherwise) and <folder>/info.json (year, round,
session, api_path and the GETs FastF1 made, with served = answered 200).

laps=False: these tables are what FastF1 builds from the DriverList and
Jolpica alone, which is what package results reproduces. With laps loaded
FastF1 would try to derive missing positions from the laps (see README.md).
"""
import json
import math
import os
import re
import sys
import warnings

warnings.simplefilter("ignore")
FF1BENCH, FIXTURES, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, FF1BENCH)
os.environ.setdefault("FF1BENCH_FIXTURES", os.path.abspath(FIXTURES))

import ff1_offline as h  # noqa: E402  (imports FastF1 from FF1_SRC)
import fastf1  # noqa: E402

KEPT_BACK = {"2021_18_Mexico_City_Grand_Prix_Qualifying", "2025_06_Miami_Grand_Prix_Sprint"}


def write(session, path):
    df = session.results.copy()
    for c in ("Q1", "Q2", "Q3", "Time"):
        df[c] = df[c].dt.total_seconds().map(lambda x: "" if math.isnan(x) else f"{x:.3f}")
    df.to_csv(path, index=False)


manifest = open(os.path.join(FIXTURES, "MANIFEST.tsv"), encoding="utf-8").read()
sessions = sorted(set(re.findall(
    r"static/(\d{4})/\d{4}-\d\d-\d\d_([^/]+)/\d{4}-\d\d-\d\d_([^/]+)/DriverList\.jsonStream", manifest)))
for year, event, name in sessions:
    year, event, name = int(year), event.replace("_", " "), name.replace("_", " ")
    schedule = fastf1.get_event_schedule(year)
    match = schedule[schedule["EventName"] == event]
    if match.empty:
        print("no event", year, event)
        continue
    rnd = int(match.iloc[0]["RoundNumber"])
    folder = f"{year}_{rnd:02d}_{event.replace(' ', '_')}_{name.replace(' ', '_')}"
    if folder in KEPT_BACK or os.path.exists(os.path.join(FIXTURES, "reference", folder, "results.csv")):
        continue
    session = fastf1.get_session(year, rnd, name)
    h.take_requests()
    session.load(laps=False, telemetry=False, weather=False, messages=False)
    gets = [{"url": u, "served": status == 200} for u, status in h.take_requests()]
    os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    write(session, os.path.join(OUT, folder, "results.csv"))
    with open(os.path.join(OUT, folder, "info.json"), "w", encoding="utf-8") as f:
        json.dump({"year": year, "round": rnd, "session": name, "api_path": session.api_path,
                   "http_requests": gets}, f, indent=1)
        f.write("\n")
    print(folder)
