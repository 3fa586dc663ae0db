"""Datasets: PoseTrack readers, the synthetic video generator, window sampling."""
