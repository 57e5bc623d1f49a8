"""Peak memory of large runs, each in its own process measured by ``/usr/bin/time -v``.

Run: ``.venv/bin/python benchmarks/bench_memory.py [case ...] [--rows N]``. Cases: ``bias`` and
``validate`` on 10M rows × 20 feature columns (12 numeric, 8 categorical) plus labels,
``validate_floats`` on 10M rows × 30 float64 columns plus a 0/1 target and a categorical
sensitive column, ``slices`` on 1M rows × 8 categorical features at max_l 3. ``--rows``
replaces every case's row count. The input's own size is printed beside the peak, and their
ratio, so the overhead is visible.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

CASES = {
    "bias": (10_000_000, "rai_nb.bias(frame, target='y', prediction='pred', "
                         "sensitive=['s0', 's1'], score='score')"),
    "validate": (10_000_000, "rai_nb.validate(frame, target='y', sensitive=['s0', 's1'])"),
    "validate_floats": (10_000_000, "rai_nb.validate(frame, target='y', sensitive='s0')"),
    "slices": (1_000_000, "rai_nb.slices(frame[[f'c{i}' for i in range(8)]], "
                          "errors=frame['loss'].to_numpy(), max_l=3, min_sup=100)"),
}

MIXED = """
columns = {{f"x{{i}}": rng.normal(size=n) for i in range(12)}}
columns.update({{f"c{{i}}": pd.Categorical.from_codes(rng.integers(0, 5 + i, n),
                 [f"v{{j}}" for j in range(5 + i)]) for i in range(8)}})
frame = pd.DataFrame(columns)
frame["s0"] = frame["c0"].astype(str); frame["s1"] = frame["c1"].astype(str)
frame["y"] = rng.integers(0, 2, n); frame["pred"] = rng.integers(0, 2, n)
frame["score"] = rng.random(n); frame["loss"] = rng.random(n) * (frame["c2"].cat.codes == 3)
"""

FLOATS = """
frame = pd.DataFrame({{f"x{{i}}": rng.normal(size=n) for i in range(30)}})
frame["y"] = rng.integers(0, 2, n)
frame["s0"] = pd.Categorical.from_codes(rng.integers(0, 4, n), ["a", "b", "c", "d"])
"""

SCRIPT = """
import time, numpy as np, pandas as pd, rai_nb
rng = np.random.default_rng(0)
n = {n}
{build}
print("input", round(frame.memory_usage(deep=True).sum() / 2**20))
start = time.perf_counter()
{call}
print("seconds", round(time.perf_counter() - start, 2))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="*", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--rows", type=int, help="rows of every case (default: its own)")
    args = parser.parse_args()
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {list(CASES)}")
    print("/usr/bin/time -v, one process per case")
    for name in args.cases or CASES:
        n_rows, call = CASES[name]
        n_rows = args.rows or n_rows
        build = (FLOATS if name == "validate_floats" else MIXED).format()
        script = SCRIPT.format(n=n_rows, build=build, call=call)
        out = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", script],
                             capture_output=True, text=True, check=True)
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)[1])
        lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
        ratio = peak / 2**10 / int(lines["input"])
        print(f"{name:<15} {n_rows:>11,} rows | input frame {lines['input']} MiB | "
              f"{lines['seconds']} s | peak RSS {peak / 2**10:,.0f} MiB | {ratio:.2f}x input")


if __name__ == "__main__":
    main()
