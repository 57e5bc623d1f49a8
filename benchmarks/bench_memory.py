"""Peak memory of large runs, each in its own process measured by ``/usr/bin/time -v``.

Run: ``.venv/bin/python benchmarks/bench_memory.py``. Cases: ``bias`` and ``validate`` on
10M rows × 20 feature columns (12 numeric, 8 categorical) plus labels, ``slices`` on 1M
rows × 8 categorical features at max_l 3. The input's own size is printed
beside the peak so the overhead is visible.
"""

from __future__ import annotations

import re
import subprocess
import sys

CASES = {
    "bias": (10_000_000, "rai_nb.bias(frame, target='y', prediction='pred', "
                         "sensitive=['s0', 's1'], score='score')"),
    "validate": (10_000_000, "rai_nb.validate(frame, target='y', sensitive=['s0', 's1'])"),
    "slices": (1_000_000, "rai_nb.slices(frame[[f'c{i}' for i in range(8)]], "
                          "errors=frame['loss'].to_numpy(), max_l=3, min_sup=100)"),
}

SCRIPT = """
import time, numpy as np, pandas as pd, rai_nb
rng = np.random.default_rng(0)
n = {n}
columns = {{f"x{{i}}": rng.normal(size=n) for i in range(12)}}
columns.update({{f"c{{i}}": pd.Categorical.from_codes(rng.integers(0, 5 + i, n),
                 [f"v{{j}}" for j in range(5 + i)]) for i in range(8)}})
frame = pd.DataFrame(columns)
frame["s0"] = frame["c0"].astype(str); frame["s1"] = frame["c1"].astype(str)
frame["y"] = rng.integers(0, 2, n); frame["pred"] = rng.integers(0, 2, n)
frame["score"] = rng.random(n); frame["loss"] = rng.random(n) * (frame["c2"].cat.codes == 3)
print("input", round(frame.memory_usage(deep=True).sum() / 2**20))
start = time.perf_counter()
{call}
print("seconds", round(time.perf_counter() - start, 2))
"""


def main():
    print("/usr/bin/time -v, one process per case")
    for name, (n_rows, call) in CASES.items():
        script = SCRIPT.format(n=n_rows, call=call)
        out = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", script],
                             capture_output=True, text=True, check=True)
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)[1])
        lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
        print(f"{name:<9} {n_rows:>11,} rows | input frame {lines['input']} MiB | "
              f"{lines['seconds']} s | peak RSS {peak / 2**10:,.0f} MiB")


if __name__ == "__main__":
    main()
