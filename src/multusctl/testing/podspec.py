"""What the kubelet makes of a pod spec: environment, volumes, and the shell script that starts a container.

A container runs as ``unshare -m --propagation private /bin/sh -c SCRIPT``: in its own mount namespace the
script mounts a tmpfs over the kubelet's scratch directory, an overlay of this machine's ``/`` on it (writes
land in the tmpfs and vanish with the container, and mount points can be created without touching the
host), binds ``/proc``, ``/sys`` and ``/dev``, bind-mounts every volume at its mountPath (``ro`` remounted
when readOnly), then ``chroot``s into the overlay and execs the command with exactly the container's
environment (``env -i``). When the last process of the container exits its namespace and every mount in it
vanish; the host's mount table never sees them. A failure before the exec (a mount, a missing working
directory or command) is written to the container's error file and exits 128, which the kubelet reports
as ``StartError`` with that message, as containerd does.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from multusctl.testing.store import Obj

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# No command and no args: the image's entrypoint is unknown, so the container idles like a pause container.
IDLE_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]


class VolumeError(Exception):
    """A volume that cannot be set up (FailedMount): the container waits in ContainerCreating."""


def resolve_in_root(root: Path, path: str) -> Path:
    """`path` inside `root`, following symlinks as if `root` were `/` (absolute links stay in the root)."""
    parts = [p for p in PurePosixPath(path).parts if p not in ("/", ".", "")]
    resolved = root
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            resolved = resolved.parent if resolved != root else root
            continue
        candidate = resolved / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise VolumeError(f"too many levels of symbolic links: {path}")
            target = os.readlink(candidate)
            target_parts = [p for p in PurePosixPath(target).parts if p not in ("/", ".", "")]
            if target.startswith("/"):
                resolved = root
            parts = target_parts + parts
            continue
        resolved = candidate
    return resolved


def host_path_source(root: Path, spec: Obj) -> Path:
    """The directory or file a hostPath volume binds, checked and created as the kubelet does."""
    path = spec.get("path") or "/"
    kind = spec.get("type") or ""
    src = resolve_in_root(root, path)
    if kind in ("", "DirectoryOrCreate") and not src.exists():
        src.mkdir(parents=True, exist_ok=True)
    elif kind == "FileOrCreate" and not src.exists():
        src.parent.mkdir(parents=True, exist_ok=True)
        src.touch()
    checks = {"Directory": (src.is_dir, "is not a directory"), "File": (src.is_file, "is not a file"),
              "Socket": (lambda: src.is_socket(), "is not a socket file"),
              "CharDevice": (lambda: src.is_char_device(), "is not a character device"),
              "BlockDevice": (lambda: src.is_block_device(), "is not a block device")}
    if kind in checks and not checks[kind][0]():
        # The kubelet's words (pkg/volume/hostpath checkTypeInternal), a missing path included: a missing
        # Directory "is not a directory".
        raise VolumeError(f"hostPath type check failed: {path} {checks[kind][1]}")
    if kind == "DirectoryOrCreate" and not src.is_dir():
        raise VolumeError(f"hostPath type check failed: {path} is not a directory")
    return src


def write_files(dest: Path, files: dict[str, bytes], mode: int = 0o644) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)


def keyed_files(source: Obj, obj: Obj | None, what: str, name: str, b64: bool) -> dict[str, bytes]:
    """The files of a configMap/secret volume (or projected source): all keys, or the listed items."""
    if obj is None:
        if source.get("optional"):
            return {}
        raise VolumeError(f'{what} "{name}" not found')
    data: dict[str, bytes] = {}
    for k, v in (obj.get("data") or {}).items():
        data[k] = base64.b64decode(v) if b64 else str(v).encode()
    for k, v in (obj.get("binaryData") or {}).items():
        data[k] = base64.b64decode(v)
    items = source.get("items")
    if not items:
        return data
    out = {}
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if source.get("optional"):
                continue
            raise VolumeError(f'configmap references non-existent config key: {key}' if what == "configmap"
                              else f'references non-existent secret key: {key}')
        out[item.get("path") or key] = data[key]
    return out


def field_value(pod: Obj, path: str, node_ip: str) -> str:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']*)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"), "status.hostIP": node_ip,
              "status.podIP": status.get("podIP") or node_ip, "status.hostIPs": node_ip,
              "status.podIPs": status.get("podIP") or node_ip}
    value = simple.get(path)
    return "" if value is None else str(value)


_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes $(VAR) expansion ($$ escapes, unknown references stay as written)."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _REF.sub(sub, text)


def container_env(pod: Obj, container: Obj, lookup: Any, node_ip: str, api_port: int) -> dict[str, str]:
    """The environment of a container: service variables for the API server, envFrom, then env."""
    ns = (pod.get("metadata") or {}).get("namespace", "default")
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": (pod.get("metadata") or {}).get("name", ""), "HOME": "/root",
           "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(api_port),
           "KUBERNETES_SERVICE_PORT_HTTPS": str(api_port), "KUBERNETES_PORT": f"tcp://127.0.0.1:{api_port}"}
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix") or ""
        for kind, b64 in (("configMapRef", False), ("secretRef", True)):
            ref = src.get(kind)
            if ref:
                obj = lookup("configmaps" if kind == "configMapRef" else "secrets", ns, ref.get("name", ""))
                for k, v in ((obj or {}).get("data") or {}).items():
                    env[prefix + k] = base64.b64decode(v).decode(errors="replace") if b64 else str(v)
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item or "valueFrom" not in item:
            env[name] = expand(str(item.get("value") or ""), env)
            continue
        vf = item["valueFrom"] or {}
        if "fieldRef" in vf:
            env[name] = field_value(pod, (vf["fieldRef"] or {}).get("fieldPath", ""), node_ip)
        elif "configMapKeyRef" in vf or "secretKeyRef" in vf:
            is_cm = "configMapKeyRef" in vf
            ref = vf.get("configMapKeyRef" if is_cm else "secretKeyRef") or {}
            obj = lookup("configmaps" if is_cm else "secrets", ns, ref.get("name", ""))
            raw = ((obj or {}).get("data") or {}).get(ref.get("key", ""))
            if raw is not None:
                env[name] = str(raw) if is_cm else base64.b64decode(raw).decode(errors="replace")
        elif "resourceFieldRef" in vf:
            env[name] = "0"
    return env


def command_line(container: Obj, env: dict[str, str]) -> list[str]:
    command = [expand(str(c), env) for c in container.get("command") or []]
    args = [expand(str(a), env) for a in container.get("args") or []]
    if not command and not args:
        return list(IDLE_COMMAND)
    return command + args if command else args


def start_script(mnt: Path, errfile: Path, mounts: list[tuple[Path, str, bool]], env: dict[str, str],
                 argv: list[str], workdir: str, user: tuple[int | None, int | None] = (None, None)) -> str:
    """The shell script run under ``unshare -m --propagation private`` (see the module docstring).

    `mounts` are (host source, mountPath, readOnly)."""
    q = shlex.quote
    lines = [
        "set -u",
        f"exec 3>>{q(str(errfile))}",
        "fail() { printf '%s\\n' \"$1\" >&3; exit 128; }",
        f"M={q(str(mnt))}",
        'mount -t tmpfs -o mode=0755 kubelet "$M" || fail "cannot mount the container scratch space"',
        'mkdir "$M/u" "$M/w" "$M/r"',
        'mount -t overlay overlay -o "lowerdir=/,upperdir=$M/u,workdir=$M/w" "$M/r" '
        '|| fail "cannot mount the container root"',
        'R="$M/r"',
        'for d in proc sys dev; do mount --rbind "/$d" "$R/$d" || fail "cannot mount /$d"; done',
    ]
    for src, target, read_only in mounts:
        dst = '"$R"' + q(str(PurePosixPath("/") / target))
        if src.is_dir():
            lines.append(f"mkdir -p -- {dst}")
        else:
            parent = '"$R"' + q(str((PurePosixPath("/") / target).parent))
            lines.append(f"mkdir -p -- {parent}; [ -e {dst} ] || : > {dst}")
        why = q(f"error mounting {src} at {target}")
        lines.append(f"mount --bind -- {q(str(src))} {dst} || fail {why}")
        if read_only:
            lines.append(f"mount -o remount,bind,ro -- {dst} || fail {why}")
    inner = ('cd -- "$1" 2>/dev/null || { printf "chdir to cwd (\\"%s\\") set in config.json failed: '
             'no such file or directory\\n" "$1" >&3; exit 128; }; shift; '
             'command -v -- "$1" >/dev/null 2>&1 || { printf "exec: \\"%s\\": executable file not found in '
             '\\$PATH\\n" "$1" >&3; exit 128; }; exec 3>&-; exec "$@"')
    chroot = ["chroot"]
    uid, gid = user
    if uid is not None or gid is not None:
        chroot.append(f"--userspec={uid if uid is not None else 0}:{gid if gid is not None else 0}")
    env_args = " ".join(q(f"{k}={v}") for k, v in env.items() if k and "=" not in k)
    lines.append(f'exec {" ".join(chroot)} "$R" /usr/bin/env -i {env_args} /bin/sh -c {q(inner)} sh '
                 f'{q(workdir or "/")} {" ".join(q(a) for a in argv)}')
    return "\n".join(lines) + "\n"
