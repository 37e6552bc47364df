"""Steps of features/streams_endpoint.feature."""

from pytest_bdd import parsers, scenarios, then, when

from ome_harness.scenarios.outcome import attempt, expect_listed, expect_stream_names

scenarios("streams_endpoint.feature")


@when("I list the streams of the configured application", target_fixture="outcome")
def list_streams(ome_client, target):
    return attempt(lambda: ome_client.streams(target.vhost, target.app))


@when(parsers.parse('I ask for the stream "{name}"'), target_fixture="outcome")
def ask_stream(ome_client, target, name):
    return attempt(lambda: ome_client.stream(target.vhost, target.app, name))


@when(parsers.parse('I ask for the virtual host "{name}"'), target_fixture="outcome")
def ask_vhost(ome_client, name):
    return attempt(lambda: ome_client.vhost(name))


@then("the answer is a list of distinct stream names")
def list_of_names(outcome):
    expect_stream_names(outcome)


@then("the list names the published stream")
def list_names_the_stream(outcome, publication):
    expect_listed(outcome, publication.name)
