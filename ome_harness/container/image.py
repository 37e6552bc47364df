"""Make sure the image is on the engine: use it when present, pull it (with a progress bar) when not."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import docker
from docker.errors import APIError, DockerException, ImageNotFound
from docker.models.images import Image
from requests.exceptions import RequestException
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from ome_harness.container.errors import ContainerError, ImageUnavailable
from ome_harness.polling import Deadline

T = TypeVar("T")


def ensure_image(client: docker.DockerClient, reference: str, *, pull: bool = True,
                 pull_timeout: float = 600.0, console: Console | None = None) -> Image:
    """The local image for `reference`, pulled first when missing (and pulling is allowed)."""
    try:
        return client.images.get(reference)
    except ImageNotFound:
        pass
    except APIError as exc:
        raise ContainerError(
            f"The Docker engine could not look up image {reference}: {_explain(exc)}."
        ) from None
    if not pull:
        raise ImageUnavailable(
            f"Image {reference} is not on the Docker engine and pulling is off (container.pull: false). "
            "Load or build it there first, or allow pulling.")
    pull_image(client, reference, timeout=pull_timeout, console=console)
    try:
        return client.images.get(reference)
    except DockerException as exc:
        raise ImageUnavailable(
            f"Image {reference} was pulled but the engine cannot find it: {_explain(exc)}."
        ) from None


def pull_image(client: docker.DockerClient, reference: str, *, timeout: float = 600.0,
               console: Console | None = None) -> None:
    """Pull with one progress bar per layer; any failure is an ImageUnavailable naming the image."""
    console = console or Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            layers: dict[str, int] = {}
            overall = progress.add_task(f"pulling {reference}", total=None)
            for event in events_within(lambda: client.api.pull(reference, stream=True, decode=True), timeout):
                # A failed pull often arrives as an event in a 200 stream, not as an HTTP error.
                if "error" in event:
                    raise ImageUnavailable(_pull_failed(reference, str(event["error"])))
                layer, detail = event.get("id"), event.get("progressDetail") or {}
                if layer and detail.get("total"):
                    if layer not in layers:
                        layers[layer] = progress.add_task(f"  {layer}", total=detail["total"])
                    progress.update(layers[layer], completed=detail.get("current", 0))
                progress.update(overall, description=f"pulling {reference}: {event.get('status', '')}")
    except PullTimedOut:
        raise ImageUnavailable(f"Pulling image {reference} took longer than {timeout:g}s "
                               "(container.pull_timeout); the pull was abandoned.") from None
    except ImageUnavailable:
        raise
    except (DockerException, RequestException) as exc:
        raise ImageUnavailable(_pull_failed(reference, _explain(exc))) from None


class PullTimedOut(Exception):
    """The engine's pull stream did not finish within its deadline."""


def events_within(open_stream: Callable[[], Iterable[T]], seconds: float) -> Iterator[T]:
    """The items of a blocking stream, raising PullTimedOut once `seconds` pass, even if it never answers."""
    # docker-py reads the pull stream without a socket timeout: only another thread can give up on it.
    box: queue.Queue[tuple[object, BaseException | None]] = queue.Queue()

    def pump() -> None:
        try:
            for item in open_stream():
                box.put((item, None))
        except BaseException as exc:  # handed to the caller's thread, which decides
            box.put((_END, exc))
        else:
            box.put((_END, None))

    threading.Thread(target=pump, name="image-pull", daemon=True).start()
    deadline = Deadline(seconds)  # not poll_until: the wait is for the next item, which blocks, not a probe
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise PullTimedOut
        try:
            item, error = box.get(timeout=remaining)
        except queue.Empty:
            raise PullTimedOut from None
        if error is not None:
            raise error
        if item is _END:
            return
        yield item  # type: ignore[misc]


_END = object()


def image_digest(image: Image) -> str:
    """The registry digest when the image came from one, else the local image id (also a sha256)."""
    for repo_digest in image.attrs.get("RepoDigests") or []:
        if "@" in repo_digest:
            return repo_digest.split("@", 1)[1]
    return image.id


def _pull_failed(reference: str, why: str) -> str:
    return (f"Could not pull image {reference}: {why}. If this machine has no registry access, build or "
            "load the image locally (docker load, scripts/build-emulator-image) and pass it with --image.")


def _explain(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
