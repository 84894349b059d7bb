"""The chain of the credentials Multus itself uses: DNS -> TCP -> TLS -> authentication -> permissions ->
latency -> NAD CRD. Each link records its facts and time; a broken one stops the chain."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from multusctl.doctor.probe import ClusterProbe, Need, Step
from multusctl.doctor.wire import Response, Session, WireError, connect, handshake, ms_since, resolve

NAD_GROUP = "k8s.cni.cncf.io"
NADS = "network-attachment-definitions"

# FACTS.md §3: what a pod ADD does with the API. Thin (and thick before v4.1): GET pod, GET each NAD,
# create an event, UpdateStatus of the pod. Thick v4.1+: pod and NAD informers (list, watch) instead.
_COMMON = (
    Need("get", "pods", why="every pod ADD reads its pod (annotations) first"),
    Need("update", "pods", subresource="status",
         why="multus writes the k8s.v1.cni.cncf.io/network-status annotation after each ADD"),
    Need("get", NADS, NAD_GROUP, why="every additional network is read from its NetworkAttachmentDefinition"),
    Need("create", "events", why="multus records AddedInterface events (ADD still works without)",
         severity="warning"),
)
_THICK = (
    Need("list", "pods", why="the daemon's pod informer lists the pods of its node"),
    Need("watch", "pods", why="the daemon's pod informer watches the pods of its node"),
    Need("list", NADS, NAD_GROUP, why="the daemon's NAD informer lists NetworkAttachmentDefinitions"),
    Need("watch", NADS, NAD_GROUP, why="the daemon's NAD informer watches NetworkAttachmentDefinitions"),
)


def needs(mode: str) -> tuple[Need, ...]:
    return _COMMON + _THICK if mode == "thick" else _COMMON


def access_review(need: Need) -> dict[str, object]:
    attrs = {"verb": need.verb, "resource": need.resource, "group": need.group}
    if need.subresource:
        attrs["subresource"] = need.subresource
    return {"resourceAttributes": attrs}


def review(session: Session, spec: dict[str, object], user: str | None = None,
           groups: list[str] | None = None) -> tuple[bool, str]:
    """(allowed, the authorizer's reason) of one access review: of the session's own identity, or with `user`
    (and its groups) a SubjectAccessReview, which only an admin may ask."""
    kind = "SubjectAccessReview" if user else "SelfSubjectAccessReview"
    body_spec = {**spec, "user": user, "groups": groups or []} if user else spec
    resp = session.request("POST", f"/apis/authorization.k8s.io/v1/{kind.lower()}s",
                           {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": body_spec})
    if resp.status not in (200, 201) or not isinstance(resp.body, dict):
        raise WireError("http-status", f"the API answered {_status_line(resp)} to a {kind}")
    status = resp.body.get("status") or {}
    return status.get("allowed") is True, str(status.get("reason") or "")


def timed(step: Step, body: Callable[[], str]) -> bool:
    """Run one link: `body` returns the detail line or raises WireError; True when it held."""
    start = time.monotonic()
    try:
        step.detail = body()
        step.status = "ok"
    except WireError as exc:
        step.status, step.detail = "failed", str(exc)
        step.facts.update(exc.facts, kind=exc.kind)
    step.duration_ms = ms_since(start)
    return step.status == "ok"


def skip_rest(probe: ClusterProbe, names: tuple[str, ...], reason: str) -> None:
    for name in names:
        s = probe.step(name)
        if s.status == "skipped" and not s.detail:
            s.detail = reason


def _status_line(resp: Response) -> str:
    message = resp.body.get("message") if isinstance(resp.body, dict) else None
    return f"{resp.status}" + (f" ({message})" if isinstance(message, str) and message else "")


def run(probe: ClusterProbe, timeout: float, report: Callable[[Step], None]) -> Session | None:
    """Walk the chain for `probe.endpoint`; the open session when authentication held (for later reads)."""
    ep = probe.endpoint
    assert ep is not None
    later = ("dns", "tcp", "tls", "auth", "rbac", "latency", "nad-crd")
    addresses: list[str] = []

    def dns() -> str:
        addresses.extend(resolve(ep.host, ep.port, timeout))
        return f"{ep.host} -> {', '.join(addresses[:4])}"

    def stop(name: str) -> None:
        s = probe.step(name)
        report(s)
        skip_rest(probe, later, f"skipped: {s.label} " + ("failed" if s.status == "failed" else "did not run"))
        for rest in later[later.index(name) + 1:]:
            report(probe.step(rest))

    if not timed(probe.step("dns"), dns):
        stop("dns")
        return None
    report(probe.step("dns"))
    socks: list[object] = []
    address = addresses[0]

    def tcp() -> str:
        socks.append(connect(address, ep.port, timeout))
        return f"{address}:{ep.port} connected"

    if not timed(probe.step("tcp"), tcp):
        stop("tcp")
        return None
    report(probe.step("tcp"))
    session = Session(ep, address, timeout)
    if ep.tls:
        def tls() -> str:
            tls_sock = handshake(socks[0], ep, address, timeout)  # type: ignore[arg-type]
            socks[0] = tls_sock
            return f"{tls_sock.version()}, certificate verified for {ep.server_name}" if not ep.insecure else \
                f"{tls_sock.version()}, NOT verified (insecure-skip-tls-verify)"
        if not timed(probe.step("tls"), tls):
            stop("tls")
            return None
    else:
        probe.step("tls").detail = "skipped: the server URL is http:// (no TLS)"
    report(probe.step("tls"))
    session.attach(socks[0])  # type: ignore[arg-type]
    if ep.unsupported_auth:
        probe.step("auth").detail = f"skipped: the kubeconfig uses {ep.unsupported_auth}, which doctor does not run"
        stop("auth")
        return session
    if not timed(probe.step("auth"), lambda: _authenticate(probe, session)):
        stop("auth")
        return None
    report(probe.step("auth"))
    if not timed(probe.step("rbac"), lambda: _permissions(probe, session)):
        stop("rbac")
        return None
    report(probe.step("rbac"))
    lat = probe.step("latency")
    lat.status = "ok"
    lat.facts["samples_ms"] = list(session.latencies)
    median = statistics.median(session.latencies) if session.latencies else 0.0
    lat.facts["median_ms"] = median
    lat.detail = f"median {median:.0f} ms over {len(session.latencies)} requests"
    report(lat)
    if not timed(probe.step("nad-crd"), lambda: _nad_crd(probe, session)):
        stop("nad-crd")
        return None
    report(probe.step("nad-crd"))
    return session


def _authenticate(probe: ClusterProbe, session: Session) -> str:
    """Who the server says these credentials are: SelfSubjectReview (1.28+, v1beta1 on 1.27), else an access
    review, which any authenticated user may create, tells at least whether they authenticate."""
    step = probe.step("auth")
    for version in ("v1", "v1beta1"):
        resp = session.request("POST", f"/apis/authentication.k8s.io/{version}/selfsubjectreviews",
                               {"apiVersion": f"authentication.k8s.io/{version}", "kind": "SelfSubjectReview"})
        step.facts["http"] = resp.status
        if resp.status == 401:
            raise WireError("unauthorized", "401 Unauthorized: the API rejects these credentials", http=401)
        if resp.status in (200, 201) and isinstance(resp.body, dict):
            info = (resp.body.get("status") or {}).get("userInfo") or {}
            probe.identity = {"username": info.get("username", ""), "groups": list(info.get("groups") or []),
                              "uid": info.get("uid", "")}
            return f"as {probe.identity['username'] or '(no name)'}"
        if resp.status != 404:
            break
    resp = session.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                           {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                            "spec": access_review(Need("get", "pods"))})
    step.facts["http"] = resp.status
    if resp.status == 401:
        raise WireError("unauthorized", "401 Unauthorized: the API rejects these credentials", http=401)
    if resp.status not in (200, 201):
        raise WireError("http-status", f"the API answered {_status_line(resp)} to an access review")
    return "authenticated (this server has no SelfSubjectReview: identity not known)"


def _permissions(probe: ClusterProbe, session: Session) -> str:
    from multusctl.doctor.probe import Access

    denied = 0
    who = (probe.identity or {}).get("username") or "the multus credentials"
    for need in needs(probe.mode):
        allowed, reason = review(session, access_review(need))
        denied += not allowed
        probe.access.append(Access(need, allowed, who, reason))
    # Admin-like credentials: one more review, for "everything" (the founding case: a copied k3s.yaml).
    everything, _ = review(session, {"resourceAttributes": {"verb": "*", "resource": "*", "group": "*"}})
    probe.step("rbac").facts["everything"] = everything
    total = len(needs(probe.mode))
    return f"{total - denied} of {total} permissions multus needs" + (f", {denied} denied" if denied else "")


def _nad_crd(probe: ClusterProbe, session: Session) -> str:
    resp = session.request("GET", f"/apis/{NAD_GROUP}/v1")
    if resp.status == 404:
        probe.nad_crd = False
        return f"{NAD_GROUP}/v1 is not served: the NetworkAttachmentDefinition CRD is not installed"
    if resp.status != 200 or not isinstance(resp.body, dict):
        raise WireError("http-status", f"GET /apis/{NAD_GROUP}/v1 answered {_status_line(resp)}")
    names = {r.get("name") for r in resp.body.get("resources") or [] if isinstance(r, dict)}
    probe.nad_crd = NADS in names
    return f"{NAD_GROUP}/v1 {NADS} served" if probe.nad_crd else f"{NAD_GROUP}/v1 has no {NADS}"
