"""Implementation of the synthetic video generator; the public API is ``data.synthetic``."""
