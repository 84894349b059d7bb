"""The links to the API server, as Multus's own credentials see them: one check per way a link breaks.

Each reads the facts of one doctor step (doctor/chain.py): `kind` names how the link broke; the check words
the cause and the fix. Multus prints most of these as `context deadline exceeded`, which is why they are
told apart here.
"""

from __future__ import annotations

from collections.abc import Iterator

from multusctl.checks.registry import Hit, check
from multusctl.config.kubeconfig import is_loopback_host
from multusctl.doctor.probe import ClusterProbe, Step

SLOW_MS = 250.0  # multus's budget for one GET pod (pkg/k8sclient, MC#1461)
RECREATE = "multusctl kubeconfig create --server https://<address this node reaches>:6443"


def _hit(probe: ClusterProbe, step: Step, message: str, fix: str, **evidence: object) -> Hit:
    ep = probe.endpoint
    return Hit(message=message, fix=fix, path=probe.multus_kubeconfig,
               field="clusters[].cluster.server" if step.name in ("dns", "tcp") else None,
               evidence={"step": step.name, "duration_ms": step.duration_ms, "server": ep.server if ep else None,
                         "detail": step.detail, **evidence})


def _failed(probe: ClusterProbe, name: str, *kinds: str) -> Step | None:
    step = probe.steps.get(name)
    if step is None or step.status != "failed" or step.facts.get("kind") not in kinds:
        return None
    return step


def _server_hint(probe: ClusterProbe) -> str:
    ep = probe.endpoint
    if ep is None:
        return ""
    if ep.port == 443 and ep.host.startswith(("10.43.", "10.96.", "172.30.")):
        return (f" {ep.host}:443 looks like the `kubernetes` Service's ClusterIP, which the host network "
                "namespace reaches only when kube-proxy (or its replacement) programs it on the host.")
    if is_loopback_host(ep.host) and ep.port == 6443:
        return (" On a k3s/rke2 agent nothing listens on 127.0.0.1:6443 (only servers run the API); the "
                "agent's own load balancer to the servers listens on 127.0.0.1:6444.")
    return ""


@check("api-dns-failed")
def api_dns_failed(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "dns", "dns"):
        yield _hit(probe, step, f"The API server's host name does not resolve from here: {step.detail}. Every pod "
                   "ADD fails before it reaches the API.",
                   fix="Use an address the node resolves (or an IP) in the multus kubeconfig: " + RECREATE)


