"""`multusctl nad test`: each attachment tried for real in one throwaway network namespace (the pod), as
multus would run it: the NAD's chain with ADD, then CHECK, then DEL in reverse order, with a private host-local
dataDir; then what the sandbox shows. The record (`Trial`) is judged by checks/nad_trial.py."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from multusctl.cni import chain, sandbox
from multusctl.cni.chain import Invocation, Network, Run
from multusctl.config.nad import parsed
from multusctl.records import dataclass, field

if TYPE_CHECKING:  # only `--annotation` makes Selections; its parser is not imported without it
    from multusctl.config.annotation import Selection

POD = {"namespace": "default", "name": "multusctl-nad-test", "uid": "6d756c74-7573-6374-6c00-000000000001"}
# Runtime config multus passes a delegate from the annotation (pkg/types: CreateRuntimeConf): capability -> key.
_RUNTIME = {"ips": "ips", "mac": "mac", "portmappings": "portMappings", "bandwidth": "bandwidth",
            "infiniband-guid": "infinibandGUID", "deviceid": "deviceID"}


@dataclass
class Attachment:
    nad: dict[str, Any]
    ifname: str
    selection: Selection | None = None


@dataclass
class Trial:
    nad: str
    ifname: str
    is_list: bool
    netns: str = ""
    phases: dict[str, Run] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    links: list[dict[str, Any]] = field(default_factory=list)
    addresses: dict[str, list[str]] = field(default_factory=dict)
    pings: list[tuple[str, str | None]] = field(default_factory=list)
    cleanup_errors: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        add = self.phases.get("ADD")
        return add is not None and add.failed is None and not any(why for _a, why in self.pings)

    def to_dict(self) -> dict[str, Any]:
        res = self.result or {}
        return {"nad": self.nad, "interface": self.ifname, "netns": self.netns, "ok": self.ok,
                "skipped": self.skipped or None,
                "phases": {p: [{"plugin": c.plugin, "ok": c.ok, "duration_ms": c.duration_ms,
                                **({"error": c.failure()} if not c.ok else {})} for c in r.calls]
                           for p, r in self.phases.items() if r is not None},
                "interfaces": res.get("interfaces", []), "ips": res.get("ips", []),
                "routes": res.get("routes", []), "dns": res.get("dns", {}),
                "sandbox_links": self.links, "sandbox_addresses": self.addresses,
                "pings": [{"address": a, "ok": why is None, **({"error": why} if why else {})}
                          for a, why in self.pings]}


@dataclass
class Options:
    cni_path: list[str]  # host paths
    timeout: float = 10.0
    keep: bool = False
    pings: list[str] = field(default_factory=list)
    ipam_data_dir: str | None = None  # None: a private one per run


def _runtime(sel: Selection | None) -> dict[str, Any]:
    if sel is None:
        return {}
    out: dict[str, Any] = {}
    if sel.ips:
        out["ips"] = list(sel.ips)
    if sel.mac:
        out["mac"] = sel.mac
    for key, value in sel.extra.items():
        if key in _RUNTIME:
            out[_RUNTIME[key]] = value
    return out


def _rewrite(data_dir: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def rewrite(conf: dict[str, Any]) -> dict[str, Any]:
        ipam = conf.get("ipam")
        if isinstance(ipam, dict) and ipam.get("type") == "host-local":
            conf = dict(conf, ipam=dict(ipam, dataDir=data_dir))  # never the node's real IPAM state
        return conf
    return rewrite


def _host_links(net: Network) -> set[str]:
    """Host links the chain creates that its DEL leaves: the bridge plugin's bridge (default cni0)."""
    return {str(p.get("bridge") or "cni0") for p in net.plugins if p.get("type") == "bridge"}


def run(attachments: list[Attachment], opts: Options,
        on_phase: Callable[[str], None] = lambda _line: None) -> tuple[list[Trial], str]:
    """Every attachment in one sandbox; (trials, how to remove a kept sandbox or ""). Raises SandboxError."""
    # Here, not at the top: importing it parses the check catalog (registry), which nad test does while the
    # plugins answer VERSION (gather.nads, wait=False), not before they are asked.
    from multusctl.checks.cluster_nads import nad_config, nad_name

    trials: list[Trial] = []
    nets: list[tuple[Trial, Network, Invocation]] = []
    inspected: list[tuple[list[dict[str, Any]], dict[str, list[str]]]] = []
    with sandbox.sandbox(keep=opts.keep) as box:
        data_dir = opts.ipam_data_dir or box.data_dir
        container = "multusctl" + os.urandom(6).hex()
        args = (f"IgnoreUnknown=true;K8S_POD_NAMESPACE={POD['namespace']};K8S_POD_NAME={POD['name']};"
                f"K8S_POD_INFRA_CONTAINER_ID={container};K8S_POD_UID={POD['uid']}")
        try:
            for i, a in enumerate(attachments):
                doc = parsed(str(nad_config(a.nad)))
                assert doc is not None  # static checks refused every other config before any trial
                net = chain.network_of(copy.deepcopy(doc), nad_name(a.nad).partition("/")[2])
                t = Trial(nad_name(a.nad), a.ifname, "plugins" in doc, netns=box.name)
                trials.append(t)
                box.owned_host_links |= _host_links(net)
                inv = Invocation(cni_path=opts.cni_path, netns=box.path, container_id=container, ifname=a.ifname,
                                 args=args, runtime=_runtime(a.selection), timeout=opts.timeout,
                                 rewrite=_rewrite(data_dir))
                nets.append((t, net, inv))
                on_phase(f"{t.nad} as {a.ifname}: ADD")
                t.phases["ADD"] = added = chain.add(net, inv)
                if added.failed is not None:
                    break  # like a pod: the first failing attachment fails the ADD; the rest is not tried
                t.result = added.result
                on_phase(f"{t.nad} as {a.ifname}: CHECK")
                reader = None
                if i == len(attachments) - 1:
                    # Read the sandbox back while the last CHECK runs (~10 ms of `ip` off the run): CHECK only
                    # verifies (CNI spec: it must not change the container's state), so the reading is the same.
                    reader = threading.Thread(target=lambda: inspected.append(sandbox.inspect(box.name)), daemon=True)
                    reader.start()
                try:
                    checked = chain.check(net, inv, t.result)
                finally:
                    if reader is not None:
                        reader.join()
                if checked is not None:
                    t.phases["CHECK"] = checked
            # one sandbox for every attachment: read it once (already, unless an ADD failed)
            links, addresses = inspected[0] if inspected else sandbox.inspect(box.name)
            for t in trials:
                t.links, t.addresses = links, addresses
            if opts.pings and all(t.phases.get("ADD") and t.phases["ADD"].failed is None for t in trials):
                from multusctl.cni.ping import from_netns

                for addr in opts.pings:
                    why = from_netns(box.name, addr, min(opts.timeout, 3.0))
                    for t in trials:
                        t.pings.append((addr, why))
        finally:
            if not opts.keep:
                for t, net, inv in reversed(nets):  # DEL even after a failed ADD: the runtime does
                    on_phase(f"{t.nad} as {t.ifname}: DEL")
                    t.phases["DEL"] = chain.delete(net, inv, t.result)
    if trials:  # said once: the sandbox is shared by the attachments
        trials[-1].cleanup_errors = list(box.cleanup_errors)
    return trials, box.remove_command() if opts.keep else ""
