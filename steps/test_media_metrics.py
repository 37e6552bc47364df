"""Steps of features/media_metrics.feature."""

from pytest_bdd import scenarios, then, when

from ome_harness.media.metrics import stats_after_stop
from ome_harness.media.publishing import expect_live, measure_ingest

scenarios("media_metrics.feature")


@when("its stats are sampled while it publishes", target_fixture="metrics")
def sample_the_stats(ome_client, publication, harness_config, keep_for_report):
    measured = measure_ingest(ome_client, expect_live(publication), window_s=harness_config.media.stats_window_s)
    return keep_for_report("bitrate", measured)


@then("the received bytes grow and the clocks move")
def bytes_grow(metrics):
    assert not [p for p in metrics.problems if "bitrate" not in p], "; ".join(metrics.problems)


@then("the incoming bitrate matches the encoder's within the tolerance")
def bitrate_matches(metrics):
    assert metrics.derived_bitrate is not None and metrics.ok, "; ".join(metrics.problems)


@then("the stream's stats are gone or frozen")
def stats_gone(ome_client, publication):
    live = expect_live(publication)
    assert stats_after_stop(ome_client, live.vhost, live.app, live.name) in ("gone", "frozen")
