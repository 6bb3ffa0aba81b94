"""Results: the summary writer, its shape check and typed view, the claims, the comparison
with another summary, and the paper-gap arithmetic.

Reads what evaluation wrote; knows nothing of figures, the report or the pipeline.
"""
