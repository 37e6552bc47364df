"""Steps of features/connectivity.feature."""

import re

from pytest_bdd import parsers, scenarios, then, when

from ome_harness.scenarios.outcome import attempt, expect_success

scenarios("connectivity.feature")


@when("I ask for the OME version", target_fixture="outcome")
def ask_version(ome_client):
    return attempt(ome_client.version)


@when(parsers.parse('I request the path "{path}"'), target_fixture="outcome")
def request_path(ome_client, path):
    return attempt(lambda: ome_client.request("GET", path))


@then("the answer names an OvenMediaEngine version")
def names_a_version(outcome):
    assert re.match(r"^\d+\.\d+\.\d+", expect_success(outcome).version)
