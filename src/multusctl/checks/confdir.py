"""Checks of the runtime's CNI conf dir: present, valid, multus first, multus where the runtime looks.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import _referenced, network_field
from multusctl.checks.registry import Hit, check
from multusctl.checks.runtime import (
    _line_of,
    _primary_candidate,
    crio_skip_reason,
    load_error,
    restart_multus_pod,
    runtime_choice,
    runtime_kind,
)
from multusctl.config import cni as cni_mod
from multusctl.config import multus as multus_mod
from multusctl.config.errors import EMPTY_FILE
from multusctl.gather.snapshot import ConfFile, NodeSnapshot
from multusctl.report.finding import Severity

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
    names = snap.fs.names(snap.layout.conf_dir)
    listed = {c.path for c in snap.conf_files}
    conf_names = [n for n in names if n.endswith(cni_mod.CONF_EXTENSIONS)]
    for n in conf_names:
        p = posixpath.join(snap.layout.conf_dir, n)
        if p in listed:
            continue
        if snap.fs.stat(p) is None:
            yield Hit(
                message=f"{n} in {snap.layout.conf_dir} is a symlink to nothing (or cannot be resolved); "
                "the runtime lists it like any config file and fails to read it.",
                fix=f"Remove the broken link: rm {p}",
                path=p, evidence={"error": "dangling symlink"},
                severity="error" if n == conf_names[0] else "warning",
            )


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
