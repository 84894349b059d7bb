"""A network's plugin chain run as libcni runs it (libcni api.go: AddNetworkList, CheckNetworkList,
DelNetworkList): each plugin's config gets the list's `name` and `cniVersion`, the previous plugin's result as
`prevResult`, and `runtimeConfig` for each capability it declares; CHECK and DEL read the cached ADD result
(CNI >= 0.4.0; CHECK does not exist before it) and DEL runs in reverse order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from multusctl.cni import exec as cni_exec
from multusctl.cni.exec import Call
from multusctl.records import dataclass, field


@dataclass
class Network:
    name: str
    cni_version: str
    plugins: list[dict[str, Any]]
    disable_check: bool = False


def network_of(doc: dict[str, Any], nad_name: str) -> Network:
    """A conf or conflist as a chain; an empty `name` becomes the NAD's (multus' GetCNIConfigFromSpec)."""
    given = doc.get("name")
    name = given if isinstance(given, str) and given else nad_name
    version = str(doc.get("cniVersion") or "0.1.0")
    if "plugins" in doc:
        items = [dict(p) for p in doc.get("plugins") or [] if isinstance(p, dict)]
        return Network(name, version, items, bool(doc.get("disableCheck")))
    return Network(name, version, [dict(doc)])


def _vt(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in version.split("."))
    except ValueError:
        return (0,)


def plugin_conf(net: Network, plugin: dict[str, Any], prev: dict[str, Any] | None,
                runtime: dict[str, Any]) -> dict[str, Any]:
    conf = dict(plugin)
    conf["name"], conf["cniVersion"] = net.name, net.cni_version
    conf.pop("prevResult", None)
    if prev is not None:
        conf["prevResult"] = prev
    declared = plugin.get("capabilities")
    caps: dict[str, Any] = declared if isinstance(declared, dict) else {}
    rc = {k: v for k, v in runtime.items() if caps.get(k)}
    if rc:
        conf["runtimeConfig"] = rc
    return conf


@dataclass
class Run:
    """The calls of one phase and, for ADD, the final result."""

    calls: list[Call] = field(default_factory=list)
    result: dict[str, Any] | None = None

    @property
    def failed(self) -> Call | None:
        return next((c for c in self.calls if not c.ok), None)


@dataclass
class Invocation:
    """What every call of the chain shares (the pod: container id, netns, ifname, CNI_ARGS)."""

    cni_path: list[str]
    netns: str
    container_id: str
    ifname: str
    args: str = ""
    runtime: dict[str, Any] = field(default_factory=dict)
    timeout: float = 10.0
    # Rewrites a plugin's config before it runs (a private host-local dataDir).
    rewrite: Callable[[dict[str, Any]], dict[str, Any]] = lambda c: c

    def call(self, plugin: str, command: str, conf: dict[str, Any]) -> Call:
        return cni_exec.run(plugin, command, self.rewrite(conf), self.cni_path, netns=self.netns,
                            container_id=self.container_id, ifname=self.ifname, args=self.args,
                            timeout=self.timeout)


def add(net: Network, inv: Invocation) -> Run:
    out = Run()
    prev: dict[str, Any] | None = None
    for p in net.plugins:
        call = inv.call(str(p.get("type")), "ADD", plugin_conf(net, p, prev, inv.runtime))
        out.calls.append(call)
        if not call.ok:
            return out
        prev = call.result
    out.result = prev
    return out


def check(net: Network, inv: Invocation, cached: dict[str, Any] | None) -> Run | None:
    """None when libcni would not run CHECK (cniVersion < 0.4.0 or disableCheck)."""
    if _vt(net.cni_version) < (0, 4, 0) or net.disable_check:
        return None
    out = Run()
    for p in net.plugins:
        call = inv.call(str(p.get("type")), "CHECK", plugin_conf(net, p, cached, inv.runtime))
        out.calls.append(call)
        if not call.ok:
            break
    return out


def delete(net: Network, inv: Invocation, cached: dict[str, Any] | None) -> Run:
    """DEL of every plugin, last first; one failing DEL does not stop the others (we are cleaning up)."""
    out = Run()
    prev = cached if _vt(net.cni_version) >= (0, 4, 0) else None
    for p in reversed(net.plugins):
        out.calls.append(inv.call(str(p.get("type")), "DEL", plugin_conf(net, p, prev, inv.runtime)))
    return out
