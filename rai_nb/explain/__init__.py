"""Explanation kernels: exact TreeSHAP, exact linear SHAP, batched KernelSHAP (arrays in/out)."""
