"""The report: figures, the LaTeX document and its sections, the README's generated blocks.

Reads the summary through its typed view (``repro.results``) only.
"""
