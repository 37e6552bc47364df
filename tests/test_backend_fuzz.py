"""Property-based fuzzing of the backend's published OpenAPI document: no input produces a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

if TYPE_CHECKING:
    from backend_fixtures import Rig

pytest_plugins = ["backend_fixtures"]


@pytest.fixture
def backend_openapi(rig: Rig):  # noqa: ANN201
    """The schema as the running backend publishes it, with a live channel and a marker to hit."""
    stream = rig.channel("news")["ome"]["stream"]
    rig.marker("break30")
    rig.api.start("news")
    rig.ome.state.add_stream(stream)
    return schemathesis.openapi.from_url(f"{rig.backend.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("backend_openapi")


@schema.parametrize()
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_backend_fail_with_a_500(case, rig: Rig) -> None:
    # All of schemathesis's checks (no 5xx, documented statuses, response schemas, Allow headers, valid
    # data accepted) except "invalid data rejected": our token replaces the cases that drop the
    # Authorization header, and unknown query parameters are ignored on purpose.
    case.call_and_validate(headers={"Authorization": f"Bearer {rig.backend.settings.token}"},
                           excluded_checks=[negative_data_rejection])
