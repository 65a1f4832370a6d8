"""Impulses: a fixed-point DSP front end in front of a model, from an impulse file (.toml)."""
