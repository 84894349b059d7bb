"""Where the container runtime itself says CNI configs and plugins live.

The runtime, not the distribution, decides which conf dir and bin dirs are used, so these parsers are
the strongest evidence detection has. Every parser takes text and returns a `RuntimeCni`; nothing here
raises on bad input (a node may hold a half-edited or binary file): problems go to `RuntimeCni.problems`
and end up as evidence.

containerd key names (verified against containerd sources, internal/cri/config/config.go and
config_test.go, and docs/cri/config.md):
- config version 3 (containerd 2.x): `[plugins."io.containerd.cri.v1.runtime".cni]` with `conf_dir` and
  `bin_dirs` (a list, containerd >= 2.1) or the deprecated `bin_dir`; setting both is a startup error.
- config version 2 (containerd 1.x, auto-migrated by 2.x): `[plugins."io.containerd.grpc.v1.cri".cni]`
  `bin_dir`, `conf_dir`.
- config version 1 / no version (containerd <= 1.2, very old k3s): `[plugins.cri.cni]`.
When a runtime config exists but sets no CNI dirs, containerd uses its built-in defaults
`/etc/cni/net.d` and `/opt/cni/bin` (this is what k3s with `--flannel-backend=none` relies on).

CRI-O: `[crio.network] network_dir`, `plugin_dirs` (list) or the older `plugin_dir`; `crio.conf` first,
then every file of `crio.conf.d` in lexical order (any name: OpenShift's is `00-default`), later files
overriding single keys.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import tomllib
from typing import Any

from multusctl.gather.nodefs import NodeFS, NodeFSError
from multusctl.records import dataclass, field

CONTAINERD_DEFAULT_CONF_DIR = "/etc/cni/net.d"
CONTAINERD_DEFAULT_BIN_DIR = "/opt/cni/bin"
CRIO_DEFAULT_CONF_DIR = "/etc/cni/net.d"
CRIO_DEFAULT_BIN_DIR = "/opt/cni/bin"

V3_PLUGIN = "io.containerd.cri.v1.runtime"
V2_PLUGIN = "io.containerd.grpc.v1.cri"
V1_PLUGIN = "cri"

CRIO_MAIN = "/etc/crio/crio.conf"
CRIO_DROPIN_DIR = "/etc/crio/crio.conf.d"

# Files that may carry kubelet command-line flags. `--cni-conf-dir`/`--cni-bin-dir` were only honoured
# by the dockershim (removed in Kubernetes 1.24), so they are a last resort.
KUBELET_FLAG_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")

MAX_IMPORTS = 32  # a containerd `imports` glob could match anything; stay cheap

_GO_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_ASSIGN = re.compile(r"^\s*(?:\{\{.*?\}\}\s*)*([A-Za-z_][A-Za-z0-9_]*)\s*=")


@dataclass
class RuntimeCni:
    """CNI dirs named by one runtime configuration (possibly assembled from several files)."""

    kind: str  # "containerd" | "crio" | "kubelet-flags"
    source: str  # node path of the main file
    conf_dir: str | None = None
    bin_dirs: list[str] = field(default_factory=list)
    conf_dir_from: str | None = None  # "<file>: <table>.<key>", for evidence
    bin_dirs_from: str | None = None
    version: int | None = None  # containerd config version
    parsed: bool = False  # at least one file was read as TOML
    templated: bool = False  # read from a Go template (k3s config.toml.tmpl); placeholders dropped
    placeholders: list[str] = field(default_factory=list)  # template keys whose value k3s fills in
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def sets_dirs(self) -> bool:
        return self.conf_dir is not None or bool(self.bin_dirs)


# --- containerd -------------------------------------------------------------------------------------


def _table(doc: Any, *keys: str) -> dict[str, Any] | None:
    cur = doc
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur if isinstance(cur, dict) else None


def _clean_dir(value: Any) -> str | None:
    # Empty strings are what an unset k3s template placeholder renders to; containerd treats them as unset.
    if isinstance(value, str) and value.strip():
        return posixpath.normpath(value.strip())
    return None


def _clean_dirs(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for v in value:
        d = _clean_dir(v)
        if d and d not in out:
            out.append(d)
    return out


def _version_of(doc: dict[str, Any]) -> int | None:
    v = doc.get("version")
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _cni_tables(doc: dict[str, Any], version: int | None) -> list[tuple[str, dict[str, Any]]]:
    """The CNI tables containerd would read for this config version, most authoritative first."""
    plugins = doc.get("plugins")
    if not isinstance(plugins, dict):
        return []
    names = {
        V3_PLUGIN: f'plugins."{V3_PLUGIN}".cni',
        V2_PLUGIN: f'plugins."{V2_PLUGIN}".cni',
        V1_PLUGIN: "plugins.cri.cni",
    }
    if version == 3:
        order = [V3_PLUGIN]
    elif version == 2:
        order = [V2_PLUGIN, V3_PLUGIN]
    else:
        order = [V1_PLUGIN, V2_PLUGIN, V3_PLUGIN]
    found = []
    for plugin in order:
        t = _table(plugins, plugin, "cni")
        if t is not None:
            found.append((names[plugin], t))
    return found


def parse_containerd_toml(text: str, source: str, *, template: bool = False) -> RuntimeCni:
    """CNI dirs from a containerd config.toml (versions 1, 2, 3). Never raises."""
    res = RuntimeCni(kind="containerd", source=source, templated=template)
    if template:
        # A k3s template is Go text/template around TOML. Dropping the actions leaves TOML whose
        # placeholder values are empty (treated as unset, i.e. "k3s fills this in").
        if '{{ template "base"' in text or "{{template \"base\"" in text:
            res.notes.append(f"{source} extends k3s's built-in base template")
        kept = []
        for line in text.splitlines():
            m = _ASSIGN.match(line)
            if m and "{{" in line[m.end():]:
                # A value k3s fills in at render time (e.g. {{ .NodeConfig.AgentConfig.CNIBinDir }}).
                res.placeholders.append(m.group(1))
                line = _GO_ACTION.sub("", line[: m.start(1)])
            kept.append(line)
        text = _GO_ACTION.sub("", "\n".join(kept))
    doc = _load_toml(text, source, res)
    if doc is None:
        return res
    res.version = _version_of(doc)
    tables = _cni_tables(doc, res.version)
    if res.version == 3:
        old = _table(doc, "plugins", V2_PLUGIN, "cni")
        if old and (old.get("bin_dir") or old.get("conf_dir")):
            res.notes.append(
                f'{source}: [plugins."{V2_PLUGIN}".cni] is ignored in a version 3 config '
                f'(containerd 2.x reads [plugins."{V3_PLUGIN}".cni])'
            )
    for name, t in tables:
        conf = _clean_dir(t.get("conf_dir"))
        dirs = _clean_dirs(t.get("bin_dirs"))
        one = _clean_dir(t.get("bin_dir"))
        if dirs and one:
            res.problems.append(
                f"{source}: {name} sets both bin_dir and bin_dirs; containerd refuses to start with both"
            )
        if conf and res.conf_dir is None:
            res.conf_dir, res.conf_dir_from = conf, f"{source}: {name} conf_dir"
        if not res.bin_dirs:
            if dirs:
                res.bin_dirs, res.bin_dirs_from = dirs, f"{source}: {name} bin_dirs"
                if one and one not in dirs:
                    res.bin_dirs.append(one)
            elif one:
                res.bin_dirs, res.bin_dirs_from = [one], f"{source}: {name} bin_dir"
    return res


def read_containerd_config(fs: NodeFS, path: str, *, template: bool = False,
                           substitutions: dict[str, str] | None = None) -> RuntimeCni | None:
    """Parse a containerd config on the node, following its `imports`. None when the file is absent."""
    if not fs.exists(path):
        return None
    text = _read(fs, path)
    if isinstance(text, RuntimeCni):
        text.kind, text.source = "containerd", path
        return text
    for var, value in (substitutions or {}).items():
        text = text.replace("${" + var + "}", value).replace("$" + var, value)
    res = parse_containerd_toml(text, path, template=template)
    if res.parsed and not template:
        _merge_imports(fs, path, text, res)
    return res


def _merge_imports(fs: NodeFS, path: str, text: str, res: RuntimeCni) -> None:
    # containerd merges imported files over the main one (later wins), so an import can carry the CNI
    # dirs; k0s relies on this (/etc/k0s/containerd.d/*.toml, /run/k0s/containerd-cri.toml).
    try:
        imports = tomllib.loads(text).get("imports")
    except (tomllib.TOMLDecodeError, ValueError, TypeError, RecursionError):
        return
    if not isinstance(imports, list):
        return
    for imp in expand_glob(fs, [i for i in imports if isinstance(i, str)], base=posixpath.dirname(path)):
        sub_text = _read(fs, imp)
        if isinstance(sub_text, RuntimeCni):
            res.problems.extend(sub_text.problems)
            continue
        sub = parse_containerd_toml(sub_text, imp)
        res.problems.extend(sub.problems)
        res.notes.extend(sub.notes)
        if sub.conf_dir:
            res.conf_dir, res.conf_dir_from = sub.conf_dir, f"{sub.conf_dir_from} (imported by {path})"
        if sub.bin_dirs:
            res.bin_dirs, res.bin_dirs_from = sub.bin_dirs, f"{sub.bin_dirs_from} (imported by {path})"


def expand_glob(fs: NodeFS, patterns: list[str], base: str = "/") -> list[str]:
    """Node paths matching simple globs (wildcards in the last component only), sorted, capped."""
    out: list[str] = []
    for pat in patterns:
        pat = pat if pat.startswith("/") else posixpath.join(base, pat)
        parent, name = posixpath.split(posixpath.normpath(pat))
        if not any(c in name for c in "*?["):
            if fs.is_file(pat) and pat not in out:
                out.append(pat)
            continue
        try:
            names = fs.listdir(parent)
        except NodeFSError:
            continue
        import fnmatch  # only a config with a wildcard `imports` gets here

        for n in names:
            p = posixpath.join(parent, n)
            if fnmatch.fnmatchcase(n, name) and fs.is_file(p) and p not in out:
                out.append(p)
    return out[:MAX_IMPORTS]


# --- CRI-O ------------------------------------------------------------------------------------------


def _load_toml(text: str, source: str, res: RuntimeCni) -> dict[str, Any] | None:
    """The parsed document, or None with the reason added to `res.problems` (runtime configs never raise)."""
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, TypeError, RecursionError) as exc:
        res.problems.append(f"{source}: not valid TOML ({_one_line(exc)})")
        return None
    res.parsed = True
    return doc


def parse_crio_conf(text: str, source: str) -> RuntimeCni:
    """`[crio.network]` of one crio.conf / crio.conf.d file. Never raises."""
    res = RuntimeCni(kind="crio", source=source)
    doc = _load_toml(text, source, res)
    if doc is None:
        return res
    net = _table(doc, "crio", "network")
    if net is None:
        return res
    conf = _clean_dir(net.get("network_dir"))
    if conf:
        res.conf_dir, res.conf_dir_from = conf, f"{source}: [crio.network] network_dir"
    dirs = _clean_dirs(net.get("plugin_dirs"))
    one = _clean_dir(net.get("plugin_dir"))
    if dirs:
        res.bin_dirs, res.bin_dirs_from = dirs, f"{source}: [crio.network] plugin_dirs"
    elif one:
        res.bin_dirs, res.bin_dirs_from = [one], f"{source}: [crio.network] plugin_dir"
    default_net = net.get("cni_default_network")
    if isinstance(default_net, str) and default_net:
        # CRI-O then picks the network by name, not the lexically first file; checks should know.
        res.notes.append(f'{source}: [crio.network] cni_default_network = "{default_net}"')
    return res


def read_crio_config(fs: NodeFS, main: str = CRIO_MAIN, dropin_dir: str = CRIO_DROPIN_DIR) -> RuntimeCni | None:
    """CRI-O's effective network settings: crio.conf, then drop-ins in lexical order. None when absent."""
    files = [main] if fs.is_file(main) else []
    # CRI-O walks every file of the drop-in dir in lexical order, whatever its name (pkg/config
    # UpdateFromPath): OpenShift's MCO writes /etc/crio/crio.conf.d/00-default, without an extension.
    with contextlib.suppress(NodeFSError):
        files += [posixpath.join(dropin_dir, n) for n in sorted(fs.listdir(dropin_dir))]
    files = [f for f in files if fs.is_file(f)]
    if not files:
        return None
    res = RuntimeCni(kind="crio", source=files[0])
    for f in files:
        text = _read(fs, f)
        if isinstance(text, RuntimeCni):
            res.problems.extend(text.problems)
            continue
        part = parse_crio_conf(text, f)
        res.parsed = res.parsed or part.parsed
        res.problems.extend(part.problems)
        res.notes.extend(part.notes)
        if part.conf_dir:
            res.conf_dir, res.conf_dir_from = part.conf_dir, part.conf_dir_from
        if part.bin_dirs:
            res.bin_dirs, res.bin_dirs_from = part.bin_dirs, part.bin_dirs_from
    return res


