"""What leaves the recording machine: no token anywhere, no address of the recorded hosts.

Tokens go through the project's redactor (known values and their base64 form, and by position:
`Authorization` headers, `access_token=` in URLs, token fields in JSON). Addresses are replaced
consistently (the same address always by the same stand-in) by documentation addresses
(RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849: 2001:db8::/32) and host names by
names under `.example` (RFC 2606), as the hand-made samples do for WebRTC candidates. Loopback stays:
it names no machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from ome_harness.redaction import Redactor

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Stand-ins are handed out in this order: the first 250 of each range, then the next range.
_V4_POOLS = ("192.0.2.", "198.51.100.", "203.0.113.")


class Scrubber:
    """Removes the token(s) and replaces addresses and host names; remembers what it replaced."""

    def __init__(self, secrets: Iterable[str | None] = (), hostnames: Iterable[str] = ()) -> None:
        self._redactor = Redactor([s for s in secrets if s])
        self._addresses: dict[str, str] = {}
        self._names: dict[str, str] = {}
        for name in hostnames:
            self.learn_host(name)

    def learn_host(self, host: str | None) -> None:
        """A host name the recording talked to: replaced wherever it appears (addresses are found alone)."""
        if not host or host == "localhost":
            return
        if _is_address(host):
            self._address(host.strip("[]"))  # the recorded hosts take the first stand-ins
            return
        self._names.setdefault(host, f"ome-host-{len(self._names) + 1}.example")

    def __call__(self, text: str) -> str:
        text = self._redactor(text)
        for name in sorted(self._names, key=len, reverse=True):
            text = text.replace(name, self._names[name])
        text = _IPV4.sub(lambda m: self._address(m.group(0)), text)
        return _IPV6.sub(lambda m: self._address(m.group(0)), text)

    def _address(self, found: str) -> str:
        try:
            address = ipaddress.ip_address(found)
        except ValueError:
            return found
        # Documentation addresses are replaced too: a host may really use one (this project's CI does), and
        # leaving it would tell that host apart from the stand-ins.
        if address.is_loopback or address.is_unspecified:
            return found
        if found not in self._addresses:
            self._addresses[found] = self._stand_in(address.version)
        return self._addresses[found]

    def _stand_in(self, version: int) -> str:
        """The next free documentation address, never one of the addresses being replaced."""
        used = set(self._addresses.values()) | set(self._addresses)
        for n in range(1, 751):
            pool, index = divmod(n - 1, 250)
            candidate = f"2001:db8::{n:x}" if version == 6 else f"{_V4_POOLS[pool]}{index + 1}"
            if candidate not in used:
                return candidate
        return "2001:db8::ffff" if version == 6 else "203.0.113.255"

    def summary(self) -> dict[str, object]:
        """For the manifest: what was done, naming only the stand-ins (never what they replace)."""
        return {
            "tokens": "removed from request lines, headers and bodies (shown as ********); each request "
            "says which credential was sent (the recording's token, a wrong one, none)",
            "addresses": "the recorded hosts' own addresses replaced consistently by documentation "
            "addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); "
            "loopback kept",
            "stand_ins": sorted(self._addresses.values()) + sorted(self._names.values()),
        }


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
