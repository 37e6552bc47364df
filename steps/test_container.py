"""Steps of features/container.feature."""

import contextlib

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from ome_harness.scenarios import container_launch as launch

scenarios("container.feature")


@given("a Docker engine with the OME image", target_fixture="image")
def engine_with_image(harness_config, request):
    return launch.image_for_scenarios(harness_config, request)


@pytest.fixture
def launches():
    with contextlib.ExitStack() as owned:
        yield owned


@when("the harness launches OME in a container", target_fixture="attempt")
def launch_ome(harness_config, image, launches):
    return launch.launch_for_scenario(harness_config, image, launches, token=launch.TOKEN_IN_OME_LOG)


@when("the harness launches OME in a container with an empty access token", target_fixture="attempt")
def launch_ome_empty_token(harness_config, image, launches):
    return launch.launch_for_scenario(harness_config, image, launches, token="")


@when("the harness is done with the container")
def done_with_container(attempt):
    attempt.close()


@then("the container is running and labelled as the harness's own")
def running_and_labelled(attempt):
    launch.expect_running_and_labelled(attempt)


@then("OME names its version through the API port published on this machine")
def version_through_port(attempt):
    assert launch.expect_version_on_published_loopback_port(attempt)


@then("the API refuses a request without the access token")
def refused_without_token(attempt):
    launch.expect_refused_without_token(attempt)


@then("the container is gone")
def container_gone(attempt):
    launch.expect_removed(attempt)


@then("its log is kept with the reports, without the access token")
def log_kept(attempt):
    launch.expect_log_kept(attempt)


@then(parsers.parse('the launch fails because OME exited before it was ready, quoting "{quote}"'))
def launch_fails(attempt, quote):
    launch.expect_exit_before_ready(attempt, quote=quote)
