"""What can go wrong launching OME in a container; every message is a sentence a user can act on."""

from __future__ import annotations


class ContainerError(Exception):
    """The harness could not provide a running OME container (CLI: one line, exit code 2)."""


class EngineUnavailable(ContainerError):
    """No Docker engine answers where DOCKER_HOST (or the default socket) points."""


class ImageUnavailable(ContainerError):
    """The image is not present locally and could not be pulled."""


class ContainerStartFailed(ContainerError):
    """The container was created but did not become ready; carries what it left behind."""

    def __init__(self, message: str, *, exit_code: int | None = None, log_tail: str = "",
                 log_path: str | None = None, complaints: list[str] | None = None) -> None:
        self.exit_code, self.log_tail, self.log_path = exit_code, log_tail, log_path
        # OME's own error lines from the whole log (secrets masked): its reason, in its words.
        self.complaints = complaints or []
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        if self.complaints:
            text += " OME logged: " + " / ".join(f"`{line}`" for line in self.complaints) + "."
        if self.log_path:
            text += f" Full log: {self.log_path}."
        if self.log_tail:
            text += "\nLast lines of the container log:\n" + self.log_tail
        return text


class ContainerExited(ContainerStartFailed):
    """The container stopped before the API answered: a failure whatever its exit code (OME exits 0
    after refusing an empty AccessToken, ../shared/samples/v0.20.0-media/empty_token_container_exit.txt)."""


class ContainerNotReady(ContainerStartFailed):
    """The readiness deadline passed while the container was still running."""
