"""Explanation kernels: exact TreeSHAP (compiled for the CPU with numba and for CUDA), the
XGBoost/LightGBM/CatBoost adapters that let those libraries explain their own models, exact
linear SHAP and batched KernelSHAP (arrays in, arrays out)."""
