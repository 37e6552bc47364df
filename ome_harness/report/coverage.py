"""Which scenarios prove which backend endpoint and which 'Implementation Status' item: by tag, declared here.

A backend scenario carries one `@endpoint_<key>` tag per endpoint it exercises; a checklist item
lists the tags whose scenarios prove it. `tests/test_report_coverage.py` checks the mapping stays
complete (every backend scenario maps to an endpoint, every item and endpoint has a scenario).
"""

from __future__ import annotations

from dataclasses import dataclass

ENDPOINT_TAG_PREFIX = "endpoint_"
BACKEND_TAG = "backend"


@dataclass(frozen=True)
class Endpoint:
    key: str
    title: str
    route: str

    @property
    def tag(self) -> str:
        return ENDPOINT_TAG_PREFIX + self.key


# The backend contract (docs/backend.md), in the example report's order and words.
ENDPOINTS = (
    Endpoint("start", "Stream Start Endpoint", "POST /api/streams/:channelId/start"),
    Endpoint("stop", "Stream Stop Endpoint", "POST /api/streams/:channelId/stop"),
    Endpoint("scte35", "SCTE-35 Insertion Endpoint", "POST /api/streams/:channelId/scte35"),
    Endpoint("listing", "Stream Listing Endpoint", "GET /api/streams"),
    Endpoint("details", "Stream Details Endpoint", "GET /api/streams/:channelId"),
    Endpoint("channels", "Channel Listing Endpoint", "GET /api/channels"),
)


@dataclass(frozen=True)
class Item:
    title: str
    tags: frozenset[str]


# The example report's "Implementation Status" list; an item is ticked only when all its scenarios passed.
CHECKLIST = (
    Item("Stream listing from OME", frozenset({"endpoint_listing"})),
    Item("Stream details with metrics", frozenset({"endpoint_details", "stream_metrics"})),
    Item("Stream start (channel activation)", frozenset({"endpoint_start"})),
    Item("Stream stop (channel deactivation + OME stream deletion)", frozenset({"endpoint_stop"})),
    Item("SCTE-35 marker insertion", frozenset({"endpoint_scte35", "cue_output"})),
    Item("OME client (the backend's calls to OME)", frozenset({"ome_client"})),
    Item("Error handling (refusals, degraded mode)", frozenset({"error_handling"})),
    Item("Audit logging for all operations", frozenset({"audit"})),
    Item("Bearer-token access control", frozenset({"access_control"})),
)

# Tags that say what a scenario proves; registered as markers with the scenario plugin.
COVERAGE_TAGS = {e.tag: f"proves the backend's {e.route}" for e in ENDPOINTS} | {
    "ome_client": "proves the backend's calls to OME",
    "error_handling": "proves the backend's refusals and degraded mode",
    "audit": "proves the backend's audit log",
    "access_control": "proves the backend refuses callers without its token",
    "cue_output": "proves an inserted cue reaches what viewers get",
    "stream_metrics": "proves a live stream's stats are true",
}
