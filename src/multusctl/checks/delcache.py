"""conflist-del-lossy: multus v4.2.1 to v4.3.0 cache a conflist loaded by path without its plugins' own keys, so
the DEL of every pod runs them without their config (MC#1449).

getNetDelegate loads a clusterNetwork/defaultNetworks value that is a path to a `.conflist` file with
LoadDelegateNetConfFromConfList (PR #1419, v4.2.1), which re-marshals the list from libcni's PluginConf: only
cniVersion, name, type, capabilities, ipam.type, dns and prevResult survive. ADD runs the full list; the
delegate cache that ADD writes and DEL reads holds the stripped one (fixed on master after v4.3.0, PR #1521).
A directory value loads its first file's bytes whole, a `.conf` keeps its bytes, an inline delegate is not
loaded this way: those are safe. Seen with the real binaries (tests/test_peers_lossy_del.py and
tests/test_thick_peers.py): host-local's DEL without its ranges fails with `no IP ranges specified` and the
address stays reserved; the thin plugin fails the DEL, the thick shim logs it and exits 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.networks import network_paths, read_network
from multusctl.checks.registry import Hit, check
from multusctl.gather.snapshot import NodeSnapshot

# The keys of libcni's PluginConf (containernetworking/cni pkg/types, vendored in v4.3.0): all that survives.
KEPT = frozenset({"cniVersion", "name", "type", "capabilities", "ipam", "dns", "prevResult"})
# Plugins whose DEL needs keys of their own beyond an IPAM block: Calico builds its datastore client from
# them (datastore_type, kubernetes.kubeconfig, etcd_endpoints), as PR #1521 reports.
OWN_CONFIG_AT_DEL = frozenset({"calico"})


def _lost(plugin: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(plugin keys, ipam keys) the lossy cache drops from one plugin."""
    ipam = plugin.get("ipam")
    ipam_lost = sorted(k for k in ipam if k != "type") if isinstance(ipam, dict) else []
    return sorted(k for k in plugin if k not in KEPT), ipam_lost


# How to free what leaked, by the IPAM that holds the addresses.
CLEANUP = {
    "host-local": "host-local keeps one file per IP, named by the IP and holding its container id, in its dataDir "
                  "(default /var/lib/cni/networks/<network name>): remove those of containers that are gone",
    # docs.tigera.io calicoctl ipam check: the workflow for releasing leaked addresses
    "calico-ipam": "Calico's IPAM: `calicoctl datastore migrate lock`, `calicoctl ipam check -o report.json`, "
                   "`calicoctl ipam release --from-report report.json`, `calicoctl datastore migrate unlock`",
    "whereabouts": "whereabouts: its ip-reconciler removes the allocations of pods that are gone",
}


def _harm(plugin: dict[str, Any]) -> tuple[str, str] | None:
    """(what goes wrong at this plugin's DEL without the dropped keys, how to free what leaked), or None when it
    needs none of them."""
    ptype = plugin.get("type")
    ipam = plugin.get("ipam")
    itype = str(ipam.get("type")) if isinstance(ipam, dict) else ""
    own, ipam_lost = _lost(plugin)
    cleanup = CLEANUP.get(itype, f"release the addresses {itype or ptype} still holds for pods that are gone")
    if ipam_lost:
        said = " (`no IP ranges specified`)" if itype == "host-local" else ""
        return (f'`{ptype}` gets ipam {{"type": "{itype}"}} without {", ".join(ipam_lost)}, so {itype} cannot '
                f"release the pod's address{said}"), cleanup
    if ptype in OWN_CONFIG_AT_DEL and own:
        return (f"`{ptype}` runs without {', '.join(own)}, so it cannot reach its datastore to release the "
                "address"), cleanup
    return None


@check("conflist-del-lossy")
def conflist_del_lossy(snap: NodeSnapshot) -> Iterator[Hit]:
    m = snap.multus
    if m is None or m.multus is None:
        return
    thick = m.multus.mode == "thick"
    for fld, value, host in network_paths(snap, m):
        if not value.endswith(".conflist") or snap.fs.is_dir(host):
            continue
        got = read_network(snap, host)
        plugins = got[1].get("plugins") if got else None
        if not isinstance(plugins, list):
            continue
        harmed = [h for p in plugins if isinstance(p, dict) and (h := _harm(p))]
        harms, cleanups = [h for h, _ in harmed], list(dict.fromkeys(c for _, c in harmed))
        if not harmed:
            continue  # e.g. k3s's flannel list: flannel's DEL reads the config it saved at ADD
        after = ("the thick shim logs the failed DEL and exits 0, so nothing shows" if thick else
                 "the thin plugin fails the DEL")
        yield Hit(
            message=f"{fld} names the conflist {value}. Multus v4.2.1 to v4.3.0 cache a conflist loaded by path "
            "without its plugins' own keys (MC#1449) and run every pod's DEL from that cache: "
            f"{'; '.join(harms)}. {after[0].upper() + after[1:]}, and each deleted pod leaves its IP "
            "reserved until the range is used up and new pods fail with `no IP addresses available`. The "
            "multus version is not on the node (the DaemonSet's image tag says it); v4.2.0 and earlier are not "
            "affected.",
            fix="Run a multus release without MC#1449 (v4.2.0 or earlier, or one with PR #1521, on master after "
            f"v4.3.0){'' if thick else ', or give this network inline in `delegates` or as a single-plugin .conf'}"
            f"; then free the leaked addresses: {'; '.join(cleanups)}.",
            path=m.path, field=fld,
            evidence={"conflist": got[0] if got else host, "affected": "v4.2.1-v4.3.0", "mode": m.multus.mode},
        )
