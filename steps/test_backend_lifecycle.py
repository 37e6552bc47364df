"""Steps of features/backend_lifecycle.feature."""

from pytest_bdd import scenarios, then, when

from ome_harness.backend.under_test import needs

scenarios("backend_lifecycle.feature")


@then("the answer carries the channel's stream key")
def the_answer_carries_the_key(backend, answer, channel):
    key = backend.expect(answer, 200).get("stream_key")
    same = bool(key) and channel.stream_key in (None, key)
    assert same, "no stream_key in the answer" if not key else "the key differs from the one the channel was created with"


@then("the database stores the stream key that was handed out")
def the_database_stores_the_key(backend, channel, answer):
    needs(lambda: backend.db).expect_stream_key(channel.id, answer.field("stream_key"))


@then("OME no longer lists the channel's stream")
def ome_no_longer_lists(backend, channel):
    backend.wait_gone(channel)


@when("an encoder publishes with the stream key it was given")
def an_encoder_publishes(backend, channel, answer):
    needs(lambda: backend.publish_as_channel(channel, answer.field("stream_key")))


@then("OME lists the channel's stream")
def ome_lists(backend, channel):
    listed = backend.ome_lists(channel)
    assert listed, f"OME does not list {backend.shown(channel.stream)!r}"


@then("the backend lists the stream as the channel's")
def the_backend_lists(backend, channel):
    streams = backend.expect(backend.api.streams(), 200)["streams"]
    listed = {"name": channel.stream, "channel_id": channel.id} in streams
    assert listed, f"not listed as the channel's: {backend.shown(streams)}"
