"""The runtime's CNI conf dir: is it there, is every file valid, is multus the one the runtime uses.

How the runtimes pick a config (verified upstream):
- containerd (go-cni `loadFromConfDir`, also k3s/rke2): libcni `ConfFiles(dir, .conf/.conflist/.json)`,
  `sort.Strings`, then loads files in that order up to `max_conf_num` (default 1). A file that fails to
  load is fatal (`failed to load CNI config ...`): the node's network stays "not initialized" and no pod
  starts. Files after the first are never read.
- CRI-O (ocicni) and the old dockershim: same listing and order, but an invalid file is logged and
  skipped, so the first *valid* file becomes the default network.
- The parser is chosen by extension: `.conflist` -> NetworkConfFromBytes, anything else -> ConfFromBytes
  (libcni/conf.go; see `config.cni.runtime_load_error`).
- Multus's own auto-config: the thin entrypoint (v4.1+) and the thick daemon take the first `.conf` or
  `.conflist` not named `00-multus*` as the primary; the thin entrypoint before v4.1 takes the very first
  file, its own output included (FACTS.md §7 #20), which is how multus ends up nested in itself.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from multusctl.checks.registry import Hit, check
from multusctl.config import cni as cni_mod
from multusctl.config import multus as multus_mod
from multusctl.config.errors import EMPTY_FILE, ParseError
from multusctl.config.jsonload import json_depth, loads
from multusctl.gather.nodefs import NodeFSError
from multusctl.gather.snapshot import ConfFile, NodeSnapshot, list_conf_files
from multusctl.report.finding import Severity

# Deeper than this we compare nothing structurally: Python's == and json.dumps recurse.
MAX_COMPARE_DEPTH = 200
MAX_DIFFS = 8
_LINE = re.compile(r"at line (\d+) column (\d+)")


# ---------------------------------------------------------------------------------------------------
# helpers shared with keys.py and binaries.py


def runtime_kind(snap: NodeSnapshot) -> str:
    """'crio' when the layout says CRI-O decides the CNI dirs, else 'containerd'."""
    if snap.layout.distro == "openshift":
        return "crio"
    for key in ("runtime", "conf_dir"):
        for line in snap.layout.evidence.get(key, []):
            if line.startswith("CRI-O") or "crio.conf" in line:
                return "crio"
    return "containerd"


def multus_pods(snap: NodeSnapshot) -> tuple[str, str]:
    """(namespace, label selector) of the multus DaemonSet's pods, for the kubectl commands of a fix.

    Upstream manifests and the microk8s addon label them app=multus in kube-system; the rke2-multus chart
    (RKE2's own, and k3s's documented install) labels them app=rke2-multus; OpenShift's CNO runs them in
    openshift-multus."""
    if snap.layout.distro == "openshift":
        return "openshift-multus", "app=multus"
    if snap.layout.distro in ("k3s", "rke2"):
        return "kube-system", "app in (multus,rke2-multus)"
    return "kube-system", "app=multus"


def restart_multus_pod(snap: NodeSnapshot) -> str:
    ns, sel = multus_pods(snap)
    return f"kubectl -n {ns} delete pod -l '{sel}' --field-selector spec.nodeName=<this node>"


def load_error(cf: ConfFile) -> str | None:
    """Why the runtime cannot load this file (parse error or libcni's extension rules), or None."""
    if cf.error is not None:
        return cf.error
    if cf.cni is None:
        return "not read"
    return cni_mod.runtime_load_error(cf.cni.raw, cf.name)


def crio_skip_reason(snap: NodeSnapshot, cf: ConfFile) -> str | None:
    """Why CRI-O (ocicni loadNetworks) skips this file: it cannot load it, or ValidateNetworkList finds a
    plugin of the chain missing from its plugin dirs. None when CRI-O would use it."""
    err = load_error(cf)
    if err is not None:
        return err
    assert cf.cni is not None
    for t in cf.cni.types:
        if "/" in t or not any(_is_file(snap, posixpath.join(d, t)) for d in snap.layout.bin_dirs):
            return f"its plugin {t!r} is not in {', '.join(snap.layout.bin_dirs)}"
    return None


def _is_file(snap: NodeSnapshot, path: str) -> bool:
    try:
        return snap.fs.is_file(path)
    except NodeFSError:
        return False


def runtime_choice(snap: NodeSnapshot) -> ConfFile | None:
    """The conf file the runtime uses for pods: the first one (containerd) or the first one it can load
    and validate (CRI-O). None when there is none, or when containerd would fail on the first file."""
    files = snap.conf_files
    if not files:
        return None
    if runtime_kind(snap) == "crio":
        return next((c for c in files if crio_skip_reason(snap, c) is None), None)
    return files[0] if load_error(files[0]) is None else None


def network_field(mc: multus_mod.MultusConfig, key: str) -> str:
    return f"plugins[0].{key}" if mc.cni.is_list else key


def network_paths(snap: NodeSnapshot, cf: ConfFile) -> list[tuple[str, str, str]]:
    """(field, value as written, host path) of each path-valued clusterNetwork/defaultNetworks of a
    multus config. Thin values are host paths; thick ones are read in the daemon pod (mapped back)."""
    mc = cf.multus
    if mc is None:
        return []
    values: list[tuple[str, Any]] = [(network_field(mc, "clusterNetwork"), mc.get("clusterNetwork"))]
    nets = mc.get("defaultNetworks")
    if isinstance(nets, list):
        values += [(network_field(mc, f"defaultNetworks[{i}]"), v) for i, v in enumerate(nets)]
    out = []
    for fld, v in values:
        if not isinstance(v, str) or "/" not in v or "\x00" in v:
            continue
        host = v if mc.mode == "thin" else snap.thick_paths.to_host(v)
        if host:
            out.append((fld, v, posixpath.normpath(host)))
    return out


def read_network(snap: NodeSnapshot, host_path: str) -> tuple[str, dict[str, Any]] | None:
    """(file, parsed object) a clusterNetwork path loads: a dir gives its first conf file."""
    fs = snap.fs
    try:
        path = host_path
        if fs.is_dir(path):
            files = list_conf_files(fs, path)
            if not files:
                return None
            path = files[0]
        obj = loads(fs.read_bytes(path))
    except (NodeFSError, ParseError):
        return None
    return (path, obj) if isinstance(obj, dict) else None


def master_of(snap: NodeSnapshot, cf: ConfFile) -> tuple[str, str, dict[str, Any]] | None:
    """(where, field, object) of the master (first) network of a multus config: the clusterNetwork file
    when set (it wins over delegates), else delegates[0]."""
    mc = cf.multus
    if mc is None:
        return None
    nets = network_paths(snap, cf)
    cluster = [n for n in nets if n[0].endswith("clusterNetwork")]
    if cluster:
        got = read_network(snap, cluster[0][2])
        return (got[0], "", got[1]) if got else None
    if mc.get("clusterNetwork"):
        return None  # a NAD or a name in confDir: not resolvable offline
    delegates = mc.get("delegates")
    if isinstance(delegates, list) and delegates and isinstance(delegates[0], dict):
        return cf.path, network_field(mc, "delegates[0]"), delegates[0]
    return None


def _line_of(error: str) -> int | None:
    m = _LINE.search(error)
    return int(m.group(1)) if m else None


def _primary_candidate(snap: NodeSnapshot) -> ConfFile | None:
    """The file multus's auto-config would take as the primary: first .conf/.conflist not 00-multus*."""
    for c in snap.conf_files:
        if c.name.endswith((".conf", ".conflist")) and not c.name.startswith("00-multus"):
            return c
    return None


def _referenced(snap: NodeSnapshot) -> set[str]:
    out: set[str] = set()
    for c in snap.multus_files:
        for _f, _v, host in network_paths(snap, c):
            out.add(host)
    return out


# ---------------------------------------------------------------------------------------------------


@check("conf-dir-missing")
def conf_dir_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    if snap.conf_dir_error is None:
        return
    src = "; ".join(snap.layout.evidence.get("conf_dir", [])) or "the distribution's default"
    yield Hit(
        message=f"The container runtime reads CNI configs from {snap.layout.conf_dir} ({src}), but "
        f"{snap.conf_dir_error}. Without it no pod on this node gets a network.",
        fix=f"Start the primary CNI (it creates the dir), or check the runtime's conf_dir; "
        f"override detection with --conf-dir if {snap.layout.conf_dir} is wrong.",
        path=snap.layout.conf_dir,
        evidence={"source": snap.layout.evidence.get("conf_dir", [])},
    )


@check("conf-invalid")
def conf_invalid(snap: NodeSnapshot) -> Iterator[Hit]:
    crio = runtime_kind(snap) == "crio"
    referenced = _referenced(snap)
    candidate = _primary_candidate(snap)
    for idx, cf in enumerate(snap.conf_files):
        err = load_error(cf)
        if err is None:
            continue
        yield _invalid_hit(snap, cf, idx, err, crio, cf.path in referenced or cf is candidate)
    yield from _dangling_links(snap)
    for cf in snap.multus_files:
        if load_error(cf) is None:
            yield from _netconf_type_hits(cf)


def _invalid_hit(snap: NodeSnapshot, cf: ConfFile, idx: int, err: str, crio: bool, used: bool) -> Hit:
    empty = err.endswith(EMPTY_FILE)
    line = _line_of(err)
    if idx == 0 and not crio:
        effect = ("containerd loads the first file of the dir and fails on it, so the node's pod network "
                  "stays uninitialised and no pod on this node can start")
    elif idx == 0:
        effect = ("CRI-O skips it and uses the next valid file, so pods silently get only that network "
                  "and no Multus")
    elif used:
        effect = ("the runtime does not read it today, but Multus does: it is the primary that Multus's "
                  "auto-config (or clusterNetwork) loads, so config generation or every pod ADD fails")
    else:
        effect = ("the runtime only reads the first file today, but this one becomes live as soon as the "
                  "files before it go away (e.g. the thick daemon deletes 00-multus.conf on shutdown, MC#1527)")
    what = f"{cf.name} is empty" if empty else f"{cf.name} cannot be loaded: {err}"
    if empty and cf.name.startswith("00-multus"):
        what += (" (an empty 00-multus.conf is what the thick daemon leaves when it generated its config "
                 "while the primary CNI config was missing, MC#1155)")
        fix = (f"Delete it (`rm {cf.path}`) and restart the Multus pod on this node once the primary CNI "
               f"config exists in {snap.layout.conf_dir}: {restart_multus_pod(snap)}")
    elif empty:
        fix = f"Delete the empty file (`rm {cf.path}`) or restore its content."
    elif line is not None:
        fix = (f"Fix the JSON at line {line} (check with `python3 -m json.tool {cf.path}`), or move the "
               f"file out of {snap.layout.conf_dir}.")
    elif "save it as .conflist" in err:
        fix = f"Rename it so the runtime parses it as a list: `mv {cf.path} {_swap_ext(cf.path, '.conflist')}`"
    elif "saved as .conf" in err:
        fix = f"Rename it so the runtime parses it as a single config: `mv {cf.path} {_swap_ext(cf.path, '.conf')}`"
    elif any(k in err for k in ("too large", "not UTF-8", "not a regular file", "symbolic links")):
        fix = (f"This is not a CNI config: move it out of the conf dir, e.g. "
               f"`mv {cf.path} /root/{cf.name}.bak`, or restore the real config from a backup.")
    else:
        fix = (f'Give it a "type" (single plugin, .conf) or a non-empty "plugins" list with a "name" '
               f"(.conflist), or move it out of {snap.layout.conf_dir}.")
    severity: Severity = "error" if idx == 0 or used else "warning"
    evidence: dict[str, Any] = {"error": err, "position": idx, "runtime": runtime_kind(snap),
                                "size": cf.info.size if cf.info else None}
    if line is not None:
        evidence["line"] = line
    return Hit(message=f"{what}. Why it matters: {effect}.", fix=fix, path=cf.path,
               evidence=evidence, severity=severity)


def _swap_ext(path: str, ext: str) -> str:
    return posixpath.splitext(path)[0] + ext


def _dangling_links(snap: NodeSnapshot) -> Iterator[Hit]:
    """libcni lists directory entries without following links, so a dangling symlink is loaded too."""
    if snap.conf_dir_error is not None:
        return
    try:
        names = snap.fs.listdir(snap.layout.conf_dir)
    except NodeFSError:
        return
    listed = {c.path for c in snap.conf_files}
    conf_names = [n for n in names if n.endswith(cni_mod.CONF_EXTENSIONS)]
    for n in conf_names:
        p = posixpath.join(snap.layout.conf_dir, n)
        if p in listed:
            continue
        try:
            if snap.fs.stat(p) is None:
                yield Hit(
                    message=f"{n} in {snap.layout.conf_dir} is a symlink to nothing (or cannot be resolved); "
                    "the runtime lists it like any config file and fails to read it.",
                    fix=f"Remove the broken link: rm {p}",
                    path=p, evidence={"error": "dangling symlink"},
                    severity="error" if n == conf_names[0] else "warning",
                )
        except NodeFSError:
            continue


def _netconf_type_hits(cf: ConfFile) -> Iterator[Hit]:
    """What makes multus's own LoadNetConf reject the config: every pod ADD then fails."""
    mc = cf.multus
    if mc is None:
        return
    has_cluster = bool(mc.get("clusterNetwork"))
    delegates = mc.get("delegates")
    if not has_cluster and (not isinstance(delegates, list) or not delegates):
        yield Hit(
            message=f"{cf.name} has neither delegates nor clusterNetwork, so multus rejects it on every pod ADD "
            '("LoadNetConf: at least one delegate/clusterNetwork must be specified").',
            fix=f'Add "clusterNetwork": "<path of the primary CNI config>" to {cf.path}, or regenerate it.',
            path=cf.path, field=network_field(mc, "delegates"), evidence={"delegates": len(delegates or [])},
        )
    elif not has_cluster and mc.delegate_errors:
        yield Hit(
            message=f"{cf.name}: {mc.delegate_errors[0]}; multus loads every delegate at each pod ADD and fails "
            "(\"LoadDelegateNetConfList: delegate must have the 'type' or 'plugin' field\"), so no pod starts.",
            fix='Give each delegate a "type" (single plugin) or a "plugins" list, or remove the broken entry.',
            path=cf.path, field=network_field(mc, "delegates"), evidence={"errors": mc.delegate_errors[:5]},
        )
    for key, want, got in multus_mod.netconf_type_errors(mc.plugin):
        yield Hit(
            message=f'"{key}" in {cf.name} is a {got}, but multus decodes it as a {want}; Go\'s JSON decoder '
            f"then rejects the whole config, so every pod ADD fails with \"LoadNetConf: failed to load "
            f'netconf: json: cannot unmarshal {got} into Go struct field ... of type ..."',
            fix=f'Write "{key}" as a {want} (e.g. ' + _example(want) + ").",
            path=cf.path, field=network_field(mc, key),
            evidence={"key": key, "expected": want, "found": got},
        )


def _example(want: str) -> str:
    return {"string": '"value"', "boolean": "true or false", "object": "{...}",
            "list of strings": '["a", "b"]', "list of objects": "[{...}]"}.get(want, want)


@check("multus-not-first")
def multus_not_first(snap: NodeSnapshot) -> Iterator[Hit]:
    multus = [c for c in snap.multus_files if load_error(c) is None]
    if not multus:
        return
    used = runtime_choice(snap)
    if used is None or used.multus is not None:
        return  # nothing loads (conf-invalid says why) or multus is in use
    m = multus[0]
    crio = runtime_kind(snap) == "crio"
    order = [c.name for c in snap.conf_files]
    rule = ("CRI-O uses the first file it can load and whose plugins it finds" if crio else
            "containerd uses only the lexically first .conf/.conflist/.json file")
    new_name = _name_before(used.name, m.name)
    skipped = crio_skip_reason(snap, m) if crio else None
    if skipped is not None and m.name < used.name:
        # The multus file is first, but CRI-O skips it: renaming would not help.
        net = used.cni.name if used.cni and used.cni.name else used.name
        yield Hit(
            message=f"CRI-O skips {m.name} because {skipped}, and uses {used.name} instead, so pods get only the "
            f"{net!r} network: Multus never runs and pod network annotations are ignored without any error.",
            fix="Install the missing plugin into the CRI-O plugin dir (see plugin-missing / multus-binary-missing), "
            "then check the node again.",
            path=m.path,
            evidence={"runtime_uses": used.path, "multus_config": m.path, "skipped_because": skipped},
        )
        return
    net = used.cni.name if used.cni and used.cni.name else used.name
    yield Hit(
        message=f"{used.name} comes before {m.name} in {snap.layout.conf_dir} and {rule}, so pods get only "
        f"the {net!r} network: Multus never runs, pod network annotations and NetworkAttachmentDefinitions "
        "are ignored without any error.",
        fix=f"Rename the multus config so it sorts first: mv {m.path} "
        f"{posixpath.join(snap.layout.conf_dir, new_name)}",
        path=m.path,
        evidence={"runtime_uses": used.path, "multus_config": m.path, "order": order[: order.index(m.name) + 1]},
    )


def _name_before(first: str, current: str) -> str:
    """A file name for the multus config that sorts before `first` (keeps the multus file's extension)."""
    ext = posixpath.splitext(current)[1] or ".conf"
    for stem in ("00-multus", "000-multus", "0-multus", "!-multus"):
        if stem + ext < first:
            return stem + ext
    return "00-multus" + ext


@check("multus-conf-wrong-dir")
def multus_conf_wrong_dir(snap: NodeSnapshot) -> Iterator[Hit]:
    conf_dir = snap.layout.conf_dir
    src = "; ".join(snap.layout.evidence.get("conf_dir", [])) or "the distribution's default"
    in_use = snap.multus
    for cf in snap.stray_multus:
        where = posixpath.dirname(cf.path)
        severity: Severity
        if in_use is not None:
            why = (f"{in_use.path} is the one in use, so this copy is a leftover; it misleads whoever reads "
                   "it and becomes live if the runtime is ever pointed at that dir")
            severity = "warning"
            fix = f"Remove the leftover: rm {cf.path}"
        else:
            why = ("the runtime here has no multus config at all, so Multus never runs and pod network "
                   "annotations are ignored")
            severity = "error"
            thick = cf.multus is not None and cf.multus.mode == "thick"
            if thick:
                # daemon-config.json keeps its in-pod paths (/host/etc/cni/net.d); only the volumes move.
                fix = (f"Install Multus into {conf_dir}: in the thick DaemonSet, set the hostPath of the volume "
                       f"mounted at /host/etc/cni/net.d to {conf_dir} and the one of its CNI bin volume to "
                       f"{snap.layout.bin_dirs[0] if snap.layout.bin_dirs else '/opt/cni/bin'} (where the "
                       "runtime looks for multus-shim)")
            else:
                fix = (f"Install Multus into {conf_dir}: point the DaemonSet's CNI conf hostPath (and "
                       f"--multus-autoconfig-dir / --cni-conf-dir) at {conf_dir}")
            if snap.layout.distro in ("k3s", "rke2") and not thick:
                fix += (f"; with the rke2-multus chart set config.cni_conf.confDir={conf_dir} and "
                        f"config.cni_conf.multusAutoconfigDir={conf_dir}")
            fix += f", then remove {cf.path}."
        yield Hit(
            message=f"{cf.path} is a multus config, but the container runtime reads CNI configs from "
            f"{conf_dir} ({src}), not {where}; {why}.",
            fix=fix, path=cf.path, severity=severity,
            evidence={"runtime_conf_dir": conf_dir, "dir": where, "mode": cf.multus.mode if cf.multus else None},
        )


@check("multus-duplicate")
def multus_duplicate(snap: NodeSnapshot) -> Iterator[Hit]:
    files = snap.multus_files
    if len(files) > 1:
        keep, extra = files[0], files[1:]
        yield Hit(
            message=f"{len(files)} multus configs in {snap.layout.conf_dir}: "
            f"{', '.join(c.name for c in files)}. The runtime uses only {keep.name}; the others are stale, and "
            "Multus's auto-config can take one of them as the primary network and nest Multus in Multus "
            "(pods then fail with `interface name net1 already exists`, MC#549).",
            fix="Remove the extra ones: rm " + " ".join(c.path for c in extra),
            path=extra[0].path,
            evidence={"files": [c.path for c in files], "in_use": keep.path},
        )
    for cf in files:
        yield from _nesting(snap, cf)


def _nesting(snap: NodeSnapshot, cf: ConfFile) -> Iterator[Hit]:
    mc = cf.multus
    if mc is None:
        return
    primary = snap.primary
    regen = (f"Delete it (rm {cf.path}) and let Multus regenerate it from the primary"
             + (f" ({primary.path})" if primary else "")
             + "; with a multus thin image older than v4.1.0 (which nests itself on every restart, FACTS.md "
             "§7 #20) use a static config instead: --multus-conf-file=<file> whose clusterNetwork names the "
             "primary by path.")
    if mc.nesting_depth > 0:
        size = cf.info.size if cf.info else None
        depth = _text_depth(snap, cf.path)
        yield Hit(
            message=f"{cf.name} nests multus inside itself {mc.nesting_depth} level(s) deep (its delegates "
            f"contain another multus config). Each level runs Multus again for the same pod, so secondary "
            "interfaces are added twice (`interface name net1 already exists`, MC#549) and the file grows "
            f"on every restart of a pre-v4.1 thin DaemonSet"
            + (f" (now {size} bytes, JSON depth {depth})" if size is not None else "") + ".",
            fix=regen, path=cf.path, field=network_field(mc, "delegates"),
            evidence={"depth": mc.nesting_depth, "size": size, "json_depth": depth},
        )
    for fld, value, host in network_paths(snap, cf):
        got = read_network(snap, host)
        if got is None:
            continue
        target, obj = got
        try:
            tcfg = cni_mod.from_obj(obj)
        except ParseError:
            continue
        if tcfg.multus_type is None:
            continue
        try:
            self_ref = snap.fs.resolve(target) == snap.fs.resolve(cf.path)
        except NodeFSError:
            self_ref = False
        inner = multus_mod.multus_depth(tcfg.plugins[0])
        depth_txt = "it points at itself, so the nesting has no end" if self_ref else \
            f"nesting depth {1 + inner}"
        yield Hit(
            message=f'"{fld}": "{value}" in {cf.name} loads {target}, which is itself a multus config '
            f"({depth_txt}): Multus runs Multus for every pod, adding its interfaces twice or looping until "
            "the runtime times out.",
            fix=f'Point "{fld}" at the primary CNI config'
            + (f" ({_as_written(snap, cf, primary.path)})" if primary else "") + ".",
            path=cf.path, field=fld,
            evidence={"target": target, "depth": None if self_ref else 1 + inner, "self": self_ref},
        )


def _as_written(snap: NodeSnapshot, cf: ConfFile, host: str) -> str:
    if cf.multus is not None and cf.multus.mode == "thick":
        return snap.thick_paths.to_pod(host) or host
    return host


def _text_depth(snap: NodeSnapshot, path: str) -> int | None:
    try:
        return json_depth(snap.fs.read_text(path))
    except NodeFSError:
        return None


@check("delegate-drift")
def delegate_drift(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin" or m.multus.get("clusterNetwork"):
        return
    mc = m.multus
    delegates = mc.get("delegates")
    if not isinstance(delegates, list) or not delegates or not isinstance(delegates[0], dict):
        return
    embedded = delegates[0]
    if mc.nesting_depth > 0:
        return  # multus-duplicate reports the nesting; comparing a multus delegate says nothing more
    current = _matching_primary(snap, embedded)
    if current is None or current.cni is None:
        return
    diffs = structural_diff(embedded, current.cni.raw)
    if diffs is None or not diffs:
        return
    shown = "; ".join(_fmt_diff(d) for d in diffs[:MAX_DIFFS])
    more = f" (and {len(diffs) - MAX_DIFFS} more)" if len(diffs) > MAX_DIFFS else ""
    old_name, new_name = embedded.get("name"), current.cni.name
    if isinstance(old_name, str) and new_name and old_name != new_name:
        shown = (f"it embeds network {old_name!r}, but the primary network in {snap.layout.conf_dir} is now "
                 f"{new_name!r} (the primary CNI was replaced)")
        more = ""
    k3s = " k3s rewrites its flannel config on every start and upgrade, so the copy goes stale." \
        if snap.layout.distro == "k3s" else ""
    yield Hit(
        message=f"{m.name} embeds a copy of the primary network as delegates[0], taken when it was written; "
        f"{current.name} now differs: {shown}{more}. Multus runs the embedded copy, so pods do not get the "
        f"primary CNI's current settings.{k3s}",
        fix=f"Regenerate {m.name} (restart the Multus pod on this node), or stop embedding: replace "
        f'"delegates" with "clusterNetwork": "{current.path}" so Multus reads the live file.',
        path=m.path, field=network_field(mc, "delegates[0]"),
        evidence={"primary": current.path, "differences": [_fmt_diff(d) for d in diffs[:MAX_DIFFS]],
                  "count": len(diffs)},
    )


def _matching_primary(snap: NodeSnapshot, embedded: dict[str, Any]) -> ConfFile | None:
    """The non-multus config with the embedded delegate's network name, else the primary."""
    name = embedded.get("name")
    for c in snap.conf_files:
        if c.cni is not None and c.multus is None and isinstance(name, str) and c.cni.name == name:
            return c
    return snap.primary


def structural_diff(a: Any, b: Any) -> list[tuple[str, Any, Any]] | None:
    """(path, embedded value, file value) for each difference, comparing parsed JSON (key order and
    whitespace do not matter; 1 and 1.0 are equal, as in Go's map[string]interface{}). None when either
    side is too deep to compare safely. Iterative."""
    diffs: list[tuple[str, Any, Any]] = []
    stack: list[tuple[str, Any, Any, int]] = [("", a, b, 0)]
    while stack:
        path, x, y, depth = stack.pop()
        if depth > MAX_COMPARE_DEPTH:
            return None
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), reverse=True):
                sub = f"{path}.{k}" if path else k
                if k not in x:
                    diffs.append((sub, _MISSING, y[k]))
                elif k not in y:
                    diffs.append((sub, x[k], _MISSING))
                else:
                    stack.append((sub, x[k], y[k], depth + 1))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                diffs.append((path or ".", f"{len(x)} entries", f"{len(y)} entries"))
                continue
            for i in range(len(x) - 1, -1, -1):
                stack.append((f"{path}[{i}]", x[i], y[i], depth + 1))
        elif not _scalar_equal(x, y):
            diffs.append((path or ".", x, y))
    diffs.sort(key=lambda d: d[0])
    return diffs


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def _scalar_equal(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return float(x) == float(y)
    if isinstance(x, dict | list) or isinstance(y, dict | list):
        return False
    return bool(x == y)


def _fmt_diff(d: tuple[str, Any, Any]) -> str:
    path, x, y = d
    return f"{path}: {_short(x)} -> {_short(y)}"


def _short(v: Any) -> str:
    if v is _MISSING:
        return "(absent)"
    if isinstance(v, dict):
        return "{...}"
    if isinstance(v, list):
        return "[...]"
    text = repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


# Where Multus DaemonSets of one distro or another drop their binaries; traces there mean someone
# installed Multus on this node, whether or not the runtime can see it.
WELL_KNOWN_BIN_DIRS = (
    "/opt/cni/bin",
    "/var/lib/rancher/k3s/data/cni",
    "/var/lib/cni/bin",
    "/usr/libexec/cni",
    "/var/snap/microk8s/current/opt/cni/bin",
)
MULTUS_SOCKET = "/run/multus/multus.sock"


def multus_traces(snap: NodeSnapshot) -> list[str]:
    """Signs on the node that Multus was installed: binaries, the thick daemon's socket, multus.d files."""
    traces: list[str] = []
    for d in dict.fromkeys((*snap.layout.bin_dirs, *WELL_KNOWN_BIN_DIRS)):
        for name in ("multus", "multus-shim"):
            if snap.fs.is_file(posixpath.join(d, name)):
                traces.append(posixpath.join(d, name))
    if snap.fs.exists(MULTUS_SOCKET):
        traces.append(MULTUS_SOCKET)
    for d in dict.fromkeys((snap.layout.conf_dir, "/etc/cni/net.d")):
        for name in ("daemon-config.json", "multus.kubeconfig"):
            p = posixpath.join(d, "multus.d", name)
            if snap.fs.is_file(p):
                traces.append(p)
    return traces


@check("multus-config-missing")
def multus_config_missing(snap: NodeSnapshot) -> Iterator[Hit]:
    # A stray multus config is the sharper diagnosis (multus-conf-wrong-dir); an unreadable conf dir is
    # conf-dir-missing. What is left is the silent case: Multus deployed, pods get only the primary network.
    if snap.multus is not None or snap.stray_multus or snap.conf_dir_error is not None:
        return
    if any(load_error(c) is not None and "multus" in c.name.lower() for c in snap.conf_files):
        return  # the multus config is there but broken (an empty 00-multus.conf, MC#1155): conf-invalid
    traces = multus_traces(snap)
    if not traces:
        return
    conf_dir, bin_dirs = snap.layout.conf_dir, snap.layout.bin_dirs
    elsewhere = [t for t in traces if not t.startswith((conf_dir + "/", *(b.rstrip("/") + "/" for b in bin_dirs)))
                 and t != MULTUS_SOCKET]
    if elsewhere:
        why = (f"the Multus files on this node ({', '.join(elsewhere)}) sit where the upstream DaemonSet puts "
               f"them, but this node's runtime reads {conf_dir} and runs plugins from {', '.join(bin_dirs)}. "
               "The DaemonSet then finds no primary CNI config in the dir it watches (`cannot find valid master "
               "CNI config`, MC#685) and no multus config ever reaches the runtime")
    elif MULTUS_SOCKET in traces:
        why = ("the thick daemon's socket exists, so the daemon ran here, but its 00-multus.conf is gone: the "
               "daemon deletes it on shutdown and the primary's file becomes first (MC#1527), or it is still "
               "waiting for the primary CNI config")
    else:
        why = "Multus's files are here but it never wrote (or someone removed) its config"
    restart = f"`{restart_multus_pod(snap)}`."
    if not elsewhere:
        # Installed with this node's paths: the pod on this node is what did not (re)write the config.
        ns, sel = multus_pods(snap)
        fix = (f"Multus is installed with this node's paths, so look at its pod on this node: `kubectl -n {ns} "
               f"get pods -l '{sel}' -o wide --field-selector spec.nodeName=<this node>` and its "
               f"logs (it waits for the primary CNI config in {conf_dir}; the thick daemon deletes its "
               f"00-multus.conf when it stops, MC#1527); then restart it: {restart}")
        yield Hit(
            message=f"No multus config is in the runtime's conf dir {conf_dir}, yet {why}. Pods on this node get "
            "only the primary network and their k8s.v1.cni.cncf.io/networks annotations are silently ignored.",
            fix=fix, path=conf_dir,
            evidence={"traces": traces, "runtime_conf_dir": conf_dir, "runtime_bin_dirs": list(bin_dirs)},
        )
        return
    fix = (f"Install Multus with this node's paths: the DaemonSet's CNI conf hostPath = {conf_dir} and bin "
           f"hostPath = {bin_dirs[0]}")
    if snap.layout.distro in ("k3s", "rke2"):
        # The chart's cni_conf values reach only its thin DaemonSet; its thick one hard-codes /etc/cni/net.d
        # and /opt/cni/bin (FACTS.md §5), so a thick install there means editing the DaemonSet's volumes.
        thick = any(t.endswith("/multus-shim") or t == MULTUS_SOCKET for t in traces)
        fix += (" (rke2-multus chart" + (" in thin mode, since its thick mode hard-codes /etc/cni/net.d and "
                                         "/opt/cni/bin" if thick else "")
                + f": config.cni_conf.confDir={conf_dir}, config.cni_conf.binDir={bin_dirs[0]}, "
                f"config.cni_conf.multusAutoconfigDir={conf_dir}, config.cni_conf.kubeconfig="
                f"{snap.layout.multus_kubeconfig})")
    fix += f"; then restart the multus pod on this node: {restart}"
    yield Hit(
        message=f"No multus config is in the runtime's conf dir {conf_dir}, yet {why}. Pods on this node get "
        "only the primary network and their k8s.v1.cni.cncf.io/networks annotations are silently ignored.",
        fix=fix,
        path=conf_dir,
        evidence={"traces": traces, "runtime_conf_dir": conf_dir, "runtime_bin_dirs": list(bin_dirs)},
    )
