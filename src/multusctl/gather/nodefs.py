"""A read-only view of a node's filesystem, rooted at `--root`.

Every path handed in or out is a path *as the node sees it* ("/etc/cni/net.d"); the root prefix is
applied here and nowhere else. Absolute symlinks inside the root are resolved against the root, not
against this machine's "/", so a node copied into a folder (or a tarball unpacked from another node)
reads the same as the live node. Results are cached: analysis may ask the same question many times.

A root may hold only some of the node's trees (`trees`: the hostPath mounts of a `check --all-nodes` pod).
What lies outside them is unknown, not missing: `sees` tells the two apart, so a file under /run, or a config
linked there, is "cannot tell" from inside the pod instead of "missing" or "a symlink to nothing".
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat as stat_mod
from collections.abc import Iterable
from functools import cache

from multusctl.records import dataclass

MAX_READ_BYTES = 4 * 1024 * 1024  # a CNI config or kubeconfig is a few KB; refuse to slurp a huge file
MAX_SYMLINKS = 40  # same limit as the Linux kernel (ELOOP)
PATH_MAX = 4096  # Linux, including the terminating NUL


class NodeFSError(Exception):
    """A one-line, user-facing reason a path could not be read; `errno` of the failed call, or `kind` of
    what was found instead of a regular file ("dir", "other", "large")."""

    def __init__(self, message: str, *, errno: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.errno = errno
        self.kind = kind


class _WalkFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PathInfo:
    """stat of a node path, symlinks resolved inside the root."""

    path: str  # node path, symlinks resolved
    kind: str  # "file" | "dir" | "other"
    mode: int  # permission bits only
    uid: int
    gid: int
    size: int


class NodeFS:
    def __init__(self, root: str = "/", *, trees: Iterable[str] | None = None) -> None:
        self.root = os.path.abspath(root)
        # The node trees this root holds; None: all of them (a node's "/", or a copy of one).
        self.trees = None if trees is None else tuple(normalize(t) for t in trees)
        # functools.cache on methods would keep self alive forever; per-instance caches instead.
        self._resolve = cache(self._resolve_uncached)
        self._stat = cache(self._stat_uncached)
        self._read = cache(self._read_uncached)
        self._listdir = cache(self._listdir_uncached)
        # Node paths that exist but this process may not read (EACCES): the answer would be a guess.
        self.denied: list[str] = []
        # node path prefix -> (resolved, symlinks followed), or the reason its walk failed
        self._prefixes: dict[str, tuple[str, int] | str] = {}
        self._normalized: dict[str, str] = {}  # the same node paths are asked about again and again

    def _normalize(self, path: str) -> str:
        done = self._normalized.get(path)
        if done is None:
            done = self._normalized[path] = normalize(path)  # raises (and caches nothing) for a bad path
        return done

    def host(self, path: str) -> str:
        """The path on this machine for a node path (after resolving symlinks inside the root)."""
        resolved = self._resolve(self._normalize(path))
        return self.root if resolved == "/" else os.path.join(self.root, resolved.lstrip("/"))

    def sees(self, path: str) -> bool:
        """Whether this root shows what the node has at `path`, its symlinks followed as far as the root lets
        them: False in a tree the root does not hold, where a file not found tells nothing."""
        if self.trees is None:
            return True
        try:
            where = self.resolve(path)
        except NodeFSError:  # a loop, or no path at all: the reason is the finding, and it is the node's
            return True
        return any(where == t or where.startswith(t + "/") or t == "/" for t in self.trees)

    def resolve(self, path: str) -> str:
        """Node path with every symlink resolved inside the root. Raises NodeFSError on a loop."""
        return self._resolve(self._normalize(path))

    def _resolve_uncached(self, path: str) -> str:
        # Walk the components left to right, as the kernel does; the state after each prefix (the resolved
        # prefix and the symlinks followed so far) is remembered, so 10,000 files in one directory cost one
        # lstat each instead of one per component. The state after a prefix depends on nothing after it,
        # so this finds exactly what a walk from "/" would, with the same hop count and the same errors.
        parts = [p for p in path.split("/") if p]
        keys = []
        key = ""
        for part in parts:
            key += "/" + part
            keys.append(key)
        prefixes = self._prefixes
        k = len(parts)
        while k and keys[k - 1] not in prefixes:
            k -= 1
        state = prefixes[keys[k - 1]] if k else ("/", 0)
        for i in range(k, len(parts)):
            if isinstance(state, str):
                break
            try:
                state = self._step(state, parts[i])
            except _WalkFailed as failed:
                state = failed.reason
            prefixes[keys[i]] = state
        if isinstance(state, str):
            raise NodeFSError(f"{path}: {state}")
        return state[0]

    def _step(self, state: tuple[str, int], part: str) -> tuple[str, int]:
        """(resolved prefix, links followed) after one more component; _WalkFailed with a reason."""
        done, hops = state
        if part == "..":
            return posixpath.dirname(done) or "/", hops
        if part == ".":
            return state
        candidate = posixpath.join(done, part)
        real = os.path.join(self.root, candidate.lstrip("/"))
        try:
            is_link = os.path.islink(real)
        except (OSError, ValueError):
            is_link = False
        if not is_link:
            return candidate, hops
        hops += 1
        if hops > MAX_SYMLINKS:
            raise _WalkFailed("too many levels of symbolic links")
        try:
            target = os.readlink(real)
        except OSError as exc:
            raise _WalkFailed(f"{exc.strerror or exc}") from None
        state = ("/" if target.startswith("/") else done), hops
        for sub in target.split("/"):  # at most MAX_SYMLINKS deep: each level follows one more link
            if sub:
                state = self._step(state, sub)
        return state

    def stat(self, path: str) -> PathInfo | None:
        """None when the path does not exist, cannot be resolved, or cannot be a path at all (NUL byte)."""
        try:
            return self._stat(self._normalize(path))
        except NodeFSError:
            return None

    def _stat_uncached(self, path: str) -> PathInfo | None:
        try:
            resolved = self._resolve(path)
            st = os.stat(self.host(resolved), follow_symlinks=False)
        except PermissionError:
            # A directory on the way we may not search: whether the file exists is unknown, not "no".
            parent = posixpath.dirname(path)
            if parent not in self.denied:
                self.denied.append(parent)
            return None
        except (OSError, ValueError, NodeFSError):
            return None
        if stat_mod.S_ISREG(st.st_mode):
            kind = "file"
        elif stat_mod.S_ISDIR(st.st_mode):
            kind = "dir"
        else:
            kind = "other"
        return PathInfo(resolved, kind, stat_mod.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size)

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_file(self, path: str) -> bool:
        info = self.stat(path)
        return info is not None and info.kind == "file"

    def is_dir(self, path: str) -> bool:
        info = self.stat(path)
        return info is not None and info.kind == "dir"

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes, or NodeFSError with a one-line reason."""
        return self._read(self._normalize(path))

    def read_text(self, path: str) -> str:
        data = self.read_bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise NodeFSError(f"{path}: not UTF-8 text") from None

    def _read_uncached(self, path: str) -> bytes:
        info = self.stat(path)
        if info is None:
            self._resolve(path)  # raises the more precise "too many levels of symbolic links"
            raise NodeFSError(f"{path}: no such file")
        if info.kind != "file":
            raise NodeFSError(f"{path}: not a regular file")
        if info.size > MAX_READ_BYTES:
            raise NodeFSError(f"{path}: too large ({info.size} bytes, limit {MAX_READ_BYTES})")
        # host() has resolved every link inside the root: a link at the end now was swapped in since.
        try:
            return read_regular_file(self.host(path), path, follow=False)
        except NodeFSError as exc:
            if exc.errno == errno.EACCES and path not in self.denied:
                self.denied.append(path)
            raise

    def read_or_none(self, path: str) -> bytes | None:
        """The file's bytes, or None when it cannot be read (checks answer from what is there)."""
        try:
            return self.read_bytes(path)
        except NodeFSError:
            return None

    def text_or_none(self, path: str) -> str | None:
        try:
            return self.read_text(path)
        except NodeFSError:
            return None

    def names(self, path: str) -> list[str]:
        """Sorted entry names of a directory; empty when it is missing or unreadable."""
        try:
            return self.listdir(path)
        except NodeFSError:
            return []

    def resolve_or_none(self, path: str) -> str | None:
        try:
            return self.resolve(path)
        except NodeFSError:
            return None

    def listdir(self, path: str) -> list[str]:
        """Sorted entry names; NodeFSError when missing or unreadable."""
        return list(self._listdir(self._normalize(path)))

    def _listdir_uncached(self, path: str) -> tuple[str, ...]:
        try:
            return tuple(sorted(os.listdir(self.host(path))))
        except OSError as exc:
            if exc.errno == errno.EACCES and path not in self.denied:
                self.denied.append(path)
            raise NodeFSError(f"{path}: {exc.strerror or exc}", errno=exc.errno) from None
        except ValueError:  # a lone surrogate from a JSON "\\ud800" escape cannot be encoded as a file name
            raise NodeFSError(f"{path}: {path_problem(path) or 'not a valid path'}") from None

    def glob_dirs(self, parent: str) -> list[str]:
        """Node paths of the sub-directories of `parent` (empty when it is missing)."""
        try:
            names = self.listdir(parent)
        except NodeFSError:
            return []
        return [posixpath.join(parent, n) for n in names if self.is_dir(posixpath.join(parent, n))]


