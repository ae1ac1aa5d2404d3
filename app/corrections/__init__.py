"""Corrections, statements of disagreement and deletion requests: the participant's say over
what organizations hold about them."""
