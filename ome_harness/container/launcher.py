"""Launch OME in a container: render its config, publish its ports on loopback, wait until ready, remove."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from rich.console import Console

from ome_harness.addresses import dial_host
from ome_harness.config import HarnessConfig
from ome_harness.container import labels as lbl
from ome_harness.container.docker_engine import connect_engine
from ome_harness.container.errors import ContainerError, ContainerStartFailed
from ome_harness.container.image import ensure_image, image_digest
from ome_harness.container.log_text import complaints, plain
from ome_harness.container.server_xml_render import OmePorts, render_server_xml
from ome_harness.container.stop_signals import stop_signals_deferred, stop_signals_unwind
from ome_harness.container.waiting import ApiAnswersAuthenticated, Deadline, wait_until_ready
from ome_harness.redaction import Redactor

# Where the official image reads its origin config (binary: OvenMediaEngine -c origin_conf).
OME_CONFIG_PATH = "/opt/ovenmediaengine/bin/origin_conf/Server.xml"
PORTS = OmePorts()
# Published ports; 8081 is not in the image's EXPOSE list, so it has to be named here.
PUBLISHED = {"api": f"{PORTS.api}/tcp", "rtmp": f"{PORTS.rtmp}/tcp", "srt": f"{PORTS.srt}/udp",
             "llhls": f"{PORTS.llhls}/tcp", "webrtc_relay": f"{PORTS.webrtc_relay}/tcp"}


@dataclass
class LaunchedOme:
    """A running, ready OME container and how to reach it from this host."""

    name: str
    container_id: str
    run_id: str
    image: str
    image_digest: str
    token: str = field(repr=False)
    host: str
    host_ports: dict[str, int]
    version: str | None
    ready_seconds: float
    log_path: Path | None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://{dial_host(self.host)}:{self.host_ports['api']}"

    @property
    def rtmp_base(self) -> str:
        return f"rtmp://{dial_host(self.host)}:{self.host_ports['rtmp']}"

    @property
    def srt_base(self) -> str:
        return f"srt://{dial_host(self.host)}:{self.host_ports['srt']}"

    @property
    def llhls_base(self) -> str:
        return f"http://{dial_host(self.host)}:{self.host_ports['llhls']}"


class OmeContainer:
    """One OME container owned by this process: start() makes it ready, remove() keeps its log and removes it.

    A context manager, like testcontainers' DockerContainer: `with OmeContainer(cfg) as ome:` yields the
    ready LaunchedOme; a failed start has removed the container before the exception leaves `__enter__`,
    and the end of the block removes it whatever ends it.
    """

    def __init__(self, cfg: HarnessConfig, *, console: Console | None = None,
                 client: docker.DockerClient | None = None) -> None:
        self.cfg, self.settings = cfg, cfg.container
        self.console = console or Console(stderr=True)
        self._client = client
        self.run_id = lbl.new_run_id()
        self.name = f"ome-harness-{self.run_id}"
        token = self.settings.token
        # An explicitly empty token is passed through: OME refuses it at start, and that is reported.
        self.token = token.get_secret_value() if token is not None else secrets.token_urlsafe(24)
        self.redact = Redactor([self.token, *cfg.secrets()])
        self.config_dir: Path | None = None
        self.container: Container | None = None
        self.launched: LaunchedOme | None = None
        self.log_path: Path | None = (Path(cfg.report.out) / "containers" / f"{self.name}.log"
                                      if self.settings.keep_logs else None)

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect_engine(self.settings.engine_timeout)
        return self._client

    def start(self) -> LaunchedOme:
        """Pull if needed, create, start and wait for the API; on any failure the container is removed."""
        try:
            return self._start()
        except BaseException as exc:
            if isinstance(exc, ContainerStartFailed):
                exc.log_tail, exc.complaints = self.log_tail(), self.log_complaints()
            self.remove()
            if isinstance(exc, ContainerStartFailed) and self.log_path and self.log_path.exists():
                exc.log_path = str(self.log_path)
            raise

    def __enter__(self) -> LaunchedOme:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _start(self) -> LaunchedOme:
        image = ensure_image(self.client, self.settings.image, pull=self.settings.pull,
                             pull_timeout=self.settings.pull_timeout, console=self.console)
        # Held: a signal between "folder made" and "folder remembered" would strand it for remove().
        with stop_signals_deferred():
            self.config_dir = Path(tempfile.mkdtemp(prefix=lbl.CONFIG_DIR_PREFIX))
        server_xml = self.config_dir / "Server.xml"
        server_xml.write_text(render_server_xml(access_token=self.token, vhost=self.cfg.api.vhost,
                                                app=self.cfg.api.app, run_id=self.run_id, ports=PORTS,
                                                template=self.settings.server_xml_template), encoding="utf-8")
        # The directory is private (0700); the file is readable so images running as non-root can read it.
        server_xml.chmod(0o644)
        labels = lbl.labels_for(self.run_id, self.settings.image, self.config_dir, self.settings.labels)
        host = self.settings.bind_address
        ports = {PUBLISHED[key]: (host, self.settings.host_ports.get(key) or None) for key in PUBLISHED}
        deadline = Deadline(self.settings.ready_timeout)
        try:
            # Held until the engine answers: cut off mid-request, the engine still creates the container,
            # possibly after remove() has looked for it by label (the chaos test caught one "created").
            with stop_signals_deferred():
                self.container = self.client.containers.run(
                    image.id, detach=True, name=self.name, labels=labels, ports=ports,
                    volumes={str(server_xml): {"bind": OME_CONFIG_PATH, "mode": "ro"}})
        except APIError as exc:
            raise ContainerError(f"The Docker engine could not start a container from {self.settings.image}: "
                                 f"{exc.explanation or exc}.") from None
        strategy = ApiAnswersAuthenticated(self._api_url(host), self.token)
        wait_until_ready(self.container, strategy, deadline)
        self.launched = LaunchedOme(
            name=self.name, container_id=self.container.id, run_id=self.run_id, image=self.settings.image,
            image_digest=image_digest(image), token=self.token, host=host, host_ports=self._host_ports(),
            version=strategy.version, ready_seconds=deadline.elapsed(), log_path=self.log_path, labels=labels)
        return self.launched

    def _api_url(self, host: str) -> str:
        # Ports are known once the container runs; if it already stopped, the wait reports that.
        try:
            port = self._host_ports()["api"]
        except ContainerError:
            port = 0
        return f"http://{dial_host(host)}:{port}"

    def _host_ports(self) -> dict[str, int]:
        assert self.container is not None
        self.container.reload()
        published = self.container.attrs["NetworkSettings"]["Ports"] or {}
        found: dict[str, int] = {}
        for key, spec in PUBLISHED.items():
            bindings = published.get(spec) or []
            if not bindings:
                raise ContainerError(f"Container {self.name} has no host port for {spec}.")
            found[key] = int(bindings[0]["HostPort"])
        return found

    def remove(self) -> None:
        """Keep the log, then remove every container of this run and its rendered config; never raises."""
        with stop_signals_deferred():
            try:
                # Never having reached an engine means nothing was created there.
                containers = [] if self._client is None else self.containers_of_run()
                for container in containers:
                    try:
                        save_log(container, self.log_path, self.redact, console=self.console)
                    finally:
                        self._remove_one(container)
            finally:
                # The rendered config holds the token: it goes even when something above failed.
                if self.config_dir is not None:
                    shutil.rmtree(self.config_dir, ignore_errors=True)

    def _remove_one(self, container: Container) -> None:
        try:
            remove_container(container)
        except DockerException as exc:
            self.console.print(f"ome-harness: warning: could not remove container {container.name}: {exc}; "
                               "`ome-harness down` removes it later.", markup=False, highlight=False)

    def containers_of_run(self) -> list[Container]:
        """Every container, running or not, labelled with this run's id."""
        # By label, not by the handle: a signal between "created" and "handle returned" leaves no handle.
        try:
            return self.client.containers.list(all=True, ignore_removed=True,
                                               filters={"label": f"{lbl.RUN_ID_LABEL}={self.run_id}"})
        except DockerException:
            return [self.container] if self.container is not None else []

    def log_tail(self) -> str:
        """The last `container.log_tail` lines of the container's log, secrets masked."""
        if self.container is None:
            return ""
        try:
            raw = self.container.logs(stdout=True, stderr=True, tail=self.settings.log_tail)
        except DockerException:
            return ""
        return self.redact(plain(raw)).rstrip("\n")

    def log_complaints(self) -> list[str]:
        """OME's error lines from the whole log, secrets masked: why it stopped, wherever it said so."""
        if self.container is None:
            return []
        try:
            raw = self.container.logs(stdout=True, stderr=True)
        except DockerException:
            return []
        return [self.redact(line) for line in complaints(plain(raw))]


