"""`--from-netns NAME`: run this thread inside a named network namespace (what a pod would see).

setns(2) moves only the calling thread, and threads it starts later inherit the namespace, so the chain's
thread (and its DNS worker) probe from NAME while the admin reads stay in the host's namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Iterator

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"


class NetnsError(Exception):
    """The namespace cannot be entered: one line."""


def _setns(fd: int, what: str) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsError(f"cannot enter {what}: {os.strerror(err).lower()}"
                         + (" (needs root: CAP_SYS_ADMIN)" if err == 1 else ""))


def path_of(name: str) -> str:
    if "/" in name:
        return name  # a path such as /proc/<pid>/ns/net or /var/run/netns/<name>
    return os.path.join(NETNS_DIR, name)


def check(name: str) -> str | None:
    """Why `name` cannot be used, or None."""
    path = path_of(name)
    if not os.path.exists(path):
        return f"--from-netns: no network namespace {name} ({path} does not exist; `ip netns list` shows them)"
    return None


@contextlib.contextmanager
def entered(name: str | None) -> Iterator[None]:
    if not name:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(path_of(name), os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target, f"network namespace {name}")
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home, "the original network namespace")
    finally:
        os.close(home)
