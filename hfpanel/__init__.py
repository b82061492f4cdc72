"""hfpanel: meta-monitoring for WLCG computing sites.

Collectors fetch what each expert tool already knows, a runner rates it and writes every run into
an append-only Parquet store, and Panel components show the picture to shifters and experts.
"""

__version__ = "0.1.0"
