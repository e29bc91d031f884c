"""One module per claim's figure; each exposes ``draw(report, path)`` (matplotlib, Agg)."""
