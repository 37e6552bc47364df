"""Steps of features/authentication.feature."""

from pytest_bdd import parsers, scenarios, when

from ome_harness.scenarios.outcome import attempt

scenarios("authentication.feature")


@when("I list the virtual hosts with the configured token", target_fixture="outcome")
def vhosts_with_configured_token(ome_client):
    return attempt(ome_client.vhosts)


@when(parsers.parse('I list the virtual hosts with the token "{token}"'), target_fixture="outcome")
def vhosts_with_token(target, token):
    with target.client(token) as client:
        return attempt(client.vhosts)


@when("I list the virtual hosts without a token", target_fixture="outcome")
def vhosts_without_token(target):
    with target.client(None) as client:
        return attempt(client.vhosts)
