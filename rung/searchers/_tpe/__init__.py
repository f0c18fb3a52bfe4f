"""The tree-structured Parzen estimator family: the TPE searcher and what BOHB builds on.

``TPE`` (``_searcher``) fits its densities on final results; ``rung.searchers.BOHB`` fits
them per resource level with the same encoding (``_encoding``), sorted history and pending
configs (``_history``), densities (``_parzen``, which loads scipy on first use) and
candidate scoring (``_scoring``).
"""

from ._searcher import TPE, default_gamma, good_group_size

__all__ = ["TPE", "default_gamma", "good_group_size"]
