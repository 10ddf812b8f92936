"""microcalc: the helper library of the breast-microcalcification compendium.

Modules: ``published`` (the paper's numbers as printed), ``pvalues`` (tests of
2 x k tables), ``reconstruct`` (tables consistent with reported numbers),
``consistency`` (GRIM, OR-CI-P coherence, which test gives a reported P),
``paper`` (this paper's reconstructions), ``cli`` (the ``microcalc-check``
command), ``execute`` (running notebooks), ``paths``.
"""

__version__ = "0.1.0"
