"""What `kubeconfig create` will change in the cluster, decided before the first change.

Every object is read first (ServiceAccount, ClusterRole, ClusterRoleBinding, token Secret, Service
default/kubernetes); every precondition that can fail (a foreign Secret of our name, no usable Service)
fails then, so a refused run leaves the cluster as it was. Only then are the steps applied, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from multusctl.config.kubeconfig import is_loopback_host
from multusctl.config.secrets import redact
from multusctl.provision.api import Api
from multusctl.provision.objects import (
    Names,
    Obj,
    binding_is_right,
    cluster_role,
    cluster_role_binding,
    role_differences,
    role_is_right,
    role_ref,
    secret_problem,
    service_account,
    subjects,
)


class Failed(Exception):
    """Stop with this one-line message and exit status `code`: 1 (the cluster said no), 2 (bad local input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Output:
    """Where `create` prints its one line per step, redacted."""

    echo: Callable[[str], None]
    secrets: set[str] = field(default_factory=set)

    def _line(self, mark: str, text: str) -> None:
        self.echo(redact(f"{mark} {text}", self.secrets))

    def ok(self, text: str) -> None:
        self._line("✓", text)

    def info(self, text: str) -> None:
        self._line("•", text)

    def warn(self, text: str) -> None:
        self._line("!", text)

    def plan(self, text: str) -> None:
        self._line("→", text)


@dataclass
class State:
    """The objects as they were before any change (None: absent, or not needed for this run)."""

    service_account: Obj | None
    role: Obj | None
    binding: Obj | None
    secret: Obj | None
    service: Obj | None


@dataclass
class Step:
    """One line of output; `action` None when nothing needs changing (`did` is then said as is)."""

    would: str
    did: str
    action: Callable[[], str | None] | None = None  # may return a different `did` (say, created concurrently)


def _none(_result: object) -> None:
    """An action whose result says nothing new (the step's own `did` line stands)."""


def read_state(api: Api, n: Names, need_secret: bool, need_service: bool) -> State:
    return State(
        service_account=api.get("ServiceAccount", n.service_account, n.namespace),
        role=api.get("ClusterRole", n.cluster_role),
        binding=api.get("ClusterRoleBinding", n.binding),
        secret=api.get("Secret", n.secret, n.namespace) if need_secret else None,
        service=api.get("Service", "kubernetes", "default") if need_service else None,
    )


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def service_server(svc: Obj | None) -> str:
    """https://ClusterIP:port of default/kubernetes: what the thin plugin on the host reaches, as upstream's
    entrypoint does with KUBERNETES_SERVICE_HOST/PORT."""
    if svc is None:
        raise Failed("Service default/kubernetes not found; pass --server URL (the API address as the node's "
                     "host network reaches it)")
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("port")]
    port = next((p["port"] for p in ports if p.get("name") == "https"), ports[0]["port"] if ports else None)
    if not isinstance(ip, str) or not ip or ip == "None" or port is None:
        raise Failed("Service default/kubernetes has no ClusterIP and port; pass --server URL")
    if is_loopback_host(ip):
        raise Failed(f"Service default/kubernetes has a loopback ClusterIP ({ip}); refusing to write a loopback "
                     "server: pass --server URL explicitly if you mean it")
    return f"https://{url_host(ip)}:{port}"


def check_secret(secret: Obj | None, n: Names) -> None:
    problem = secret_problem(secret, n) if secret is not None else None
    if problem:
        raise Failed(f"Secret {n.namespace}/{n.secret} exists but {problem}; multusctl does not replace it: "
                     "delete or rename it")


def _create(api: Api, obj: Obj, check: Callable[[Obj], str | None] | None = None) -> str | None:
    """Create `obj`; when another run created it meanwhile (409), say so, and fix it with `check`."""
    _got, created = api.ensure(obj)
    if created:
        return None
    fixed = check(_got) if check else None
    return f"{obj['kind']} {_name(obj)}: exists (created meanwhile by another run){fixed or ''}"


def _name(obj: Obj) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


