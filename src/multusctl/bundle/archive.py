"""The tarball: one top directory, members with the run's mtime, mode 0600 and uid/gid 0 (the archive says
nothing about who ran it, and two bundles of the same state differ only in time), written atomically (a temp
file in the target's directory, fsync, rename) at mode 0600, never through a symlink."""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import os
import stat
import tarfile
from collections.abc import Iterable


class ArchiveError(Exception):
    """The bundle cannot be written where asked: one line, exit 2."""


def default_name(stamp: str) -> str:
    return f"multusctl-bundle-{stamp}.tar.gz"


def tar_gz(top: str, files: Iterable[tuple[str, bytes]], mtime: int) -> bytes:
    """A gzip'd tar of `files` (paths relative to `top`), every header fixed but for the run's time."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=mtime) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for path, data in files:
            parts = path.split("/")[:-1]
            for i in range(len(parts) + 1):
                d = "/".join([top, *parts[:i]])
                if d not in dirs:
                    dirs.add(d)
                    tar.addfile(_info(d, tarfile.DIRTYPE, 0o700, 0, mtime))
            tar.addfile(_info(f"{top}/{path}", tarfile.REGTYPE, 0o600, len(data), mtime), io.BytesIO(data))
    return buf.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def target_problem(path: str) -> str | None:
    """Why `path` cannot receive the bundle, checked before anything is collected (the rename checks again)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return f"{path}: {(exc.strerror or str(exc)).lower()}"
    if st is not None and stat.S_ISLNK(st.st_mode):
        return f"{path} is a symbolic link; refusing to write the bundle through it (remove it or choose another -o)"
    if st is not None and not stat.S_ISREG(st.st_mode):
        return f"{path} exists and is not a regular file"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"{parent}: no such directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent}: not writable"
    return None


def write_atomic(path: str, data: bytes) -> None:
    """`data` at `path`, all or nothing: the temp file is created 0600 (O_EXCL, O_NOFOLLOW) beside the target,
    synced, then renamed over it; on any failure it is removed and the target is as it was."""
    if problem := target_problem(path):
        raise ArchiveError(problem)
    parent = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(parent, f".{os.path.basename(path)}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ArchiveError(f"cannot create a file in {parent}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask, and whoever may read the directory
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.islink(path):  # appeared since the preflight; rename would replace it, but say so instead
            raise ArchiveError(f"{path} became a symbolic link while the bundle was collected; not written")
        os.rename(tmp, path)  # replaces a file, never follows a link
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            why = "no space left on the device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc)).lower()
            raise ArchiveError(f"cannot write {path}: {why}") from None
        raise
    try:
        dfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)  # the rename itself survives a crash
        finally:
            os.close(dfd)
    except OSError:
        pass
