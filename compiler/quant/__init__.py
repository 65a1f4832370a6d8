"""Quantization tools: what int8 conversion cost a Keras model (accuracy, per-layer SQNR)."""
