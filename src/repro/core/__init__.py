"""The numpy core: mazes, the one BFS, datasets, planners, metrics.

Arrays in, arrays out. Nothing here imports torch or any module above this
layer (``repro.config``, ``repro.learn`` and the rest); only the base
modules ``repro.errors``, ``repro.io`` and ``repro.paths``.
"""
