"""``python -m repro.forkserver``: a fork server in a fresh interpreter.

A fresh ``python -m repro train ...`` spends about 1.5 s importing torch before it
does any work, and a smoke ``reproduce`` runs dozens of units. A fork server imports
the units' code once and then forks one child per unit (the loop and its protocol:
:mod:`repro.study.forkserve`). A ``reproduce`` forks its server from itself; this
entry point starts one for any other process (a library user's, a test's), or for a
``reproduce`` whose code changed on disk after it started.
"""

from repro.cli import main as cli_main
from repro.study.forkserve import serve

if __name__ == "__main__":
    serve(cli_main)
