"""The study: evaluation, the summary and its typed view, claims, figures, the report,
the cached pipeline behind ``nox -s reproduce``, and the benchmarks.

The top layer below the command line: it may import every other layer.
"""
