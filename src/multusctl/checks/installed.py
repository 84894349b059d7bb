"""multus-config-missing: Multus is installed on this node, but no multus config reaches the runtime.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from multusctl.checks.keys import daemon_version_refusal
from multusctl.checks.registry import Hit, check
from multusctl.checks.runtime import load_error, multus_pods, restart_multus_pod
from multusctl.gather.snapshot import NodeSnapshot

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
    cause = _known_cause(snap)
    if cause is not None:
        why, fix, kind = cause
        yield Hit(
            message=f"No multus config is in the runtime's conf dir {conf_dir}, yet Multus is installed here "
            f"({', '.join(traces)}): {why}. Pods on this node get only the primary network and their "
            "k8s.v1.cni.cncf.io/networks annotations are silently ignored.",
            fix=fix, path=conf_dir,
            evidence={"traces": traces, "runtime_conf_dir": conf_dir, "runtime_bin_dirs": list(bin_dirs),
                      "cause": kind},
        )
        return
    elsewhere = [t for t in traces if not t.startswith((conf_dir + "/", *(b.rstrip("/") + "/" for b in bin_dirs)))
                 and t != MULTUS_SOCKET]
    if elsewhere:
        why = (f"the Multus files on this node ({', '.join(elsewhere)}) sit where the upstream DaemonSet puts "
               f"them, but this node's runtime reads {conf_dir} and runs plugins from {', '.join(bin_dirs)}. "
               "The DaemonSet then finds no primary CNI config in the dir it watches (`cannot find valid master "
               "CNI config`, MC#685) and no multus config ever reaches the runtime")
    elif MULTUS_SOCKET in traces:
        why = ("the thick daemon's socket exists, so the daemon ran here, but its 00-multus.conf is not there: "
               "the daemon deletes it on shutdown and the primary's file becomes first (MC#1527), it is still "
               "waiting for the primary CNI config, or its informers are refused list/watch of pods and "
               "NetworkAttachmentDefinitions and it waits for them forever (its log repeats `Failed to watch "
               "... is forbidden`; `multusctl doctor --kubeconfig <admin kubeconfig>` names the permission)")
    else:
        why = "Multus's files are here but it never wrote (or someone removed) its config"
    restart = f"`{restart_multus_pod(snap)}`."
    if not elsewhere:
        # Installed with this node's paths: the pod on this node is what did not (re)write the config.
        ns, sel = multus_pods(snap)
        fix = (f"Multus is installed with this node's paths, so look at its pod on this node: `kubectl -n {ns} "
               f"get pods -l '{sel}' -o wide --field-selector spec.nodeName=<this node>` and its "
               f"logs (it waits for the primary CNI config in {conf_dir}; the thick daemon deletes its "
               f"00-multus.conf when it stops, MC#1527); then restart it: {restart}. If a thin pod's log says "
               "`Multus cni version is X while master plugin cni version is Y`, its --cni-version flag differs from "
               "the primary's cniVersion and the entrypoint refuses to write a config: remove the flag (it then "
               "copies the primary's version).")
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


def cilium_backups(snap: NodeSnapshot) -> list[str]:
    """Configs Cilium's exclusive mode renamed in the runtime's conf dir (`<name>.cilium_bak`)."""
    names = snap.fs.names(snap.layout.conf_dir)
    return [posixpath.join(snap.layout.conf_dir, n) for n in sorted(names) if n.endswith(".cilium_bak")]


def _known_cause(snap: NodeSnapshot) -> tuple[str, str, str] | None:
    """(why, fix, kind) when the node shows what keeps the multus config away, else None."""
    restart = restart_multus_pod(snap)
    baks = cilium_backups(snap)
    if baks:
        # Cilium's Helm value cni.exclusive (default true) renames every non-Cilium config in the conf dir to
        # *.cilium_bak, a multus config Multus writes later included (Cilium docs, helm reference).
        mine = [b for b in baks if "multus" in posixpath.basename(b).lower()]
        moves = "; ".join(f"`mv {b} {b[:-len('.cilium_bak')]}`" for b in mine)
        return (
            f"Cilium runs in exclusive CNI mode (Helm value cni.exclusive, true by default) and renamed the other "
            f"configs of this conf dir to *.cilium_bak ({', '.join(baks)})"
            + (", the multus config included" if mine else ""),
            "Turn exclusive mode off so Cilium leaves other configs alone: `helm upgrade cilium cilium/cilium -n "
            "kube-system --reuse-values --set cni.exclusive=false` (and let the Cilium pods restart); then "
            + (f"restore the multus config ({moves}) or " if mine else "")
            + f"restart the multus pod on this node so it writes its config again: `{restart}`.",
            "cilium-exclusive",
        )
    refusal = daemon_version_refusal(snap)
    if refusal is not None:
        top, dver, setting, primary = refusal
        return (
            f'the thick daemon refuses to start: daemon-config.json\'s "cniVersion": "{top}" is 0.4.0 or later '
            f"and the primary {primary.path} is {dver} (`delegate cni version is {dver} while top level cni "
            f"version is {top}`, CheckVersionCompatibility, MC#737), so it exits before writing 00-multus.conf "
            "(cni-version-mismatch has the details)",
            f'Set "cniVersion": "{dver}" in {setting.source} (ConfigMap multus-daemon-config), then restart the '
            f"multus pod on this node: `{restart}`.",
            "daemon-cni-version",
        )
    return None
