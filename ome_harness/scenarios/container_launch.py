"""What the container feature's steps call: launch for inspection, look at the container, expect outcomes."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
from docker.errors import ImageNotFound
from pydantic import SecretStr

from ome_harness import __version__
from ome_harness.config import HarnessConfig
from ome_harness.container import labels as lbl
from ome_harness.container.docker_engine import connect_engine
from ome_harness.container.errors import ContainerError, ContainerExited, EngineUnavailable
from ome_harness.container.launcher import LaunchedOme, OmeContainer
from ome_harness.ome.errors import OmeUnauthorized
from ome_harness.redaction import MASK
from ome_harness.scenarios.plugin import STANDIN_OPT_IN
from ome_harness.target.base import OmeTarget
from ome_harness.target.container import target_for
from ome_harness.testing import require

STANDIN_IMAGE = os.environ.get("OMH_TEST_STANDIN_IMAGE") or f"ome-harness/ome-standin:{__version__}"
# A token OME itself writes in its start-up line (real OME and the stand-in alike): launched with it,
# the kept log must show the mask where that word was, so a redaction that silently does nothing fails.
TOKEN_IN_OME_LOG = "OvenMediaEngine"


def image_for_scenarios(cfg: HarnessConfig, request: pytest.FixtureRequest) -> str:
    """The image the container feature launches, recorded on the scenario for the report.

    --target container: the image the run targets (container.image / --image). Against a URL or the
    emulator the feature has no image of the user's to launch, so it is skipped with that reason —
    except in this repository's own test run, which opts in (pytest ini `omh_container_feature_standin`)
    to launch the locally built stand-in image, the same way a user's run launches the official one.
    """
    if cfg.target == "container":
        image, note = cfg.container.image, "the image the run targets"
    elif request.config.getini(STANDIN_OPT_IN):
        image, note = STANDIN_IMAGE, "the harness's stand-in image (the emulator in a container, not OME)"
    else:
        pytest.skip(f"the container feature launches OME from an image; --target {cfg.target} names none "
                    "(run it with --target container [--image IMAGE])")
    try:
        client = connect_engine(cfg.container.engine_timeout)
    except EngineUnavailable as exc:
        require(False, f"needs a Docker engine: {exc}")
    with contextlib.closing(client):
        if image == STANDIN_IMAGE:
            try:
                client.images.get(STANDIN_IMAGE)
            except ImageNotFound:
                require(False, f"needs the stand-in image {STANDIN_IMAGE}: run scripts/build-emulator-image")
    # The collector turns this into the scenario's "image" evidence in test-report.md/json.
    request.node.user_properties.append(("image", f"{image} ({note})"))
    return image


@dataclass
class LaunchAttempt:
    """One launch the scenario watches: its result or error, and the container it made."""

    launcher: OmeContainer
    cfg: HarnessConfig
    # repr=False: a launched OME carries its access token.
    launched: LaunchedOme | None = field(default=None, repr=False)
    error: ContainerError | None = None

    @property
    def target(self) -> OmeTarget:
        assert self.launched is not None, f"the launch failed: {self.error}"
        return target_for(self.launched, self.cfg)

    def containers(self) -> list[docker.models.containers.Container]:
        return self.launcher.containers_of_run()

    def close(self) -> None:
        self.launcher.remove()


def launch_for_scenario(cfg: HarnessConfig, image: str, owned: contextlib.ExitStack, *,
                        token: str | None = None) -> LaunchAttempt:
    """Launch OME from `image`, removed when `owned` closes; a failure is recorded, not raised."""
    cfg = cfg.model_copy(deep=True)
    cfg.container.image = image
    if token is not None:
        cfg.container.token = SecretStr(token)
    attempt = LaunchAttempt(OmeContainer(cfg), cfg)
    # Registered before the start: a signal right after the container exists still removes it.
    owned.callback(attempt.close)
    try:
        attempt.launched = attempt.launcher.start()
    except ContainerError as exc:
        attempt.error = exc
    return attempt


def expect_running_and_labelled(attempt: LaunchAttempt) -> None:
    (container,) = attempt.containers()
    assert container.status == "running", f"container {container.name} is {container.status}"
    assert container.labels.get(lbl.OWNER_LABEL) == lbl.OWNER, f"labels: {container.labels}"
    assert container.labels.get(lbl.RUN_ID_LABEL) == attempt.launcher.run_id


def expect_version_on_published_loopback_port(attempt: LaunchAttempt) -> str:
    (container,) = attempt.containers()
    binding = container.attrs["NetworkSettings"]["Ports"]["8081/tcp"][0]
    target = attempt.target
    assert target.api_url == f"http://{binding['HostIp']}:{binding['HostPort']}", (target.api_url, binding)
    assert binding["HostIp"] == "127.0.0.1", f"the API is published on {binding['HostIp']}, not loopback"
    with target.client() as client:
        return client.version().version


def expect_refused_without_token(attempt: LaunchAttempt) -> None:
    with attempt.target.client(token=None) as client:
        try:
            client.version()
        except OmeUnauthorized:
            return
    raise AssertionError("the API answered a request without the token")


def expect_removed(attempt: LaunchAttempt) -> None:
    left = attempt.containers()
    assert not left, f"still present: {[c.name for c in left]}"


def expect_log_kept(attempt: LaunchAttempt) -> Path:
    path = attempt.launcher.log_path
    assert path is not None and path.is_file(), f"no container log at {path}"
    text = path.read_text(encoding="utf-8")
    assert text.strip(), f"{path} is empty"
    assert "\x1b[" not in text, f"{path} keeps terminal colour codes"
    token = attempt.launcher.token
    if token:
        assert token not in text, f"{path} contains the token"
        if token == TOKEN_IN_OME_LOG:
            assert MASK in text, f"{path} shows no mask where OME wrote {TOKEN_IN_OME_LOG!r}: {text[:300]!r}"
    return path


def expect_exit_before_ready(attempt: LaunchAttempt, *, quote: str) -> None:
    """Exited before ready is a failure whatever the exit code (a real OME exits 0 after refusing)."""
    error = attempt.error
    assert isinstance(error, ContainerExited), f"expected an exit before ready, got {error or 'a ready OME'}"
    quoted = any(quote in line for line in error.complaints) and quote in str(error)
    assert quoted, f"{quote!r} not quoted in: {error}"