@check("api-connect-timeout")
def api_connect_timeout(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tcp", "connect-timeout"):
        yield _hit(probe, step, f"TCP connect to the API server gets no answer: {step.detail}. Multus reports "
                   "this as `context deadline exceeded` / `dial tcp ...: i/o timeout` on every pod ADD."
                   + _server_hint(probe),
                   fix="Check the address and the firewall between this node and the API server (iptables, "
                   "security groups); point the kubeconfig at an address the host reaches: " + RECREATE)


@check("api-connect-refused")
def api_connect_refused(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tcp", "refused"):
        ep = probe.endpoint
        agent_case = ep is not None and is_loopback_host(ep.host) and ep.port == 6443
        fix = ("multusctl kubeconfig create (server: the `kubernetes` Service ClusterIP, which every node "
               "reaches), or with --server https://<a server's address>:6443" if agent_case
               else "Point the multus kubeconfig at a listening API server address: " + RECREATE)
        extra = {"fixed_by": "multusctl kubeconfig create"} if agent_case else {}
        yield _hit(probe, step, f"Nothing listens at the API server address: {step.detail}." + _server_hint(probe),
                   fix=fix, **extra)


@check("api-no-route")
def api_no_route(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tcp", "unreachable", "connect-error"):
        yield _hit(probe, step, f"The API server address cannot be reached from here: {step.detail}.",
                   fix="Use an address on a network this node has a route to: " + RECREATE)


@check("api-tls-handshake-timeout")
def api_tls_handshake_timeout(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tls", "tls-timeout"):
        yield _hit(probe, step, f"TCP connects, but {step.detail} (client-go: `net/http: TLS handshake timeout`): "
                   "something accepts the connection and never answers (a proxy, a load balancer without "
                   "backends, an overloaded API server).",
                   fix="Check what listens at that address (`ss -ltnp` on the server) and the load balancer's "
                   "backends; point the kubeconfig at the API server itself")


@check("api-tls-untrusted")
def api_tls_untrusted(probe: ClusterProbe) -> Iterator[Hit]:
    step = _failed(probe, "tls", "tls-untrusted", "tls-expired")
    if step is None:
        return
    if step.facts.get("kind") == "tls-expired":
        yield _hit(probe, step, f"{step.detail}: client-go fails with `x509: certificate has expired or is not "
                   "yet valid`.", fix="Rotate the API server certificate (k3s: `k3s certificate rotate`), or "
                   "fix this node's clock", verify_code=step.facts.get("verify_code"))
        return
    yield _hit(probe, step, f"{step.detail}: client-go fails with `x509: certificate signed by unknown "
               "authority`. The kubeconfig's CA is stale (cluster rebuilt, CA rotated, or copied from another "
               "cluster).", fix="Write the kubeconfig again with the cluster's current CA: " + RECREATE,
               verify_code=step.facts.get("verify_code"))


@check("api-tls-name-mismatch")
def api_tls_name_mismatch(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tls", "tls-name"):
        covers = [str(c) for c in step.facts.get("covers") or []]
        yield _hit(probe, step, f"The certificate is trusted but {step.detail.removeprefix('the certificate ')}"
                   + (f"; it covers {', '.join(covers[:8])}" if covers else "")
                   + " (client-go: `x509: certificate is valid for ..., not ...`).",
                   fix="Use one of the names the certificate covers, or add the address to the server certificate "
                   "(k3s/rke2: `tls-san` in /etc/rancher/k3s/config.yaml, then restart the server)",
                   covers=covers)


@check("api-tls-failed")
def api_tls_failed(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "tls", "tls-error"):
        yield _hit(probe, step, f"{step.detail}: the port may not speak TLS (an http:// service or a proxy).",
                   fix="Point the kubeconfig at the API server's https:// address: " + RECREATE)


@check("api-auth-rejected")
def api_auth_rejected(probe: ClusterProbe) -> Iterator[Hit]:
    if step := _failed(probe, "auth", "unauthorized"):
        yield _hit(probe, step, "The API server answers 401 Unauthorized to the multus kubeconfig's credentials: "
                   "the token expired, its ServiceAccount or Secret was deleted, or it belongs to another "
                   "cluster. Multus fails every pod ADD with `Unauthorized`.",
                   fix="Issue a fresh token: multusctl kubeconfig refresh --force (or kubeconfig create), and keep "
                   "it fresh: multusctl kubeconfig refresh --print-systemd-timer")


@check("api-request-failed")
def api_request_failed(probe: ClusterProbe) -> Iterator[Hit]:
    for name in ("auth", "rbac", "nad-crd"):
        if step := _failed(probe, name, "http-timeout", "http-error", "http-status"):
            yield _hit(probe, step, f"The API server took the connection but a request failed: {step.detail}.",
                       fix="Check the API server's health (`kubectl get --raw /readyz?verbose`) and what is between "
                       "this node and it")
            return


@check("api-identity-unexpected")
def api_identity_unexpected(probe: ClusterProbe) -> Iterator[Hit]:
    step = probe.steps.get("rbac")
    ident = probe.identity
    if step is None or step.status != "ok" or ident is None:
        return
    user = str(ident.get("username") or "")
    groups = [str(g) for g in ident.get("groups") or []]
    if "system:masters" in groups or step.facts.get("everything"):
        why = "is in system:masters" if "system:masters" in groups else "may do everything (cluster-admin)"
        yield _hit(probe, step, f"The multus kubeconfig authenticates as {user or '(no name)'}, who {why}: an admin "
                   "credential on every node (a copied k3s.yaml, the founding case). It works, until it is "
                   "rotated, and it exposes the whole cluster to anyone who reads the file.",
                   fix="multusctl kubeconfig create (a least-privilege ServiceAccount kubeconfig)",
                   username=user, groups=groups)
    elif not user.startswith("system:serviceaccount:"):
        yield _hit(probe, step, f"The multus kubeconfig authenticates as {user or '(no name)'}, not as a "
                   "ServiceAccount: a personal or node credential that is not managed with Multus.",
                   fix="multusctl kubeconfig create (a least-privilege ServiceAccount kubeconfig)",
                   username=user, groups=groups)


@check("api-slow")
def api_slow(probe: ClusterProbe) -> Iterator[Hit]:
    step = probe.steps.get("latency")
    if step is None or step.status != "ok":
        return
    median = float(step.facts.get("median_ms") or 0.0)
    if median > SLOW_MS:
        samples = len(step.facts.get("samples_ms") or [])
        yield _hit(probe, step, f"The API server answers in {median:.0f} ms (median of {samples} requests); "
                   f"Multus gives GET pod {SLOW_MS:.0f} ms per try and 2.5 s in all, so pod ADDs fail "
                   "with `context deadline exceeded` when it is this slow.",
                   fix="Find why the API server is slow (its load, etcd, the network path); point the kubeconfig at "
                   "a closer API server or the agent's local load balancer", median_ms=median)
