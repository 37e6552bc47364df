"""Haivision's libsrt (Debian's `libsrt1.5-gnutls`, the library ffmpeg's srt:// uses) through ctypes.

Only what a listener needs: bind, listen with a callback that sees each caller's streamid before
the handshake completes (so an unknown application is refused, as OME's SRT provider does), accept,
non-blocking receive through SRT's epoll, close. Why ctypes and not a PyPI binding: see the README's
dependency section.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
import struct
import threading
from collections.abc import Callable

# Debian 12 ships libsrt 1.5 as libsrt1.5-gnutls (a dependency of its ffmpeg); the openssl flavour
# has the same ABI. find_library covers distributions that install a plain libsrt.so.N.
_CANDIDATES = ("libsrt-gnutls.so.1.5", "libsrt-openssl.so.1.5", "libsrt.so.1.5")
INSTALL_HINT = "install Debian's libsrt1.5-gnutls (`apt-get install -y libsrt1.5-gnutls`)"

# From srt.h (SRT_SOCKOPT, SRT_EPOLL_OPT; stable since 1.4).
SRTO_SNDSYN, SRTO_RCVSYN, SRTO_REUSEADDR, SRTO_STREAMID, SRTO_IPV6ONLY = 1, 2, 15, 46, 54
SRT_EPOLL_IN, SRT_EPOLL_ERR = 0x1, 0x8
SRT_ERROR = -1
LOG_CRIT = 2  # syslog level numbers, as srt_setloglevel takes them
# SRT_REJX_NOTFOUND: the "predefined" (HTTP-like) rejection range starts at 1000.
REJECT_NOT_FOUND = 1404
MAX_PAYLOAD = 1456


class SrtUnavailable(RuntimeError):
    """libsrt is not installed on this machine."""


class SrtError(OSError):
    """A libsrt call failed; the message is libsrt's own."""


class _EpollEvent(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_int)]


# int srt_listen_callback_fn(void* opaque, SRTSOCKET ns, int hsversion, const struct sockaddr* peer,
#                            const char* streamid)
_LISTEN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                    ctypes.c_char_p)

_lib: ctypes.CDLL | None = None
_lib_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """Load and start libsrt once per process; SrtUnavailable (with the install hint) when it is missing."""
    global _lib
    with _lib_lock:
        if _lib is None:
            names = [*_CANDIDATES, ctypes.util.find_library("srt") or ""]
            for name in filter(None, names):
                try:
                    lib = ctypes.CDLL(name)
                except OSError:
                    continue
                _declare(lib)
                # Errors only: libsrt's warnings (a refused caller, an empty accept queue) are expected here.
                lib.srt_setloglevel(LOG_CRIT)
                if lib.srt_startup() < 0:
                    raise SrtUnavailable(f"libsrt ({name}) failed to start: {_last_error(lib)}")
                _lib = lib
                break
            else:
                raise SrtUnavailable(f"libsrt was not found: the emulator's SRT ingest needs it; {INSTALL_HINT}")
        return _lib


def available() -> bool:
    try:
        library()
    except SrtUnavailable:
        return False
    return True


def _declare(lib: ctypes.CDLL) -> None:
    c_int, ptr = ctypes.c_int, ctypes.c_void_p
    for name, args in {
        "srt_startup": [], "srt_create_socket": [], "srt_bind": [c_int, ptr, c_int], "srt_listen": [c_int, c_int],
        "srt_accept": [c_int, ptr, ptr], "srt_close": [c_int], "srt_getsockname": [c_int, ptr, ptr],
        "srt_setsockflag": [c_int, c_int, ptr, c_int], "srt_getsockflag": [c_int, c_int, ptr, ptr],
        "srt_recvmsg": [c_int, ptr, c_int], "srt_listen_callback": [c_int, _LISTEN_CALLBACK, ptr],
        "srt_setrejectreason": [c_int, c_int], "srt_epoll_create": [], "srt_epoll_release": [c_int],
        "srt_epoll_add_usock": [c_int, c_int, ptr], "srt_epoll_remove_usock": [c_int, c_int],
        "srt_epoll_uwait": [c_int, ptr, c_int, ctypes.c_int64], "srt_getlasterror": [ptr],
    }.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = c_int
    lib.srt_setloglevel.argtypes = [c_int]
    lib.srt_setloglevel.restype = None
    lib.srt_getlasterror_str.argtypes = []
    lib.srt_getlasterror_str.restype = ctypes.c_char_p


def _last_error(lib: ctypes.CDLL) -> str:
    return (lib.srt_getlasterror_str() or b"unknown libsrt error").decode("utf-8", "replace")


def _check(lib: ctypes.CDLL, result: int, what: str) -> int:
    if result == SRT_ERROR:
        raise SrtError(f"{what}: {_last_error(lib)}")
    return result


def _sockaddr(host: str, port: int) -> bytes:
    host = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][4][0] if host else "0.0.0.0"
    if ":" in host:
        packed = socket.inet_pton(socket.AF_INET6, host)
        return struct.pack("=HHI16sI", socket.AF_INET6, socket.htons(port), 0, packed, 0)
    return struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton(host))


def peer_address(raw: bytes) -> tuple[str, int]:
    """(host, port) from a struct sockaddr as libsrt hands it out."""
    family = struct.unpack_from("=H", raw)[0]
    port = socket.ntohs(struct.unpack_from("=H", raw, 2)[0])
    if family == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, raw[8:24]), port
    return socket.inet_ntop(socket.AF_INET, raw[4:8]), port


