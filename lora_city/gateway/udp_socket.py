"""The gateway UDP socket: a receive buffer sized for bursts, and the kernel's own drop counter for it.

A datagram the kernel cannot queue (the receive buffer is full while the server is busy: a garbage collection,
a burst of 60 gateways reporting at once) is dropped before any code of ours sees it. The only defences are a
buffer large enough for the longest pause, reading fast, and making such a loss visible: the kernel counts it per
socket in the last column of ``/proc/net/udp`` (``drops``), which ``KernelDrops`` reads for our socket's inode.

Linux doubles the SO_RCVBUF asked for (bookkeeping overhead) and caps the request at ``net.core.rmem_max``
unless the process may use SO_RCVBUFFORCE (CAP_NET_ADMIN); a capped buffer is logged with the sysctl to raise.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def open_udp_socket(host: str, port: int, receive_buffer: int) -> socket.socket:
    """A bound, non-blocking UDP socket for ``host:port`` (IPv4 or IPv6) with the receive buffer asked for."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_DGRAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        if receive_buffer > 0:
            size_receive_buffer(sock, receive_buffer)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def size_receive_buffer(sock: socket.socket, requested: int) -> int:
    """Ask for ``requested`` bytes; returns what the kernel granted (as it reports it, i.e. doubled on Linux)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, requested)  # beyond rmem_max, when allowed
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, requested)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    full = requested * 2 if sys.platform.startswith("linux") else requested  # Linux reports the doubled size
    if granted < full:
        log.warning("UDP receive buffer: asked for %d bytes, the kernel granted %d (net.core.rmem_max); raise it "
                    "with `sysctl -w net.core.rmem_max=%d` so bursts are not dropped", requested, granted, requested)
    else:
        log.info("UDP receive buffer: %d bytes", granted)
    return granted


@dataclass(frozen=True, slots=True)
class SocketCounters:
    drops: int  # datagrams dropped since the socket was opened
    queued: int  # bytes waiting in the receive queue now


class KernelDrops:
    """Reads the kernel's counters for one UDP socket from ``/proc/net/udp`` and ``/proc/net/udp6``."""

    def __init__(self, sock: socket.socket, proc_net: Path = Path("/proc/net")) -> None:
        self._inode = str(os.fstat(sock.fileno()).st_ino)
        self._files = [proc_net / "udp", proc_net / "udp6"]

    def read(self) -> SocketCounters | None:
        """None where the kernel offers no such table (not Linux)."""
        for path in self._files:
            try:
                text = path.read_text()
            except OSError:
                continue
            for line in text.splitlines()[1:]:
                # sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ref pointer drops
                fields = line.split()
                if len(fields) >= 13 and fields[9] == self._inode:
                    return SocketCounters(drops=int(fields[12]), queued=int(fields[4].split(":")[1], 16))
        return None
