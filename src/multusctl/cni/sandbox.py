"""A throwaway network namespace standing in for a pod, removed on every way out: normal return, an
exception, a plugin killed at its deadline, Ctrl-C or SIGTERM (turned into KeyboardInterrupt while the
sandbox is open, so the `finally` runs). Host links the attachment created (a bridge plugin's bridge, which
its DEL never removes) are removed too, but only the ones named to us that did not exist before."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from multusctl.interrupt import to_interrupt
from multusctl.records import dataclass, field

NETNS_DIR = "/var/run/netns"


class SandboxError(Exception):
    """The sandbox could not be made (not root, no `ip`): one line, exit 2."""


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"{' '.join(cmd)}: {exc}") from None
    if check and proc.returncode:
        raise SandboxError(f"{' '.join(cmd)}: {proc.stderr.strip() or f'exit {proc.returncode}'}")
    return proc


# Neither shutil nor tempfile: together they cost ~8 ms of nad test's start-up (bz2, lzma, random), for a
# PATH lookup, one private directory and its removal.
def _which(cmd: str) -> str | None:
    """shutil.which(cmd) for a bare name: the first executable regular file of that name on PATH."""
    for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
        p = os.path.join(d or ".", cmd)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def _tempdir() -> str:
    """tempfile.gettempdir()'s choice: $TMPDIR, $TEMP or $TMP if it is a writable directory, else the first of
    /tmp, /var/tmp, /usr/tmp, the working directory that is."""
    for d in [os.environ.get(v) for v in ("TMPDIR", "TEMP", "TMP")] + ["/tmp", "/var/tmp", "/usr/tmp", "."]:
        if d and os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK):
            with contextlib.suppress(OSError):  # the working directory may be gone
                return os.path.abspath(d)
    raise SandboxError("no writable temporary directory for the private IPAM dataDir")


def _mkdtemp(prefix: str) -> str:
    """tempfile.mkdtemp(prefix=...): a new directory only we can read (0700), under _tempdir()."""
    base = _tempdir()
    while True:
        path = os.path.join(base, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _rmtree(top: str) -> None:
    """shutil.rmtree(top, ignore_errors=True): symlinks are removed, never followed."""
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        for name in filenames:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            path = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.rmdir(path)
    with contextlib.suppress(OSError):
        os.rmdir(top)


def host_links() -> set[str]:
    try:
        return set(os.listdir("/sys/class/net"))
    except OSError:
        return set()


def inspect(netns: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """(links, addresses) of a namespace from one `ip -d -j addr` (it carries `ip -d link`'s fields too): name,
    kind, MAC, MTU, state of each link, and its addresses other than link-local ones."""
    proc = _ip("-d", "-j", "addr", "show", netns=netns, check=False)
    try:
        doc = json.loads(proc.stdout or "[]")
    except ValueError:
        return [], {}
    links: list[dict[str, Any]] = []
    addresses: dict[str, list[str]] = {}
    for link in doc if isinstance(doc, list) else []:
        if not isinstance(link, dict):
            continue
        info = link.get("linkinfo") or {}
        links.append({"name": link.get("ifname"), "kind": info.get("info_kind") or link.get("link_type"),
                      "mac": link.get("address"), "mtu": link.get("mtu"), "state": link.get("operstate")})
        addresses[str(link.get("ifname"))] = [f"{a.get('local')}/{a.get('prefixlen')}"
                                              for a in link.get("addr_info") or [] if a.get("scope") != "link"]
    return links, addresses


def links_in(netns: str) -> list[dict[str, Any]]:
    return inspect(netns)[0]


@dataclass
class Sandbox:
    name: str
    path: str
    data_dir: str
    keep: bool = False
    host_before: set[str] = field(default_factory=set)
    # Host links the attachment may create and its DEL leaves (a bridge); removed if new.
    owned_host_links: set[str] = field(default_factory=set)
    cleanup_errors: list[str] = field(default_factory=list)

    def remove_command(self) -> str:
        extra = "".join(f" && ip link del {n}" for n in sorted(self.owned_host_links - self.host_before))
        return f"ip netns del {self.name} && rm -rf {self.data_dir}{extra}"


@contextmanager
def sandbox(keep: bool = False, prefix: str = "mctl-nad") -> Iterator[Sandbox]:
    if os.geteuid() != 0:
        raise SandboxError("a network namespace needs root (run as root on the node)")
    if _which("ip") is None:
        raise SandboxError("no `ip` (iproute2) to make a network namespace")
    name = f"{prefix}-{os.urandom(4).hex()}"  # not uuid: importing it costs ~10 ms (it imports platform)
    previous = signal.getsignal(signal.SIGTERM)
    in_main = True
    try:
        signal.signal(signal.SIGTERM, to_interrupt)
    except ValueError:  # not the main thread: no handler, the finally still runs on exceptions
        in_main = False
    box = Sandbox(name, os.path.join(NETNS_DIR, name), _mkdtemp("multusctl-ipam-"), keep,
                  host_links())
    try:
        _ip("netns", "add", name)
        _ip("link", "set", "lo", "up", netns=name)
        yield box
    finally:
        # Ignore a second Ctrl-C/SIGTERM while cleaning up: leaving half a sandbox is what we promise not to.
        old_int = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            if not box.keep:
                _cleanup(box)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, old_int if old_int is not None else signal.default_int_handler)
                signal.signal(signal.SIGTERM, previous)


def _cleanup(box: Sandbox) -> None:
    # One `ip -batch` for the links and the namespace (each `ip` costs ~10-15 ms; nad test's budget is a hand
    # run's 1.5x), then what is still there is what failed: `-force` runs every line, whatever the others did.
    # Links first: the kernel tears a deleted namespace's veths down asynchronously, and a bridge losing its
    # port at that moment was seen to survive its `link del` under load; whatever survives is tried once more.
    links = sorted((box.owned_host_links & host_links()) - box.host_before)
    why = _batch([f"link del {n}" for n in links] + ([f"netns del {box.name}"] if os.path.exists(box.path) else []))
    left = [n for n in links if n in host_links()]
    if left:
        why = _batch([f"link del {n}" for n in left]) or why
    if os.path.exists(box.path):
        box.cleanup_errors.append(f"ip netns del {box.name}: {why}")
    now = host_links()
    box.cleanup_errors.extend(f"ip link del {n}: {why}" for n in left if n in now)
    _rmtree(box.data_dir)


def _batch(lines: list[str]) -> str:
    """Run `ip` commands in one process; "" when all succeeded, else its error output on one line."""
    if not lines:
        return ""
    try:
        proc = subprocess.run(["ip", "-force", "-batch", "-"], input="\n".join(lines) + "\n", capture_output=True,
                              text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if proc.returncode == 0 else " ".join(proc.stderr.split())[:300] or f"exit {proc.returncode}"
