"""Process a CSV of millions of rows with FillMissing/Categorify/Normalize in bounded memory.

    python bench/tabular_big.py [--rows 3000000] [--chunksize 200000]

Generates an adult-like CSV (categorical and continuous columns, missing values, a label),
then runs `process_csv` on it in a fresh process and prints that process's peak memory (max
RSS) next to the size the table takes in memory when pandas loads it whole (measured on one
chunk and scaled), and the size of the file.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CAT = {"workclass": ["Private", "Self-emp", "Gov", "Without-pay"],
       "education": ["HS-grad", "Some-college", "Bachelors", "Masters", "Doctorate", "11th", "9th"],
       "marital-status": ["Married", "Never-married", "Divorced", "Widowed"],
       "occupation": ["Exec", "Craft", "Sales", "Clerical", "Service", "Tech", "Farming", "Transport"]}
CONT = ["age", "fnlwgt", "education-num", "hours-per-week"]
Y = "salary"


def generate(path: Path, rows: int, seed: int = 0, chunk: int = 500_000) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            data = {name: rng.choice(values, n) for name, values in CAT.items()}
            data["age"] = rng.integers(17, 90, n)
            data["fnlwgt"] = rng.integers(12_000, 1_500_000, n)
            data["education-num"] = np.where(rng.random(n) < 0.02, np.nan, rng.integers(1, 17, n))
            data["hours-per-week"] = rng.integers(1, 99, n)
            data[Y] = np.where(rng.random(n) < 0.25, ">=50k", "<50k")
            frame = pd.DataFrame(data)
            frame.loc[rng.random(n) < 0.05, "occupation"] = None
            frame.to_csv(f, header=start == 0, index=False)


# Peak memory is read from /proc/self/status (VmHWM): getrusage's ru_maxrss would include the
# parent's peak, which Linux carries into child processes.
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"

CHILD = """
import json, sys, time
from l4tui.data.tabular_procs import process_csv
start = time.time()
summary = process_csv(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5],
                      chunksize=int(sys.argv[6]))
print(json.dumps({"seconds": time.time() - start, "rows": summary["rows"],
                  "peak_rss_kb": PEAK}))
""".replace("PEAK", PEAK)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--chunksize", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        started = time.time()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows in {time.time() - started:.1f} s: {path.stat().st_size / 2**20:,.0f} MiB on disk")
        sample = pd.read_csv(path, nrows=100_000)
        in_memory = sample.memory_usage(deep=True).sum() * args.rows / len(sample)
        baseline = subprocess.run([sys.executable, "-c", f"import pandas, numpy, l4tui.data.tabular_procs; print({PEAK})"],
                                  capture_output=True, text=True, check=True,
                                  env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(Path(tmp) / "out"), json.dumps(list(CAT)),
                              json.dumps(CONT), Y, str(args.chunksize)],
                             capture_output=True, text=True, check=True, env=env)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    peak = result["peak_rss_kb"] * 1024
    base = int(baseline.stdout) * 1024
    print(f"processed in {result['seconds']:.1f} s: {result['rows']['train']:,} train rows, "
          f"{result['rows']['valid']:,} valid rows")
    print(f"table in memory if loaded whole (pandas): {in_memory / 2**20:,.0f} MiB")
    print(f"peak memory of the processing process:    {peak / 2**20:,.0f} MiB "
          f"(of which {base / 2**20:,.0f} MiB is Python + pandas + numpy at rest)")
    print(f"peak / in-memory size: {peak / in_memory:.2f}")


if __name__ == "__main__":
    main()
