import sys

from repro.cli import main

# Guarded: a unit's process (multiprocessing's forkserver) imports this module again as
# __mp_main__, and must not run the command line a second time.
if __name__ == "__main__":
    sys.exit(main())
