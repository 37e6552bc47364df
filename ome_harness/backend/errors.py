"""The one error the backend's workflows raise: an HTTP status, a stable code and a sentence."""

from __future__ import annotations

from typing import Any


class BackendError(Exception):
    """Becomes a JSON answer `{code, message, degraded, details}` with `status`."""

    def __init__(self, status: int, code: str, message: str, *, degraded: bool = False,
                 details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.degraded, self.details = degraded, details

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "degraded": self.degraded,
            "details": self.details,
        }
