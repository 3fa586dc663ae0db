"""The pavenet-sdk performance suite (``python benchmarks/run.py`` or ``pavenet bench``).

One module per section; each exposes ``run(mode, ctx) -> dict`` whose result is written to
``benchmarks/results/<name>.json``. ``report`` turns every JSON present into ``summary.md`` and
the plots.
"""
