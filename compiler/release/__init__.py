"""Releases: a project built for every target and board, its manifest, and the checks on it."""
