"""The pipeline behind ``nox -s reproduce``: its stages, the executors (local processes or
SLURM jobs) and the units of work they run.

The top layer below the command line: it may import every other layer.
"""
