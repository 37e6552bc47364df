"""Root conftest: the scenario fixtures (target from config) come from the installed plugin."""

import pytest

pytest_plugins = ["ome_harness.scenarios.plugin"]

# Fixtures that mean "this test talks to the Docker engine".
DOCKER_FIXTURES = {"docker_engine", "standin_image", "container_cfg", "test_containers"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The suite runs with `-n 2 --dist loadgroup` (scripts/test): everything that touches the one Docker
    # engine goes to one worker, so `ome-harness down`'s leftover sweep, a deliberately killed launcher's
    # leftover and the chaos test's "no container of this run" never meet another test's container.
    for item in items:
        if item.get_closest_marker("docker") or DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("docker"))