# (streamid, peer) -> True to take the caller, False to refuse it.
Admission = Callable[[str, tuple[str, int]], bool]


class Listener:
    """SRT listeners on some addresses (one port), with every accepted caller on one SRT epoll."""

    def __init__(self, hosts: tuple[str, ...], port: int, admit: Admission) -> None:
        self.lib = library()
        self.admit = admit
        self._callback = _LISTEN_CALLBACK(self._on_caller)  # kept: libsrt calls it from its own threads
        self.sockets: list[int] = []
        self.epoll = _check(self.lib, self.lib.srt_epoll_create(), "srt_epoll_create")
        try:
            for host in hosts:
                self.sockets.append(self._listen(host, port))
                port = port or self.port
        except OSError:
            self.close()
            raise

    @property
    def port(self) -> int:
        raw = ctypes.create_string_buffer(128)
        size = ctypes.c_int(128)
        _check(self.lib, self.lib.srt_getsockname(self.sockets[0], raw, ctypes.byref(size)), "srt_getsockname")
        return peer_address(raw.raw)[1]

    def _listen(self, host: str, port: int) -> int:
        lib = self.lib
        sock = _check(lib, lib.srt_create_socket(), "srt_create_socket")
        try:
            # libsrt shares a UDP port by default: a second emulator on the same port must fail instead.
            self._set_int(sock, SRTO_REUSEADDR, 0)
            if ":" in host:
                # One socket per address family, as the emulator's TCP listeners do.
                self._set_int(sock, SRTO_IPV6ONLY, 1)
            address = _sockaddr(host, port)
            _check(lib, lib.srt_bind(sock, address, len(address)), f"cannot bind SRT on {host}:{port}")
            _check(lib, lib.srt_listen_callback(sock, self._callback, None), "srt_listen_callback")
            _check(lib, lib.srt_listen(sock, 16), f"cannot listen for SRT on {host}:{port}")
            self._set_int(sock, SRTO_RCVSYN, 0)
            self._watch(sock)
        except OSError:
            lib.srt_close(sock)
            raise
        return sock

    def _set_int(self, sock: int, option: int, value: int) -> None:
        flag = ctypes.c_int(value)
        _check(self.lib, self.lib.srt_setsockflag(sock, option, ctypes.byref(flag), 4), "srt_setsockflag")

    def _watch(self, sock: int) -> None:
        events = ctypes.c_int(SRT_EPOLL_IN | SRT_EPOLL_ERR)
        _check(self.lib, self.lib.srt_epoll_add_usock(self.epoll, sock, ctypes.byref(events)), "srt_epoll_add")

    def _on_caller(self, _opaque: int | None, sock: int, _hs_version: int, peer: int | None,
                   streamid: bytes | None) -> int:
        address = peer_address(ctypes.string_at(peer, 28)) if peer else ("?", 0)
        try:
            admitted = self.admit((streamid or b"").decode("utf-8", "replace"), address)
        except Exception:  # an exception must not unwind into libsrt's thread
            admitted = False
        if admitted:
            return 0
        self.lib.srt_setrejectreason(sock, REJECT_NOT_FOUND)
        return -1

    def wait(self, timeout_ms: int) -> list[tuple[int, int]]:
        """(socket, events) ready within `timeout_ms`: a listener with callers, a caller with data or gone."""
        ready = (_EpollEvent * 64)()
        count = self.lib.srt_epoll_uwait(self.epoll, ready, 64, timeout_ms)
        return [(ready[i].fd, ready[i].events) for i in range(max(0, count))]

    def accept(self, listener: int) -> tuple[int, str, tuple[str, int]] | None:
        """The next accepted caller: (socket, streamid, peer); None when nobody is waiting."""
        lib = self.lib
        raw = ctypes.create_string_buffer(128)
        size = ctypes.c_int(128)
        sock = lib.srt_accept(listener, raw, ctypes.byref(size))
        if sock == SRT_ERROR:
            return None
        buffer = ctypes.create_string_buffer(600)
        length = ctypes.c_int(600)
        lib.srt_getsockflag(sock, SRTO_STREAMID, buffer, ctypes.byref(length))
        self._set_int(sock, SRTO_RCVSYN, 0)
        self._watch(sock)
        return sock, buffer.raw[:length.value].decode("utf-8", "replace"), peer_address(raw.raw)

    def receive(self, sock: int, buffer: ctypes.Array[ctypes.c_char]) -> int:
        """Bytes of one SRT message into `buffer`; 0 when nothing is waiting, -1 when the caller is gone."""
        count = self.lib.srt_recvmsg(sock, buffer, len(buffer))
        if count != SRT_ERROR:
            return count
        # SRT_EASYNCRCV (6002): no message ready on a non-blocking socket.
        return 0 if self.lib.srt_getlasterror(None) == 6002 else -1

    def drop(self, sock: int) -> None:
        """Close one caller's connection (OME drops the encoder on DELETE)."""
        self.lib.srt_epoll_remove_usock(self.epoll, sock)
        self.lib.srt_close(sock)

    def close(self) -> None:
        for sock in self.sockets:
            self.lib.srt_close(sock)
        self.sockets = []
        if self.epoll >= 0:
            self.lib.srt_epoll_release(self.epoll)
            self.epoll = -1
