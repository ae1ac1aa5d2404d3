"""Reports: an organization's counts for a funder or a board, tied to a purpose of its plan.
Each run is a published, immutable table with small cells suppressed, and remembers who it
counted so each participant can see it (PRODUCT.md: data serves the community)."""
