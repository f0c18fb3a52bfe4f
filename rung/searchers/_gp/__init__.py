"""The Gaussian-process family: the GP searcher and the pieces MOBSTER builds on.

``GP`` (``_searcher``) models final results; ``rung.searchers.MOBSTER`` models every
rung-level report with the same encoding, model, fitting, acquisition, design and ledger.
The modules that need scipy (``_model``, ``_data``, ``_fitting``, ``_acquisition``) are
imported on first use, so importing this package stays cheap.
"""

from ._searcher import GP, MAX_OBSERVATIONS

__all__ = ["GP", "MAX_OBSERVATIONS"]