def path_problem(path: str) -> str | None:
    """Why no file can have this name (the one path validator), or None when it can."""
    if "\x00" in path:
        return "contains a NUL byte, which no file name can hold"
    try:
        encoded = os.fsencode(path)
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate (a JSON \\uD800-\\uDFFF escape), which no file name can hold"
    if len(encoded) >= PATH_MAX:
        return f"is {len(encoded)} bytes long; Linux paths end at {PATH_MAX - 1}"
    return None


def normalize(path: str) -> str:
    problem = path_problem(path)
    if problem:
        raise NodeFSError(f"path {problem}")
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"


def read_regular_file(host_path: str, shown: str, limit: int = MAX_READ_BYTES, *, follow: bool = True) -> bytes:
    """The bytes of a regular file, read without following a trap: the one safe reader of multusctl.

    The file is opened non-blocking and judged by fstat of what was opened, so a FIFO (or a file swapped for
    one between a stat and the open) cannot hang the read, and a device or huge file is refused. Raises
    NodeFSError with a one-line reason naming `shown` (the path as the user knows it). With follow=False a
    symlink at the last component is refused (ELOOP) instead of followed."""
    return read_regular(host_path, shown, limit, follow=follow)[0]


def read_regular(host_path: str, shown: str, limit: int = MAX_READ_BYTES, *,
                 follow: bool = True) -> tuple[bytes, os.stat_result]:
    """`read_regular_file`, plus the fstat of the file that was read (its mode and owner)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(host_path, flags)
    except OSError as exc:
        raise NodeFSError(f"{shown}: {(exc.strerror or str(exc)).lower()}", errno=exc.errno) from None
    except ValueError:
        raise NodeFSError(f"{shown}: {path_problem(host_path) or 'not a valid path'}") from None
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode):
            kind = "dir" if stat_mod.S_ISDIR(st.st_mode) else "other"
            raise NodeFSError(f"{shown}: not a regular file", kind=kind)
        if st.st_size > limit:
            raise NodeFSError(f"{shown}: too large ({st.st_size} bytes, limit {limit})", kind="large")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # it grew after the fstat
            raise NodeFSError(f"{shown}: too large (over {limit} bytes)", kind="large")
        return b"".join(chunks), st
    except OSError as exc:
        raise NodeFSError(f"{shown}: {(exc.strerror or str(exc)).lower()}", errno=exc.errno) from None
    finally:
        os.close(fd)
