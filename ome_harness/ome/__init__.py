"""Everything about reaching OvenMediaEngine's REST API v1: one client, its models, its errors."""

from ome_harness.ome.client import Exchange, OmeClient
from ome_harness.ome.errors import (
    AnswerTooLarge,
    HtmlAnswer,
    NotHttpAnswer,
    NotJsonAnswer,
    OmeApiError,
    OmeBadRequest,
    OmeBadResponse,
    OmeError,
    OmeNotFound,
    OmeTimeout,
    OmeUnauthorized,
    OmeUnreachable,
    PlainHttpAnswer,
    TlsHandshakeFailed,
    UnexpectedShape,
)

__all__ = [
    "AnswerTooLarge",
    "Exchange",
    "HtmlAnswer",
    "NotHttpAnswer",
    "NotJsonAnswer",
    "OmeApiError",
    "OmeBadRequest",
    "OmeBadResponse",
    "OmeClient",
    "OmeError",
    "OmeNotFound",
    "OmeTimeout",
    "OmeUnauthorized",
    "OmeUnreachable",
    "PlainHttpAnswer",
    "TlsHandshakeFailed",
    "UnexpectedShape",
]
