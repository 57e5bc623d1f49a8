"""Exact SHAP values of a linear model with independent features (Lundberg & Lee, NeurIPS 2017).

For ``f(x) = w·x + b`` and a background mean ``μ``, ``φ_i = w_i (x_i − μ_i)`` and the base value
is ``w·μ + b``; each output column of a multi-output model is handled the same way.
"""

from __future__ import annotations

from ..backend import namespace


def linear_shap(X, coef, intercept, mean, *, xp=None):
    """SHAP values ``(rows, features, outputs)`` and base values ``(outputs,)``.

    ``coef`` is ``(outputs, features)``, ``intercept`` ``(outputs,)``, ``mean`` ``(features,)``.
    """
    xp = namespace(X, xp=xp)
    centred = X - mean
    values = centred[:, :, None] * xp.permute_dims(coef, (1, 0))[None, :, :]
    return values, coef @ mean + intercept
