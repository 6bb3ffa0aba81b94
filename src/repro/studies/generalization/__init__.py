"""The generalization study: runs and folders, snapshot evaluation, report section."""
