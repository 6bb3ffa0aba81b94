"""Learning: the method registry, the models, the losses, the optimizer, the trainer.

Torch lives here (and above). This layer imports the core and ``repro.config``,
never the study.
"""
