"""Steps shared by the backend features (shared with every steps/ module through steps/conftest.py)."""

from pytest_bdd import given, parsers, then, when

from ome_harness.backend.under_test import needs


@given("the stream backend", target_fixture="backend")
def the_stream_backend(stream_backend):
    return stream_backend


@given("a new channel", target_fixture="channel")
def a_new_channel(backend):
    return backend.new_channel()


@given(parsers.parse("a SCTE-35 marker for a {seconds:d} second break"), target_fixture="marker")
def a_marker(backend, seconds):
    return backend.new_marker(seconds)


@given("the channel is started")
def the_channel_is_started(backend, channel):
    backend.expect(backend.api.start(channel.id), 200)


@given("a publisher is live on the channel")
def a_publisher_is_live(backend, channel):
    needs(lambda: backend.make_live(channel))


@when("the channel is started", target_fixture="answer")
def start_the_channel(backend, channel, step_started):
    return backend.api.start(channel.id)


@when("the channel is stopped", target_fixture="answer")
def stop_the_channel(backend, channel, step_started):
    return backend.api.stop(channel.id)


@when("the marker is inserted on the channel", target_fixture="answer")
def insert_the_marker(backend, channel, marker, step_started):
    return backend.insert_marker(channel, marker.id)


@when(parsers.parse('the marker "{marker_id}" is inserted on the channel'), target_fixture="answer")
def insert_a_named_marker(backend, channel, marker_id, step_started):
    return backend.api.insert_scte35(channel.id, marker_id)


@when("the streams are listed through the backend", target_fixture="answer")
def list_the_streams(backend, step_started):
    return backend.api.streams()


@when("the channel's details are asked for", target_fixture="answer")
def ask_the_details(backend, channel, step_started):
    return backend.api.stream(channel.id)


@then(parsers.parse("the backend answers {status:d}"))
def the_backend_answers(backend, answer, status):
    backend.expect(answer, status)


@then(parsers.parse('the backend answers {status:d} with code "{code}"'))
def the_backend_answers_with_code(backend, answer, status, code):
    backend.expect(answer, status, code)


@then(parsers.parse("the backend answers {status:d} in degraded mode"))
def the_backend_answers_degraded(backend, answer, status):
    degraded = backend.expect(answer, status).get("degraded") is True
    assert degraded, f"not flagged degraded: {backend.shown(answer.body)}"


@then(parsers.parse("the database shows the channel {status}"))
def the_database_shows(backend, channel, status):
    needs(lambda: backend.db).expect_channel_status(channel.id, status)


@then(parsers.parse('the audit log records "{action}" for the channel'))
def the_audit_log_records(backend, channel, action, step_started):
    needs(lambda: backend.db).expect_audit(action, channel.id, after=step_started)


@then(parsers.parse('the audit log records a {outcome} "{action}" for the channel'))
def the_audit_log_records_outcome(backend, channel, outcome, action, step_started):
    needs(lambda: backend.db).expect_audit(action, channel.id, after=step_started, outcome=outcome)


@then("the details show the stream live with its metrics")
def the_details_show_live(backend, answer):
    details = backend.expect(answer, 200)
    assert details.get("live") is True and details.get("metrics"), f"not live with metrics: {backend.shown(details)}"
