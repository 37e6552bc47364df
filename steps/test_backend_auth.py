"""Steps of features/backend_auth.feature."""

from pytest_bdd import scenarios, when

scenarios("backend_auth.feature")


@when("the channels are listed without a bearer token", target_fixture="answer")
def list_channels_without_a_token(backend):
    return backend.caller("none").call("GET", "/api/channels")


@when("the channels are listed with a wrong bearer token", target_fixture="answer")
def list_channels_with_a_wrong_token(backend):
    return backend.caller("wrong").call("GET", "/api/channels")


@when("the channel is started with a wrong bearer token", target_fixture="answer")
def start_with_a_wrong_token(backend, channel, step_started):
    return backend.caller("wrong").start(channel.id)