# --- kubelet flags ----------------------------------------------------------------------------------


def parse_kubelet_flags(text: str, source: str) -> RuntimeCni:
    """`--cni-conf-dir` / `--cni-bin-dir` from an env file or flag list. Never raises."""
    res = RuntimeCni(kind="kubelet-flags", source=source)
    res.parsed = True
    flags = parse_flags(text)
    conf = _clean_dir(flags.get("cni-conf-dir"))
    if conf:
        res.conf_dir, res.conf_dir_from = conf, f"{source}: --cni-conf-dir"
    bins = flags.get("cni-bin-dir")
    if bins:
        # The dockershim accepted a comma-separated list here.
        dirs = _clean_dirs(bins.split(","))
        if dirs:
            res.bin_dirs, res.bin_dirs_from = dirs, f"{source}: --cni-bin-dir"
    return res


def read_kubelet_flags(fs: NodeFS, paths: tuple[str, ...] = KUBELET_FLAG_FILES) -> RuntimeCni | None:
    for p in paths:
        if not fs.is_file(p):
            continue
        text = _read(fs, p)
        if isinstance(text, RuntimeCni):
            continue
        res = parse_kubelet_flags(text, p)
        if res.sets_dirs:
            return res
    return None


def parse_flags(text: str) -> dict[str, str]:
    """`--name=value` / `--name value` pairs from shell-ish text (env files, unit files, manifests).

    Later occurrences win, like the Go flag parsers. Tolerates unbalanced quotes and garbage.
    """
    flags: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            import shlex  # a k3s/rke2 args file: only then

            tokens = shlex.split(line, comments=False, posix=True)
        except ValueError:
            tokens = line.split()
        expanded: list[str] = []
        for tok in tokens:
            name, sep, value = tok.partition("=")
            if sep and not name.startswith("-") and value.lstrip().startswith("-"):
                # KUBELET_KUBEADM_ARGS="--a=b --c=d" arrives as one token holding several flags.
                expanded.extend(value.split())
            else:
                expanded.append(tok)
        for i, tok in enumerate(expanded):
            tok = tok.strip("\"'")
            if not tok.startswith("--") or len(tok) <= 2:
                continue
            name, sep, value = tok[2:].partition("=")
            if not sep:
                nxt = expanded[i + 1].strip("\"'") if i + 1 < len(expanded) else ""
                value = nxt if nxt and not nxt.startswith("-") else "true"
            value = value.strip("\"'").rstrip("\\").strip()
            flags[name] = value
    return flags


# --- helpers ----------------------------------------------------------------------------------------


def _read(fs: NodeFS, path: str) -> str | RuntimeCni:
    """File text, or a RuntimeCni carrying the one-line read problem."""
    try:
        return fs.read_text(path)
    except NodeFSError as exc:
        res = RuntimeCni(kind="", source=path)
        res.problems.append(str(exc))
        return res


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
