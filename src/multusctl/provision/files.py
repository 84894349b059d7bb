"""Writing a credential file safely: private from the first byte, atomic, backed up, skipped when equal.

The one module that writes files for `kubeconfig create`: nothing here follows a link at the target or
its backup, and nothing is visible under its final name before it is complete."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from multusctl.gather.nodefs import NodeFSError, read_regular

MODE = 0o600
DIR_MODE = 0o700


class FileError(Exception):
    """One line saying which file and why."""


@dataclass(frozen=True)
class Existing:
    """The file `create` would replace: its bytes and mode, or nothing."""

    data: bytes | None  # None: no file
    mode: int | None

    @property
    def exists(self) -> bool:
        return self.data is not None


class LocalError(FileError):
    """Bad local input (a link, a directory, a missing or unwritable parent): exit status 2."""


def _link_refusal(path: str, shown: str) -> LocalError:
    try:
        where = os.readlink(path)
    except OSError:
        where = "?"
    return LocalError(f"{shown} is a symbolic link to {where}; multusctl never writes through a link: "
                      "remove the link (or pass --path to a regular file)")


def check_target(path: str, shown: str | None = None) -> None:
    """Refuse a target that is a link, a directory or any other non-regular file (a missing one is fine)."""
    shown = shown or path
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LocalError(f"cannot look at {shown}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise _link_refusal(path, shown)
    if stat.S_ISDIR(st.st_mode):
        raise LocalError(f"{shown} is a directory; pass the path of the file to write")
    if not stat.S_ISREG(st.st_mode):
        raise LocalError(f"{shown} exists and is not a regular file")


def read_existing(path: str, shown: str | None = None) -> Existing:
    """The current file, opened without following a link and without blocking (a FIFO must not hang us)."""
    shown = shown or path
    try:
        data, st = read_regular(path, shown, follow=False)
    except NodeFSError as exc:
        if exc.errno == errno.ENOENT:
            return Existing(None, None)
        if exc.errno == errno.ELOOP:
            raise _link_refusal(path, shown) from None
        if exc.kind == "dir":
            raise LocalError(f"{shown} is a directory; pass the path of the file to write") from None
        if exc.kind == "other":
            raise LocalError(f"{shown} exists and is not a regular file") from None
        if exc.kind == "large":
            raise LocalError(f"{exc}: too big to be a kubeconfig; move it away first") from None
        raise FileError(f"cannot read {exc}") from None
    return Existing(data, stat.S_IMODE(st.st_mode))


def set_private(path: str) -> None:
    """chmod 0600 the file itself, never a link's target."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LocalError(f"{path} is not a regular file")
        os.fchmod(fd, MODE)
    finally:
        os.close(fd)