def service_account_step(api: Api, n: Names, state: State) -> Step:
    what = f"ServiceAccount {n.namespace}/{n.service_account}"
    if state.service_account is not None:
        return Step(f"{what}: exists", f"{what}: exists")
    return Step(f"{what}: would create", f"{what}: created", lambda: _create(api, service_account(n)))


def role_step(api: Api, n: Names, state: State) -> Step:
    what = f"ClusterRole {n.cluster_role}"
    rules = {"rules": cluster_role(n)["rules"]}

    def fix(got: Obj) -> str | None:
        if role_is_right(got):
            return None
        api.merge_patch("ClusterRole", n.cluster_role, rules)
        return f"; patched its rules ({role_differences(got)})"

    existing = state.role
    if existing is None:
        return Step(f"{what}: would create (multus's upstream rules)",
                    f"{what}: created (multus's upstream rules: NADs, pods get/list/update/watch, events)",
                    lambda: _create(api, cluster_role(n), fix))
    if role_is_right(existing):
        return Step(f"{what}: exists with multus's rules", f"{what}: exists with multus's rules")
    why = role_differences(existing)
    # A merge patch replaces the whole rules list: exactly multus's rules afterwards.
    return Step(f"{what}: would patch its rules ({why})", f"{what}: patched its rules ({why})",
                lambda: _none(api.merge_patch("ClusterRole", n.cluster_role, rules)))


def binding_step(api: Api, n: Names, state: State) -> Step:
    what = f"ClusterRoleBinding {n.binding}"
    target = f"ClusterRole {n.cluster_role} -> ServiceAccount {n.namespace}/{n.service_account}"
    patch = {"roleRef": role_ref(n), "subjects": subjects(n)}

    def fix(got: Obj) -> str | None:
        ref_ok, subjects_ok = binding_is_right(got, n)
        if not ref_ok:
            raise Failed(f"{what} was created meanwhile by someone else, bound to ClusterRole "
                         f"{(got.get('roleRef') or {}).get('name')!r}; re-run to put it right")
        if not subjects_ok:
            api.merge_patch("ClusterRoleBinding", n.binding, patch)
            return "; patched its subjects"
        return None

    existing = state.binding
    if existing is None:
        return Step(f"{what}: would create ({target})", f"{what}: created ({target})",
                    lambda: _create(api, cluster_role_binding(n), fix))
    ref_ok, subjects_ok = binding_is_right(existing, n)
    if ref_ok and subjects_ok:
        return Step(f"{what}: exists ({target})", f"{what}: exists ({target})")
    if not ref_ok:
        # roleRef is immutable in the API: the binding has to be re-created to point elsewhere.
        old = (existing.get("roleRef") or {}).get("name")

        def recreate() -> str | None:
            api.delete("ClusterRoleBinding", n.binding, missing_ok=True)
            return _create(api, cluster_role_binding(n), fix)

        return Step(f"{what}: would re-create it (it binds {old!r}; roleRef cannot be patched)",
                    f"{what}: re-created (it bound ClusterRole {old!r}; now {target})", recreate)
    only = f"its subjects to ServiceAccount {n.namespace}/{n.service_account} only"
    return Step(f"{what}: would patch {only}", f"{what}: patched {only}",
                lambda: _none(api.merge_patch("ClusterRoleBinding", n.binding, patch)))


def steps(api: Api, n: Names, state: State, token_secret: bool, fixed_server: bool) -> list[Step]:
    """The whole plan, or Failed (before anything changed) when a precondition does not hold."""
    if token_secret:
        check_secret(state.secret, n)
    if not fixed_server:
        service_server(state.service)
    return [service_account_step(api, n, state), role_step(api, n, state), binding_step(api, n, state)]


def apply(plan: list[Step], dry: bool, out: Output) -> None:
    """Under --dry-run only say what would change; otherwise make each change, then say what changed."""
    for step in plan:
        if step.action is None:
            out.ok(step.did)
        elif dry:
            out.plan(step.would)
        else:
            out.ok(step.action() or step.did)
