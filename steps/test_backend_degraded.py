"""Steps of features/backend_degraded.feature."""

from pytest_bdd import given, scenarios

from ome_harness.backend.under_test import needs

scenarios("backend_degraded.feature")


@given("a stream backend whose OME can be stopped", target_fixture="backend")
def a_backend_whose_ome_can_be_stopped(stoppable_backend):
    return stoppable_backend


@given("OME has stopped")
def ome_has_stopped(backend):
    needs(backend.stop_ome)