def save_log(container: Container, path: Path | None, redact: Redactor, *,
             console: Console | None = None) -> Path | None:
    """Write the container's whole log (stdout and stderr, colours stripped, secrets masked) to `path`;
    None when it cannot."""
    if path is None:
        return None
    try:
        raw = container.logs(stdout=True, stderr=True)
    except DockerException:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(plain(raw)), encoding="utf-8")
    except OSError as exc:
        # An unwritable report directory must not keep the container (and its token) alive.
        (console or Console(stderr=True)).print(
            f"ome-harness: warning: could not keep the log of container {container.name} at {path}: "
            f"{exc.strerror or exc}.", markup=False, highlight=False)
        return None
    return path


def remove_container(container: Container) -> None:
    with contextlib.suppress(NotFound):
        try:
            container.remove(force=True, v=True)
        except APIError as exc:
            # "removal already in progress" is someone else finishing the job for us.
            if "already in progress" not in str(exc):
                raise


@contextlib.contextmanager
def launch_ome_container(cfg: HarnessConfig, *, console: Console | None = None) -> Iterator[LaunchedOme]:
    """A ready OME container for the block; removed afterwards, also on exceptions, SIGINT and SIGTERM."""
    with stop_signals_unwind(), OmeContainer(cfg, console=console) as ome:
        yield ome
