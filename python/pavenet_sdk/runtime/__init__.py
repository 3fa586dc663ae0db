"""The streaming runtime: model packages, backends, per-stream state and results (no torch)."""
