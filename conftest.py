"""Root conftest: the scenario fixtures (target from config) come from the installed plugin."""

pytest_plugins = ["ome_harness.scenarios.plugin"]