def backup_name(path: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    return f"{path}.bak-{stamp}"


def _write_private(fd: int, data: bytes) -> None:
    """Set 0600 on an open file before any byte is in it, write all of `data`, fsync, close."""
    try:
        os.fchmod(fd, MODE)  # the umask cannot widen it, but an inherited ACL default could
        view = memoryview(data)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


TEMP_SUFFIX = ".tmp"


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


def _temp_pattern(path: str) -> re.Pattern[str]:
    # Exactly what tempfile.mkstemp makes from our prefix and suffix: 8 characters of its alphabet.
    return re.compile(re.escape(_temp_prefix(path)) + r"[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))


def _fsync_dir(parent: str) -> None:
    with contextlib.suppress(OSError):
        dfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def _write_temp(path: str, data: bytes) -> str:
    """A complete, fsynced, 0600 copy of `data` under a temp name next to `path` (never visible half-written)."""
    parent = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=_temp_prefix(path), suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise FileError(f"cannot create a temporary file in {parent}: {exc.strerror}") from None
    try:
        _write_private(fd, data)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise FileError(f"cannot write a temporary file in {parent}: {exc.strerror}") from None
    return tmp


@contextlib.contextmanager
def write_lock(path: str) -> Iterator[None]:
    """Hold an exclusive flock on the directory of `path` while it is written: runs take turns, so a temp
    file of ours found while holding it was left by a run that died (no age guess needed)."""
    parent = os.path.dirname(path) or "."
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise FileError(f"cannot open {parent}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temps(path: str) -> list[str]:
    """Delete the temp files a killed run left next to `path` (they may hold a live token): only regular
    files of exactly our naming pattern, owned by us. Call it under `write_lock`. The names removed."""
    parent = os.path.dirname(path) or "."
    pattern = _temp_pattern(path)
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return []
    for name in sorted(names):
        if not pattern.fullmatch(name):
            continue
        full = os.path.join(parent, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(full)
            removed.append(full)
    if removed:
        _fsync_dir(parent)
    return removed


def backup(path: str, data: bytes, now: datetime | None = None) -> str:
    """Keep `data` (the old file) next to it, 0600: it may hold admin credentials worth more than ours.

    Atomic: written whole to a temp file, then hard-linked to its name, which never replaces anything
    (a kill leaves at worst a temp file, which the next run removes, never a short backup)."""
    base = backup_name(path, now)
    tmp = _write_temp(path, data)
    try:
        for i in range(100):
            name = base if i == 0 else f"{base}.{i}"
            try:
                os.link(tmp, name, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError as exc:
                raise FileError(f"cannot write backup {name}: {exc.strerror}") from None
            _fsync_dir(os.path.dirname(path) or ".")
            return name
        raise FileError(f"cannot write a backup of {path}: {base} and 99 numbered variants exist")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def preflight(path: str, shown: Callable[[str], str] = str, may_create: str | None = None) -> list[str]:
    """Check, before anything is changed anywhere, that `path` can be written: not a link or a directory,
    its parent an existing writable directory. The one directory that may be missing is `may_create` (the
    layout's multus.d), and only when its own parent exists. Returns the directories to create."""
    check_target(path, shown(path))
    parent = os.path.dirname(path) or "."
    missing: list[str] = []
    here = parent
    while not os.path.lexists(here):
        missing.append(here)
        up = os.path.dirname(here)
        if up == here:
            break
        here = up
    if missing and (missing != [parent] or parent != may_create):
        raise LocalError(f"{shown(missing[-1])} does not exist (to write {shown(path)}); multusctl creates no "
                         "directory but the layout's multus.d: create it first or fix the path")
    existing = here
    try:
        st = os.stat(existing)  # resolved on purpose: a parent given through --path may be a link to a directory
    except OSError as exc:
        raise LocalError(f"cannot look at {shown(existing)}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise LocalError(f"{shown(existing)} is not a directory (to write {shown(path)} in it)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise LocalError(f"cannot write in {shown(existing)} (permission denied or a read-only file system)")
    return missing


def make_dirs(dirs: list[str]) -> list[str]:
    """Create `dirs` (parents first is the caller's order reversed) 0700 whatever the umask; the ones made."""
    made = []
    for d in reversed(dirs):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            if os.path.isdir(d) and not os.path.islink(d):
                continue  # made by a concurrent run meanwhile
            raise FileError(f"cannot create {d}: something else appeared there") from None
        except OSError as exc:
            raise FileError(f"cannot create {d}: {exc.strerror}") from None
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask; set it explicitly
        made.append(d)
    return made


def write_atomic(path: str, data: bytes) -> None:
    """Temp file in the same dir (so rename is atomic), 0600 from creation, fsync, rename, fsync the dir."""
    tmp = _write_temp(path, data)
    try:
        check_target(path)  # a link put there since the first look is refused, not replaced silently
        os.replace(tmp, path)
    except (OSError, FileError) as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, FileError):
            raise
        raise FileError(f"cannot write {path}: {exc.strerror}") from None
    # The rename is durable only once the directory entry is on disk.
    _fsync_dir(os.path.dirname(path) or ".")
