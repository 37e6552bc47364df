"""The declared scenario → endpoint/checklist mapping stays complete, and the pytest-bdd internal it rests on holds."""

from __future__ import annotations

from pytest_bdd import scenario
from pytest_bdd.feature import get_features
from pytest_bdd.scenario import scenario_wrapper_template_registry

from ome_harness.report.coverage import BACKEND_TAG, CHECKLIST, ENDPOINT_TAG_PREFIX, ENDPOINTS
from ome_harness.resources import resource_dir


def _scenarios() -> list[tuple[str, set[str]]]:
    found = []
    for feature in get_features([str(resource_dir("features"))]):
        for template in feature.scenarios.values():
            found.append((f"{feature.name}: {template.name}", template.tags | feature.tags))
    return found


def test_every_backend_scenario_maps_to_a_known_endpoint() -> None:
    known = {e.tag for e in ENDPOINTS}
    backend = [(name, tags) for name, tags in _scenarios() if BACKEND_TAG in tags]
    assert len(backend) >= 10
    unmapped = [name for name, tags in backend if not tags & known]
    assert unmapped == [], f"backend scenarios without an @endpoint_* tag: {unmapped}"
    unknown = {t for _, tags in _scenarios() for t in tags if t.startswith(ENDPOINT_TAG_PREFIX)} - known
    assert unknown == set(), f"tags naming no endpoint of the contract: {unknown}"


def test_every_endpoint_and_checklist_item_is_proven_by_some_scenario() -> None:
    tags_in_use = set().union(*(tags for _, tags in _scenarios()))
    assert [e.key for e in ENDPOINTS if e.tag not in tags_in_use] == []
    assert [i.title for i in CHECKLIST if not i.tags & tags_in_use] == []


def test_pytest_bdd_still_registers_each_scenario_function_with_its_template() -> None:
    # The collector recognises scenarios through this registry (scenarios/collector.py).
    @scenario("connectivity.feature", "The API names its version")
    def a_scenario() -> None:
        """unused"""

    template = scenario_wrapper_template_registry.get(a_scenario)
    assert template is not None and template.name == "The API names its version"
    assert template.feature.name == "Connectivity to the OME API"
