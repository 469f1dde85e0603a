"""Numerical core: landscapes, exact grid reference, samplers, training. Never imports Qt."""
