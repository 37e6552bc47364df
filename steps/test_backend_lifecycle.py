"""Steps of features/backend_lifecycle.feature."""

from pytest_bdd import scenarios, then, when

from ome_harness.backend.under_test import expect_answer, needs

pytest_plugins = ["ome_harness.scenarios.backend_fixtures", "backend_steps"]

scenarios("backend_lifecycle.feature")


@then("the answer carries the channel's stream key")
def the_answer_carries_the_key(answer, channel):
    body = expect_answer(answer, 200)
    assert body.get("stream_key"), f"no stream_key in the answer: {body}"
    assert channel.stream_key in (None, body["stream_key"]), "the key differs from the one the channel was created with"


@then("the database stores the stream key that was handed out")
def the_database_stores_the_key(backend, channel, answer):
    backend.db.expect_stream_key(channel.id, answer.field("stream_key"))


@then("OME no longer lists the channel's stream")
def ome_no_longer_lists(backend, channel):
    backend.wait_gone(channel.stream)


@when("an encoder publishes with the stream key it was given")
def an_encoder_publishes(backend, answer):
    needs(lambda: backend.publish(answer.field("ome")["stream"]))


@then("OME lists the channel's stream")
def ome_lists(backend, channel):
    assert backend.ome_lists(channel.stream), f"OME does not list {channel.stream!r}"


@then("the backend lists the stream as the channel's")
def the_backend_lists(backend, channel):
    streams = expect_answer(backend.api.streams(), 200)["streams"]
    assert {"name": channel.stream, "channel_id": channel.id} in streams, f"not listed as the channel's: {streams}"
