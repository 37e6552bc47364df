"""A team's own .feature files (`ome-harness run --features DIR`), run with the harness's shared step library.

Only steps shared through steps/conftest.py (conftest.py, backend_steps.py, media_steps.py) are
visible here; docs/steps.md lists them.
"""

from pytest_bdd import scenarios

from ome_harness.scenarios.plugin import team_features_dir

if (folder := team_features_dir()) is not None:
    scenarios(str(folder))
