"""Evaluation: a trained run's metrics on its frozen test and planning sets, and the baselines'.

Imports the core, ``repro.config`` and the learning layer (to load weights); never what
reads the results (``repro.results`` and above).
"""
