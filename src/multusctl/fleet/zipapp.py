"""The node checker as one zipapp, shipped to each node in a ConfigMap (binaryData, at most 1 MiB).

It holds exactly what `multusctl check` imports on a node (no CLI, no API client, no C extension), plus
PyYAML's pure-Python loader (k3s config.yaml, kubeconfigs), so any `python:3.11`-or-newer image runs it
with `python3 -I -S`: isolated from whatever site-packages the image has.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

# Packages and modules of multusctl the node checker imports (tests/fleet/test_zipapp.py proves the
# archive runs with nothing else on sys.path, over every distro root).
MODULES: tuple[str, ...] = (
    "__init__.py", "analyze.py", "catalog.py", "records.py", "data/checks.toml",
    "checks/", "config/", "gather/", "layout/", "report/",
    "fleet/__init__.py", "fleet/node_main.py",
)
# cluster-only analyzers and the CLI-side modules of those packages stay out: smaller and nothing to mistake
EXCLUDE: tuple[str, ...] = ("checks/cluster_", "checks/manifest_", "checks/nad_", "checks/fleet")
MAIN = "from multusctl.fleet.node_main import main\nraise SystemExit(main())\n"
# ConfigMap objects are limited to 1 MiB (data plus binaryData, base64 counted decoded).
CONFIGMAP_LIMIT = 1024 * 1024


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent


def _yaml_dir() -> Path | None:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        return None
    return Path(yaml.__file__).resolve().parent


def _members(base: Path, entries: tuple[str, ...], exclude: tuple[str, ...]) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for entry in entries:
        path = base / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if entry.endswith("/") else [path]
        for f in files:
            rel = f.relative_to(base).as_posix()
            if "__pycache__" in rel or f.suffix in (".pyc", ".so", ".pyd") or rel.startswith(exclude):
                continue
            out.append((rel, f))
    return out


def build() -> bytes:
    """The archive's bytes: deterministic (fixed timestamps, sorted), so two runs ship the same ConfigMap."""
    pkg = _package_dir()
    files = [(f"multusctl/{rel}", f) for rel, f in _members(pkg, MODULES, EXCLUDE)]
    yaml_dir = _yaml_dir()
    if yaml_dir is not None:
        # PyYAML falls back to its pure-Python loader when its C extension (yaml/_yaml*.so, or the
        # top-level _yaml) is absent, which is what the archive relies on.
        files += [(f"yaml/{rel}", f) for rel, f in _members(yaml_dir, ("./",), ())
                  if rel.endswith(".py")]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(_info("__main__.py"), MAIN)
        for name, path in files:
            zf.writestr(_info(name), path.read_bytes())
    data = buf.getvalue()
    if len(data) > CONFIGMAP_LIMIT - 4096:
        raise ValueError(f"the node checker zipapp is {len(data)} bytes, over what a ConfigMap holds")
    return data


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write(path: str) -> int:
    """Write the archive to `path` (for a look inside, or to run it by hand); its size."""
    data = build()
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    return len(data)
