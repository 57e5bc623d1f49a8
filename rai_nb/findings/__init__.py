"""Findings: the tables and graded checks a result holds, built from kernel outputs.

Between the entry points (``api/``) and the kernels (``stats/``, ``checks/``): these modules
read pandas frames and the encoded context of ``frame/``, call the kernels, and turn their
arrays into the tables of a :class:`rai_nb.results.BiasResult` and the graded
:class:`rai_nb.results.Check` records of ``validate``. Each entry point imports the module it
needs; nothing is re-exported here.
"""
