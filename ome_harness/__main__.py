"""`python -m ome_harness`: the same entry point as the `ome-harness` script.

Running `python -m ome_harness.cli` would load cli.py a second time as `__main__` (two copies of the
app and of every module-level registration); this module imports the one copy instead.
"""

from ome_harness.cli import main

main()
