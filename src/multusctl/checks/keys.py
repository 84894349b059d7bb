"""Keys and values of the multus config that Multus silently ignores or rejects.

Multus decodes its config with Go's encoding/json (pkg/types/conf.go LoadNetConf; the thick daemon's
ParseMultusConfig and LoadDaemonNetConf): unknown keys are dropped without a word, keys that differ from a
known one only in letter case are accepted (the last spelling in the file wins), and `logLevel` is
lower-cased before it is matched (pkg/logging getLoggingLevel). The thick daemon copies every key of
daemon-config.json over each CNI request, so daemon-config.json may hold any thin key as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import master_of, network_field
from multusctl.checks.registry import Hit, check
from multusctl.config import multus as multus_mod
from multusctl.config.cni import version_tuple
from multusctl.gather.effective import Setting
from multusctl.gather.snapshot import ConfFile, NodeSnapshot

# What is lost when the key multus reads is not set (for the "why" of a finding).
CONSEQUENCE = {
    "readinessindicatorfile": "multus does not wait for the primary network to be ready",
    "retryDeleteOnError": "a failed delegate DEL is not retried on the next delegates",
    "kubeconfig": "multus has no API credentials and ignores every NetworkAttachmentDefinition",
    "confDir": "multus looks for named networks in the default /etc/cni/multus/net.d",
    "binDir": "multus looks for plugins only in /opt/cni/bin and the runtime's CNI_PATH",
    "cniDir": "multus caches delegates in the default /var/lib/cni/multus",
    "logFile": "nothing is logged to a file",
    "logLevel": "multus logs at its default level (panic: almost nothing)",
    "clusterNetwork": "the setting has no effect",
    "defaultNetworks": "the extra default networks are not attached",
    "namespaceIsolation": "namespace isolation stays off",
    "globalNamespaces": "the global namespaces stay at the default (\"default\")",
}
LEVEL_SUGGESTION = {
    "info": "verbose", "warn": "error", "warning": "error", "trace": "debug", "fatal": "panic",
    "err": "error", "debugging": "debug", "v": "verbose",
}


def _sources(snap: NodeSnapshot) -> Iterator[tuple[str, str, dict[str, Any], frozenset[str], str]]:
    """(path, field prefix, object, valid keys, what) for each object whose keys multus reads."""
    m = snap.multus
    if m is not None and m.multus is not None:
        mc = m.multus
        table = multus_mod.THIN_KEYS if mc.mode == "thin" else multus_mod.SHIM_KEYS
        what = "thin multus config" if mc.mode == "thin" else "thick multus-shim config"
        yield m.path, "plugins[0]." if mc.cni.is_list else "", mc.plugin, table, what
    dc = snap.daemon_config
    if dc is not None and dc.config is not None:
        yield dc.path, "", dc.config.raw, multus_mod.DAEMON_KEYS, "daemon-config.json"


@check("config-key-unknown")
def config_key_unknown(snap: NodeSnapshot) -> Iterator[Hit]:
    for path, prefix, obj, table, what in _sources(snap):
        folded = {k.lower(): k for k in table}
        seen: set[str] = set()
        for key in obj:
            if key in table:
                continue
            canonical = folded.get(key.lower())
            if canonical is not None:
                if canonical.lower() not in seen:
                    seen.add(canonical.lower())
                    yield _case_variant(path, prefix, obj, key, canonical, what)
                continue
            yield _unknown(path, prefix, obj, key, table, what)
    yield from _conflist_top_level(snap)


def _case_variant(path: str, prefix: str, obj: dict[str, Any], key: str, canonical: str, what: str) -> Hit:
    spellings = multus_mod.spellings(obj, canonical)
    values = {k: obj[k] for k in spellings}
    effective = multus_mod.lookup(obj, canonical)
    if len(spellings) > 1 and len({repr(v) for v in values.values()}) > 1:
        return Hit(
            message=f"{what} {path} sets {' and '.join(repr(k) for k in spellings)}. Multus's Go JSON decoder "
            f"matches keys case-insensitively, so all of them fill the same setting {canonical!r} and the "
            f"last one in the file wins: {_safe(effective)!r}. The other value is silently dropped.",
            fix=f'Keep one key, spelled "{canonical}", with the value you want.',
            path=path, field=prefix + key,
            evidence={"keys": spellings, "effective": _safe(effective), "canonical": canonical},
        )
    return Hit(
        message=f"{what} {path} spells {canonical!r} as {key!r}. Multus still reads it (Go's JSON decoder "
        "ignores the case of keys), but tools and people reading the file case-sensitively (jq, chart "
        f"templates, reviewers) will think {canonical!r} is unset.",
        fix=f'Rename "{key}" to "{canonical}".',
        path=path, field=prefix + key, severity="info",
        evidence={"key": key, "canonical": canonical},
    )


def _unknown(path: str, prefix: str, obj: dict[str, Any], key: str, table: frozenset[str], what: str) -> Hit:
    meant = multus_mod.suggest_key(key, table)
    if key == "cniConf":
        return Hit(
            message=f"{what} {path} has \"cniConf\": {_safe(obj[key])!r}. The thin entrypoint writes it from "
            "--multus-cni-conf-dir, but no Multus code reads it; the key Multus reads for its own networks "
            "dir is \"confDir\" (a host path).",
            fix='Nothing breaks; to set the dir Multus reads named networks from, use "confDir": "<host path>".',
            path=path, field=prefix + key, severity="info", evidence={"key": key, "meant": "confDir"},
        )
    if meant is not None and meant not in obj and meant.lower() not in {k.lower() for k in obj if k != key}:
        lost = CONSEQUENCE.get(meant, "the setting has no effect")
        return Hit(
            message=f"{what} {path} sets {key!r}, which Multus does not read (unknown keys are silently "
            f"ignored); the key it reads is {meant!r}, so {lost}.",
            fix=f'Rename "{key}" to "{meant}" (same value).',
            path=path, field=prefix + key, evidence={"key": key, "meant": meant},
        )
    tail = f" (the key it reads, {meant!r}, is also set)" if meant is not None else ""
    return Hit(
        message=f"{what} {path} sets {key!r}, which Multus does not read: unknown keys are silently "
        f"ignored{tail}, so whatever it was meant to change does not happen.",
        fix=f'Remove "{key}", or replace it with the Multus key you meant (see FACTS.md §2 for the list).',
        path=path, field=prefix + key, evidence={"key": key, "meant": meant},
    )


def _conflist_top_level(snap: NodeSnapshot) -> Iterator[Hit]:
    """Multus keys put at the top of a 00-multus.conflist: libcni passes only plugins[0] to multus."""
    m = snap.multus
    if m is None or m.multus is None or not m.multus.cni.is_list:
        return
    for key in m.multus.raw:
        if key in multus_mod.CONFLIST_KEYS:
            continue
        canonical = {k.lower(): k for k in multus_mod.THIN_KEYS}.get(key.lower())
        if canonical is None:
            continue
        yield Hit(
            message=f"{m.path} is a conflist with {key!r} at its top level; the runtime hands each plugin only "
            "its own object (plus name and cniVersion), so Multus never sees it"
            + (f": {CONSEQUENCE[canonical]}" if canonical in CONSEQUENCE else "") + ".",
            fix=f'Move "{key}" into plugins[0] (the object with "type": "multus").',
            path=m.path, field=key, evidence={"key": key},
        )


def _safe(v: Any) -> Any:
    """A short JSON-able rendering of a value for evidence (never a whole nested object)."""
    if isinstance(v, str | int | float | bool) or v is None:
        return v if not isinstance(v, str) or len(v) <= 200 else v[:200] + "..."
    return type(v).__name__


@check("log-level-invalid")
def log_level_invalid(snap: NodeSnapshot) -> Iterator[Hit]:
    for path, prefix, obj, _table, what in _sources(snap):
        is_daemon = what == "daemon-config.json"
        for key in multus_mod.spellings(obj, "logLevel"):
            value = obj[key]
            if value is None or value == "":
                continue  # unset: multus keeps its default
            if not isinstance(value, str):
                if is_daemon:
                    yield Hit(
                        message=f'"{key}" in {path} is a {multus_mod.json_type_name(value)}, not a string: the '
                        "daemon cannot decode daemon-config.json and exits at start, so every pod ADD fails.",
                        fix=f'Set "{key}": "verbose" (one of {", ".join(multus_mod.LOG_LEVELS)}).',
                        path=path, field=prefix + key, severity="error",
                        evidence={"value": _safe(value)},
                    )
                continue  # in the CNI config conf-invalid reports the failed decode
            if value.lower() in multus_mod.LOG_LEVELS:
                continue
            better = LEVEL_SUGGESTION.get(value.lower().strip(), "verbose")
            yield Hit(
                message=f'"{key}": "{value}" in {path} is not a Multus log level (it accepts '
                f"{', '.join(multus_mod.LOG_LEVELS)}, any case). Multus prints `cannot set logging level to "
                f"{value}` and keeps its default, panic, so errors are not logged when you need them.",
                fix=f'Set "{key}": "{better}".',
                path=path, field=prefix + key,
                evidence={"value": value, "accepted": list(multus_mod.LOG_LEVELS), "suggested": better},
            )


@check("global-namespaces-no-default")
def global_namespaces_no_default(snap: NodeSnapshot) -> Iterator[Hit]:
    eff = snap.effective
    setting = eff.get("globalNamespaces") if eff else None
    if eff is None or eff.value("namespaceIsolation") is not True or setting is None:
        return
    path, fld, value = setting.source, setting.field, setting.value
    if not isinstance(value, str) or not value.strip():
        return
    names = [n.strip() for n in value.split(",")]
    if "default" in names:
        return
    yield Hit(
        message=f'namespaceIsolation is on and "globalNamespaces": "{value}" replaces Multus\'s default list '
        '(which is just "default"), so pods in other namespaces can no longer use NetworkAttachmentDefinitions '
        'kept in "default" (`namespace isolation enabled, annotation violates permission`).',
        fix=f'If that is not intended, add it: "globalNamespaces": "{",".join([*names, "default"])}".',
        path=path, field=fld, evidence={"globalNamespaces": names},
    )


@check("cni-version-mismatch")
def cni_version_mismatch(snap: NodeSnapshot) -> Iterator[Hit]:
    yield from _daemon_refuses(snap)
    m = snap.multus
    if m is None or m.multus is None or m.multus.mode != "thin":
        return  # thick: judged by the daemon's start-up rule above; the daemon passes results through
    top, top_src = _multus_version(snap, m)
    tv = version_tuple(top)
    if tv is None:
        return
    for where, fld, obj in _delegates(snap, m):
        dver = obj.get("cniVersion")
        dv = version_tuple(dver if isinstance(dver, str) else None)
        if dv is None:
            continue
        hit = _version_rule(m, top, tv, top_src, where, fld, str(dver), dv)
        if hit is not None:
            yield hit


def daemon_version_refusal(snap: NodeSnapshot) -> tuple[str, str, Setting, ConfFile] | None:
    """(daemon cniVersion, primary cniVersion, the daemon's setting, primary file) when the thick daemon's
    start-up CheckVersionCompatibility would refuse them (>= 0.4.0 over < 0.4.0), else None."""
    own = snap.daemon_settings
    p = snap.primary
    if own is None or p is None or p.cni is None:
        return None
    if own.text("multusConfigFile") != "auto" or own.value("forceCNIVersion") is True:
        return None  # a user-provided config is copied as is; forceCNIVersion rewrites the primary's version
    setting = own.get("cniVersion")
    top = setting.text if setting is not None else None
    dver = p.cni.cni_version
    tv, dv = version_tuple(top), version_tuple(dver)
    if setting is None or top is None or dver is None or tv is None or dv is None or not (tv >= (0, 4, 0) > dv):
        return None
    return top, dver, setting, p


def _daemon_refuses(snap: NodeSnapshot) -> Iterator[Hit]:
    """The thick daemon's start-up check: with multusConfigFile auto, NewManager runs CheckVersionCompatibility
    (pkg/server/config/generator.go v4.3.0:93-118, manager.go:128,175) and main exits 2 on its error
    (cmd/multus-daemon/main.go v4.3.0:97-100): no 00-multus.conf is ever written. Judged whether or not a
    multus config is on the node now, since the refusal is exactly what leaves none."""
    refusal = daemon_version_refusal(snap)
    if refusal is None:
        return
    top, dver, setting, p = refusal
    m = snap.multus
    thin_now = m is not None and m.multus is not None and m.multus.mode == "thin"
    now = ("This node's runtime uses a thin multus config now, so this matters the day the thick daemon "
           "starts with this daemon-config.json." if thin_now else
           "The daemon crash-loops and pods on this node get only the primary network."
           if m is None else
           f"The {m.name} there now is from an earlier start or written by hand; the daemon exits at its "
           "next start, and once that file is gone pods get only the primary network.")
    yield Hit(
        message=f'daemon-config.json sets "cniVersion": "{top}" and the primary CNI config {p.path} is '
        f"{dver}. At start-up the thick daemon (multusConfigFile auto) refuses this combination: "
        f"`failed to create the configuration manager for the primary CNI plugin: failed to load the primary "
        f"CNI configuration as a multus delegate with error 'delegate cni version is {dver} while top level cni "
        f"version is {top}'` and exits (multus-cni pkg/server/config CheckVersionCompatibility, MC#737: from "
        "0.4.0 on the runtime may send CHECK, which a delegate below 0.4.0 lacks), so it never writes "
        f"00-multus.conf. {now}",
        fix=f'Set "cniVersion": "{dver}" in {setting.source} (the multus-daemon-config ConfigMap) and restart '
        "the multus pod on this node; or raise the primary's cniVersion if its plugin supports 0.4.0 or later.",
        path=setting.source, field=setting.field or "cniVersion",
        evidence={"daemon_cniVersion": top, "primary": p.path, "primary_cniVersion": dver,
                  "rule": "thick daemon start-up (CheckVersionCompatibility)", "multus_config": m.path if m else None},
        severity="warning" if thin_now else None,
    )


def _multus_version(snap: NodeSnapshot, m: ConfFile) -> tuple[str | None, str]:
    """The cniVersion Multus runs with: for thick, daemon-config.json's wins (copied over each request)."""
    assert m.multus is not None
    eff = snap.effective
    if m.multus.mode == "thick" and eff is not None and (s := eff.get("cniVersion")) and s.text:
        return s.text, s.source
    return m.multus.cni.cni_version, m.path


def _delegates(snap: NodeSnapshot, m: ConfFile) -> list[tuple[str, str, dict[str, Any]]]:
    """The master network first, then the other embedded delegates (CHECK reaches all of them)."""
    mc = m.multus
    assert mc is not None
    out: list[tuple[str, str, dict[str, Any]]] = []
    master = master_of(snap, m)
    if master is not None:
        out.append(master)
    if not mc.get("clusterNetwork"):
        delegates = mc.get("delegates")
        if isinstance(delegates, list):
            for i, d in enumerate(delegates[1:], start=1):
                if isinstance(d, dict):
                    out.append((m.path, network_field(mc, f"delegates[{i}]"), d))
    return out


def _version_rule(m: ConfFile, top: str | None, tv: tuple[int, int, int], top_src: str, where: str,
                  fld: str, dver: str, dv: tuple[int, int, int]) -> Hit | None:
    assert m.multus is not None
    is_master = fld.endswith("delegates[0]") or fld == ""
    label = f"{where} {fld}".strip() if fld else where
    ev = {"multus_cniVersion": top, "multus_source": top_src, "delegate": label, "delegate_cniVersion": dver}
    if tv >= (0, 4, 0) and dv < (0, 4, 0):
        # Only the thick daemon's generator refuses this (pkg/server/config CheckVersionCompatibility); the thin
        # plugin has no such check in any version. What fails is CHECK: multus forwards it to each delegate and
        # libcni CheckNetwork rejects a conf below 0.4.0 ("does not support the CHECK command", vendored
        # libcni/api.go v4.3.0:643-649). ADD and DEL work.
        return Hit(
            message=f"Multus declares cniVersion {top} but {label} is {dver}. ADD and DEL work, but from 0.4.0 on "
            "the runtime may send CHECK, which Multus forwards to every delegate, and a delegate speaking "
            f'{dver} has none: that CHECK fails with `configuration version "{dver}" does not support the CHECK '
            "command` (MC#737). The thick daemon's generator refuses this combination outright; the thin plugin "
            "does not.",
            fix=f'Set "cniVersion": "{dver}" in {top_src} (or raise the delegate\'s cniVersion to 0.4.0 or '
            "later if its plugin supports it).",
            path=top_src, field="cniVersion", evidence={**ev, "rule": "CHECK needs >= 0.4.0 delegates"},
            severity="warning",
        )
    if is_master and tv < (1, 0, 0) <= dv:
        # MC#875: multus < v4.0 vendors CNI library 0.8.x, which cannot parse a 1.0.0 result. v4 prints the
        # master delegate's result as it is (pkg/multus/multus.go v4.3.0:857-858, cmd/multus/main.go:53) and the
        # runtime decodes the result by its own cniVersion, so v4 works.
        return Hit(
            message=f"Multus declares cniVersion {top} but its master delegate ({label}) is {dver}. Multus v4 "
            "passes the delegate's result through as it is, and the runtime accepts it, so this is not an error "
            f"with Multus v4.0 or later. A Multus binary older than v4.0 (CNI library 0.8) cannot read the {dver} "
            f'result and fails every pod with `unsupported CNI result version "{dver}"` (MC#875, k3s flannel is '
            "1.0.0); the binary's version cannot be read offline. Multus v4's thin entrypoint copies the "
            "primary's version, so a mismatch here means the config came from an older Multus or by hand.",
            fix=f'Make sure the multus binary is v4.0 or later (`CNI_COMMAND=VERSION multus </dev/null` lists '
            f'1.0.0), and set "cniVersion": "{dver}" in {m.path} to match.',
            path=m.path, field="cniVersion",
            evidence={**ev, "rule": "fails only with multus < v4.0 (version unknown offline)"}, severity="warning",
        )
    return None
