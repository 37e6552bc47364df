"""Steps of features/metrics_endpoint.feature."""

from pytest_bdd import parsers, scenarios, then, when

from ome_harness.scenarios.outcome import attempt, expect_success

scenarios("metrics_endpoint.feature")

LEVELS = {"server": lambda c, t: c.stats(), "vhost": lambda c, t: c.stats(t.vhost),
          "app": lambda c, t: c.stats(t.vhost, t.app)}


@when(parsers.parse("I ask for the {level} stats"), target_fixture="outcome")
def ask_stats(ome_client, target, level):
    return attempt(lambda: LEVELS[level](ome_client, target))


@when(parsers.parse('I ask for the stats of the stream "{name}"'), target_fixture="outcome")
def ask_stream_stats(ome_client, target, name):
    return attempt(lambda: ome_client.stats(target.vhost, target.app, name))


@then("the stats carry byte counters and timestamps")
def stats_shape(outcome):
    stats = expect_success(outcome)
    assert stats.total_bytes_in >= 0 and stats.last_updated_time >= stats.created_time
