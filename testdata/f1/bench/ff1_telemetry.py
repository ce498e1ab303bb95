"""Time FastF1's parse of a session's two telemetry streams, beside paddock's.

usage: FF1_SRC=/path/to/Fast-F1 python3 ff1_telemetry.py FF1BENCH_DIR STREAM_DIR [ROUNDS]

FF1BENCH_DIR holds the ff1bench harness (ff1_offline.py: FastF1 from its
source tree, offline, with Debian's pandas); STREAM_DIR holds
CarData.z.jsonStream and Position.z.jsonStream (e.g. a race made by
testdata/f1/gen_telemetry.py synthetic). The script lays them out as a
recorded tree, then times fastf1._api.car_data and position_data (the parse
of the two streams as Session.load runs it) ROUNDS times (default 3) and
prints one line per round: seconds for car data, position data, and the
samples each gave.
"""
import os
import sys
import tempfile
import time

ff1bench, streams = sys.argv[1], os.path.abspath(sys.argv[2])
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
path = "/static/2030/2030-01-01_Benchmark_Grand_Prix/2030-01-01_Race/"
tree = tempfile.mkdtemp(prefix="ff1tel-")
static = os.path.join(tree, "recorded", "livetiming.formula1.com", path.strip("/"))
os.makedirs(static)
with open(os.path.join(tree, "MANIFEST.tsv"), "w") as m:
    for feed in ("CarData.z.jsonStream", "Position.z.jsonStream"):
        os.symlink(os.path.join(streams, feed), os.path.join(static, feed))
        m.write(f"https://livetiming.formula1.com{path}{feed}\t200\t"
                f"recorded/livetiming.formula1.com{path}{feed}\n")
os.environ["FF1BENCH_FIXTURES"] = tree
sys.path.insert(0, ff1bench)
import ff1_offline  # noqa: E402,F401  (FastF1 from FF1_SRC, offline)
from fastf1 import _api  # noqa: E402

for r in range(rounds):
    t0 = time.perf_counter()
    car = _api.car_data(path)
    t1 = time.perf_counter()
    pos = _api.position_data(path)
    t2 = time.perf_counter()
    print(f"round {r + 1}: car_data {t1 - t0:.3f} s ({sum(len(d) for d in car.values())} samples), "
          f"position_data {t2 - t1:.3f} s ({sum(len(d) for d in pos.values())} samples)", flush=True)
