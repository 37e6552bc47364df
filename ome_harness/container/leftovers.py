"""Containers of earlier runs: find them by label, keep their logs, remove them (and only them)."""

from __future__ import annotations

import contextlib
import io
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import docker
from docker.errors import DockerException
from docker.models.containers import Container

from ome_harness.config import ConfigError
from ome_harness.container import labels as lbl
from ome_harness.container.launcher import OME_CONFIG_PATH, remove_container, save_log
from ome_harness.ome.server_xml import read_server_xml
from ome_harness.redaction import Redactor

MAX_CONFIG_ARCHIVE = 1 << 20


@dataclass(frozen=True)
class RemovedContainer:
    name: str
    run_id: str
    image: str
    log_path: Path | None


def launched_containers(client: docker.DockerClient) -> list[Container]:
    """Every container carrying the harness's owner label, newest first."""
    # ignore_removed: other runs remove their containers while we list (seen under parallel tests).
    found = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{lbl.OWNER_LABEL}={lbl.OWNER}"}
    )
    return sorted(found, key=lambda c: c.attrs.get("Created", ""), reverse=True)


def is_leftover(container: Container) -> bool:
    """A container whose launcher process is gone (a crash, `up --detach`, a killed CI job)."""
    return not lbl.launcher_alive(container.labels.get(lbl.LAUNCHER_LABEL, ""))


def redactor_for(container: Container) -> Redactor:
    """Masks the token the container was configured with: from its Server.xml inside, else the rendered copy
    here."""
    redactor = Redactor()
    token = token_in_container(container)
    if token:
        redactor.add(token)
        return redactor
    config_dir = lbl.owned_config_dir(container.labels)
    if config_dir is not None and (config_dir / "Server.xml").is_file():
        with contextlib.suppress(ConfigError):
            redactor.add(read_server_xml(config_dir / "Server.xml", env={}).access_token)
    return redactor


def token_in_container(container: Container) -> str | None:
    """The <AccessToken> of the Server.xml the container reads (works whatever TMPDIR `down` runs with)."""
    try:
        chunks, _ = container.get_archive(OME_CONFIG_PATH)
        data = bytearray()
        for chunk in chunks:
            data += chunk
            if len(data) > MAX_CONFIG_ARCHIVE:  # a Server.xml is a few kB; the container is untrusted
                return None
    except DockerException:
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            extracted = tar.extractfile(member) if member is not None else None
            text = extracted.read() if extracted is not None else b""
        token = ElementTree.fromstring(text).findtext("Managers/API/AccessToken")
    except (tarfile.TarError, ElementTree.ParseError):
        return None
    return token.strip() if token and token.strip() else None


def remove_leftovers(client: docker.DockerClient, logs_dir: Path | None, *,
                     include_live: bool = False) -> list[RemovedContainer]:
    """Remove labelled containers of finished runs (with include_live, also of running ones)."""
    removed: list[RemovedContainer] = []
    for container in launched_containers(client):
        if not include_live and not is_leftover(container):
            continue
        log_path = logs_dir / f"{container.name}.log" if logs_dir is not None else None
        try:
            save_log(container, log_path, redactor_for(container))
        finally:
            try:
                remove_container(container)
            except DockerException:
                continue
        config_dir = lbl.owned_config_dir(container.labels)
        if config_dir is not None:
            shutil.rmtree(config_dir, ignore_errors=True)
        removed.append(RemovedContainer(container.name, container.labels.get(lbl.RUN_ID_LABEL, "?"),
                                        container.labels.get(lbl.IMAGE_LABEL, "?"), log_path))
    return removed
