"""The CUDA TreeSHAP kernel equals the CPU kernel: under numba's CUDA simulator always (in a
subprocess, since the simulator is chosen when numba is imported), on a real GPU when present."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rai_nb.backend import gpu_available

SCRIPT = textwrap.dedent("""
    import importlib
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingRegressor,
                                  RandomForestClassifier)
    from rai_nb.explain._forest import load_forest

    treeshap = importlib.import_module("rai_nb.explain.treeshap")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] + X[:, 1] > 0
    gaps = []
    colour = pd.Categorical(rng.choice(["a", "b", "c"], 300))
    frame = pd.DataFrame({"x": X[:, 0], "colour": colour})
    hist = HistGradientBoostingRegressor(max_iter=3, max_depth=3,
                                         categorical_features="from_dtype").fit(
        frame, X[:, 0] + (colour == "a"))
    encoded = np.asarray(hist._preprocess_X(frame[:5], reset=False))[:, [1, 0]]
    encoded[0, 0] = np.nan
    cases = [
        (RandomForestClassifier(n_estimators=2, max_depth=4, random_state=0).fit(X, y), X[:6]),
        (GradientBoostingClassifier(n_estimators=2, max_depth=3).fit(X, np.digitize(X[:, 2],
                                                                     [-0.5, 0.5])), X[:4]),
        (hist, encoded),
    ]
    for model, rows in cases:
        forest = load_forest(model)
        cpu, base_cpu = treeshap.tree_shap(forest, rows, device="cpu")
        gpu, base_gpu = treeshap.tree_shap(forest, rows, device="cuda")
        gaps.append(float(np.abs(cpu - gpu).max()))
    print(max(gaps))
""")


def test_cuda_kernel_equals_cpu_under_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 1e-12


@pytest.mark.skipif(not gpu_available(), reason="CuPy with a visible CUDA device is not "
                    "available on this machine")
def test_cuda_kernel_equals_cpu_on_the_gpu():
    from sklearn.ensemble import RandomForestClassifier

    from rai_nb.explain._forest import load_forest
    from rai_nb.explain.treeshap import tree_shap

    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 8))
    model = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0).fit(
        X, X[:, 0] > 0)
    forest = load_forest(model)
    cpu, _ = tree_shap(forest, X[:500], device="cpu")
    gpu, _ = tree_shap(forest, X[:500], device="cuda")
    np.testing.assert_allclose(gpu, cpu, atol=1e-12)
