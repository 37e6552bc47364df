"""Steps of features/ingest.feature."""

from pytest_bdd import parsers, scenarios, then, when

from ome_harness.media.encoder import EncoderError
from ome_harness.media.publishing import expect_live, input_track_layout

scenarios("ingest.feature")


@when(parsers.parse('the test signal is published over RTMP into the application "{app}"'),
      target_fixture="publication")
def published_into_app(publish, app):
    return publish(app=app)


@when("the stream is deleted through the API")
def delete_the_stream(ome_client, publication):
    live = expect_live(publication)
    ome_client.delete_stream(live.vhost, live.app, live.name)


@then("the stream is listed within the deadline")
def listed_within_the_deadline(publication, ome_client):
    live = expect_live(publication)  # the encoder waited for the listing, up to media.listed_deadline_s
    assert live.name in ome_client.streams(live.vhost, live.app), f"{live.name} is not in OME's stream list"


@then(parsers.parse("OME fills in the tracks within {seconds:d} seconds of listing the stream"))
def tracks_filled(publication, seconds):
    after = expect_live(publication).tracks_after_s  # publish() waited up to TRACKS_DEADLINE_S
    assert after is not None and after <= seconds, f"tracks not filled within {seconds}s: {publication.problems}"


@then("the input carries a Data track before its video and audio")
def data_track_first(publication):
    layout = input_track_layout(expect_live(publication).listed)
    assert layout[:1] == ["Data"] and {"Video", "Audio"} <= set(layout), f"input tracks: {layout}"


@then("the listed tracks match the test signal")
def tracks_match(publication):
    problems = expect_live(publication).problems
    assert problems == [], "; ".join(problems)


@then("the stream names its publisher's connection")
def names_its_publisher(publication):
    source = expect_live(publication).listed.input
    assert source.source_url and "://" in source.source_url, f"no publisher address: {source.source_url!r}"


@then(parsers.parse("the encoder is disconnected within {seconds:d} seconds"))
def encoder_disconnected(publication, seconds):
    exited = expect_live(publication).encoder.wait_exit(seconds)
    assert exited is not None, f"the encoder still publishes {seconds}s later"


@then("the publish is refused and the encoder's last words are shown")
def publish_refused(publication):
    assert isinstance(publication, EncoderError), "OME accepted a publish into an application it does not have"
    assert "ffmpeg" in str(publication)
