"""repro: reproduction of "Metric Learning" (supervised vs contrastive distance-to-goal)."""

__version__ = "0.1.0"
