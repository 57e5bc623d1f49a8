"""Explainers: the user's fitted model and rows in, SHAP values out.

They call the model (``frame._model``), match its columns by name, run the compiled kernels of
``explain/`` and check each result against the model's own output before returning it. The
entry points ``rai_nb.explain`` and ``rai_nb.explain_row`` import the module they need;
nothing is re-exported here.
"""
