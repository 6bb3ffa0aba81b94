"""Studies beyond the paper, one module (or package) each, and their registry."""
