"""Data-check kernels: drift statistics, quality counts, leakage and proxy associations.

Arrays and an array namespace ``xp`` in, arrays, floats or dataclasses out; no pandas.
"""
