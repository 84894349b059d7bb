"""`multusctl kubeconfig create`: ensure the ServiceAccount, RBAC and token, then write a verified kubeconfig.

Every step prints one line (what it found, what it did). Nothing is written to disk before the new
credentials have been proven against the API, and nothing at all under --dry-run.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from multusctl.config.certs import parse_pem_certs
from multusctl.config.errors import ParseError
from multusctl.config.kubeconfig import decoded_field, is_loopback_host, parse, server_address
from multusctl.config.secrets import fingerprint, redact
from multusctl.provision import files, kubeconfig_text
from multusctl.provision.api import Api, ApiFailure, connect_token
from multusctl.provision.duration import human, timestamp
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
    token_secret,
)

TOKEN_WAIT_SECONDS = 10.0
RBAC_SETTLE_SECONDS = 3.0  # a real apiserver's RBAC cache may lag a just-created binding by a moment


class Failed(Exception):
    """Stop with this one-line message and exit status `code`: 1 (the cluster said no), 2 (bad local input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _file_failure(exc: files.FileError) -> Failed:
    return Failed(str(exc), 2 if isinstance(exc, files.LocalError) else 1)


@dataclass
class Options:
    admin_path: str
    admin_source: str  # where the admin kubeconfig came from, for the first output line
    context: str | None
    names: Names
    target: str  # the local path to write
    shown: Callable[[str], str]  # local path -> path as the user thinks of it (node path under --root)
    server: str | None = None
    token_seconds: int | None = None
    verify: bool = True
    dry_run: bool = False
    may_create: str | None = None  # the one missing directory create may make: the layout's multus.d


@dataclass
class Output:
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
class Token:
    value: str | None  # None only under --dry-run, before the Secret exists
    source: str
    expires: datetime | None = None


# ---- cluster objects -----------------------------------------------------------------------------------


def _change(dry: bool, out: Output, would: str, did: str, action: Callable[[], object]) -> None:
    """Under --dry-run only say what would change; otherwise make the change, then say what changed."""
    if dry:
        out.plan(would)
    else:
        action()
        out.ok(did)


def ensure_service_account(api: Api, n: Names, dry: bool, out: Output) -> None:
    what = f"ServiceAccount {n.namespace}/{n.service_account}"
    if api.get("ServiceAccount", n.service_account, n.namespace) is not None:
        out.ok(f"{what}: exists")
    else:
        _change(dry, out, f"{what}: would create", f"{what}: created", lambda: api.create(service_account(n)))


def ensure_cluster_role(api: Api, n: Names, dry: bool, out: Output) -> None:
    what = f"ClusterRole {n.cluster_role}"
    existing = api.get("ClusterRole", n.cluster_role)
    if existing is None:
        _change(dry, out, f"{what}: would create (multus's upstream rules)",
                f"{what}: created (multus's upstream rules: NADs, pods get/list/update/watch, events)",
                lambda: api.create(cluster_role(n)))
    elif role_is_right(existing):
        out.ok(f"{what}: exists with multus's rules")
    else:
        why = role_differences(existing)
        # A merge patch replaces the whole rules list: exactly multus's rules afterwards.
        _change(dry, out, f"{what}: would patch its rules ({why})", f"{what}: patched its rules ({why})",
                lambda: api.merge_patch("ClusterRole", n.cluster_role, {"rules": cluster_role(n)["rules"]}))


def ensure_binding(api: Api, n: Names, dry: bool, out: Output) -> None:
    what = f"ClusterRoleBinding {n.binding}"
    target = f"ClusterRole {n.cluster_role} -> ServiceAccount {n.namespace}/{n.service_account}"
    existing = api.get("ClusterRoleBinding", n.binding)
    if existing is None:
        _change(dry, out, f"{what}: would create ({target})", f"{what}: created ({target})",
                lambda: api.create(cluster_role_binding(n)))
        return
    ref_ok, subjects_ok = binding_is_right(existing, n)
    if ref_ok and subjects_ok:
        out.ok(f"{what}: exists ({target})")
    elif not ref_ok:
        # roleRef is immutable in the API: the binding has to be re-created to point elsewhere.
        old = (existing.get("roleRef") or {}).get("name")

        def recreate() -> None:
            api.delete("ClusterRoleBinding", n.binding)
            api.create(cluster_role_binding(n))

        _change(dry, out, f"{what}: would re-create it (it binds {old!r}; roleRef cannot be patched)",
                f"{what}: re-created (it bound ClusterRole {old!r}; now {target})", recreate)
    else:
        only = f"its subjects to ServiceAccount {n.namespace}/{n.service_account} only"
        _change(dry, out, f"{what}: would patch {only}", f"{what}: patched {only}",
                lambda: api.merge_patch("ClusterRoleBinding", n.binding,
                                        {"roleRef": role_ref(n), "subjects": subjects(n)}))


def _secret_data(secret: Obj, key: str) -> bytes | None:
    return decoded_field(secret.get("data") or {}, key)


def secret_token(api: Api, n: Names, dry: bool, out: Output,
                 wait: float = TOKEN_WAIT_SECONDS) -> tuple[Token, bytes | None]:
    """The long-lived token of Secret `multus-token` (created when missing) and the Secret's ca.crt."""
    what = f"Secret {n.namespace}/{n.secret}"
    existing = api.get("Secret", n.secret, n.namespace)
    if existing is not None:
        problem = secret_problem(existing, n)
        if problem:
            raise Failed(f"{what} exists but {problem}; multusctl does not replace it: delete or rename it")
    elif dry:
        out.plan(f"{what}: would create (type service-account-token, for {n.service_account}) "
                 "and wait for its token")
        return Token(None, what), None
    created = existing is None
    secret = existing if existing is not None else api.create(token_secret(n))
    started, polls = time.monotonic(), 0
    while True:
        raw = _secret_data(secret, "token")
        if raw:
            break
        if time.monotonic() - started > wait:
            raise Failed(f"{what} still has no token after {wait:.0f} s: the token controller "
                         "(kube-controller-manager) did not fill it; use --token-duration for a TokenRequest token")
        if polls:  # the first re-read is immediate: the controller is usually that fast
            time.sleep(0.1)
        polls += 1
        got = api.get("Secret", n.secret, n.namespace)
        if got is None:
            raise Failed(f"{what} disappeared while waiting for its token (the token controller deletes token "
                         "Secrets whose ServiceAccount is gone)")
        secret = got
    token = raw.decode("utf-8", "replace").strip()
    out.secrets.add(token)
    api.secrets.add(token)
    verb = (f"created; the token controller filled it in {time.monotonic() - started:.1f} s" if created
            else "exists")
    out.ok(f"{what}: {verb} (long-lived token {fingerprint(token)}, no expiry; "
           "revoke it by deleting the Secret)")
    return Token(token, what), _secret_data(secret, "ca.crt")


def request_token(api: Api, n: Names, seconds: int, dry: bool, out: Output) -> Token:
    what = f"TokenRequest for ServiceAccount {n.namespace}/{n.service_account}"
    if dry:
        out.plan(f"{what}: would request a {human(seconds)} token")
        return Token(None, "TokenRequest")
    token, expires = api.request_token(n.namespace, n.service_account, seconds)
    out.secrets.add(token)
    granted = (expires - datetime.now(UTC)).total_seconds() if expires else None
    line = f"{what}: token {fingerprint(token)} expires {timestamp(expires) if expires else '(unknown)'}"
    if granted is not None and granted < seconds - 60:
        out.warn(f"{line} (the server shortened the {human(seconds)} asked for to {human(granted)})")
    else:
        out.ok(f"{line} (in {human(granted) if granted is not None else '?'})")
    out.warn("nothing refreshes this token: re-run `multusctl kubeconfig create` before it expires, "
             "or drop --token-duration for a long-lived Secret token")
    return Token(token, "TokenRequest", expires)


# ---- server and CA ---------------------------------------------------------------------------------------


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def service_server(api: Api, out: Output) -> str:
    """https://ClusterIP:port of default/kubernetes: what the thin plugin on the host reaches, as upstream's
    entrypoint does with KUBERNETES_SERVICE_HOST/PORT."""
    svc = api.get("Service", "kubernetes", "default")
    if svc is None:
        raise Failed("Service default/kubernetes not found; pass --server URL (the API address as the node's "
                     "host network reaches it)")
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict) and p.get("port")]
    port = next((p["port"] for p in ports if p.get("name") == "https"), ports[0]["port"] if ports else None)
    if not isinstance(ip, str) or not ip or ip == "None" or port is None:
        raise Failed("Service default/kubernetes has no ClusterIP and port; pass --server URL")
    server = f"https://{url_host(ip)}:{port}"
    if is_loopback_host(ip):
        raise Failed(f"Service default/kubernetes has a loopback ClusterIP ({ip}); refusing to write a loopback "
                     "server: pass --server URL explicitly if you mean it")
    out.ok(f"Server: {server} (ClusterIP of Service default/kubernetes, as the thin plugin on the host reaches it)")
    return server


def cluster_ca(api: Api, n: Names, from_secret: bytes | None, admin_ca: bytes | None, out: Output) -> bytes:
    source, pem = f"Secret {n.namespace}/{n.secret} ca.crt", from_secret
    if pem is None:
        cm = api.get("ConfigMap", "kube-root-ca.crt", n.namespace)
        value = ((cm or {}).get("data") or {}).get("ca.crt")
        if isinstance(value, str) and value.strip():
            source, pem = f"ConfigMap {n.namespace}/kube-root-ca.crt", value.encode()
    if pem is None and admin_ca is not None:
        source, pem = "the admin kubeconfig's certificate-authority-data", admin_ca
    if pem is None:
        raise Failed(f"no cluster CA found (no ca.crt in Secret {n.namespace}/{n.secret} or ConfigMap "
                     f"{n.namespace}/kube-root-ca.crt, none in the admin kubeconfig)")
    try:
        certs = parse_pem_certs(pem)
    except ParseError as exc:
        raise Failed(f"the cluster CA from {source} is unusable: {exc}") from None
    first = certs[0]
    more = f" (+{len(certs) - 1} more)" if len(certs) > 1 else ""
    out.ok(f"CA: {first.subject}, expires {timestamp(first.not_after)}{more}, from {source}")
    return pem


# ---- verification ------------------------------------------------------------------------------------------


def check_token(api: Api, n: Names) -> str:
    """Prove least privilege: who we are, `get pods` cluster-wide allowed, `create nodes` denied."""
    expected = f"system:serviceaccount:{n.namespace}:{n.service_account}"
    who = api.whoami()
    if who is not None and who != expected:
        raise Failed(f"verify failed: the new token authenticates as {who!r}, not {expected!r}")
    deadline = time.monotonic() + RBAC_SETTLE_SECONDS
    while not api.can_i("get", "pods"):
        if time.monotonic() > deadline:
            raise Failed(f"verify failed: {expected} may not get pods cluster-wide (is ClusterRoleBinding "
                         f"{n.binding} bound to ClusterRole {n.cluster_role}?)")
        time.sleep(0.25)
    if api.can_i("create", "nodes"):
        raise Failed(f"verify failed: {expected} may create nodes: it has more rights than multus needs "
                     "(another binding grants them; see `kubectl get clusterrolebindings -o wide`)")
    return f"authenticated as {who or expected}; get pods (all namespaces) allowed, create nodes denied"


def verify(admin: Api, server: str, ca: bytes | None, token: str, n: Names, contact: bool, out: Output) -> None:
    secrets = admin.secrets | {token}

    def through_admin() -> None:
        api = connect_token(admin.server, None, token, secrets, via=admin.config)
        try:
            result = check_token(api, n)
        except ApiFailure as exc:
            raise Failed(f"verify failed through {admin.server}: {exc}") from None
        finally:
            api.close()
        out.ok(f"Verified through the admin connection's server {admin.server}: {result}")

    if not contact:
        out.warn(f"Not contacting {server} (--no-verify): the token, CA and server are written unproven there; "
                 "checking the token's rights through the admin connection instead")
        through_admin()
        return
    api = connect_token(server, ca, token, secrets)
    try:
        result = check_token(api, n)
    except ApiFailure as exc:
        if not exc.unreachable or server == admin.server:
            hint = "" if exc.kind != "tls" else (
                "; if this machine reaches that address only through a proxy or not at all, run this on a "
                "cluster node or pass --no-verify")
            raise Failed(f"verify failed against {server} with the new credentials: {exc}{hint}") from None
        out.warn(f"{server} is not reachable from here ({exc}); expected when this machine is not a cluster "
                 "node. Verifying the token through the admin connection's server instead")
        through_admin()
        return
    finally:
        api.close()
    out.ok(f"Verified against {server} with the new server, CA and token: {result}")


# ---- the whole command -------------------------------------------------------------------------------------


def _server(opts: Options, admin: Api, out: Output) -> str:
    """--server as given (a warning when it is loopback), else the ClusterIP of Service default/kubernetes."""
    if not opts.server:
        return service_server(admin, out)
    address = server_address(opts.server)  # validated by the CLI, so never None here
    if address is not None and is_loopback_host(address[0]):
        out.warn(f"Server: {opts.server} (--server) is a loopback address: it works only on a node where an "
                 "API server listens on that port (not on a k3s agent)")
    else:
        out.ok(f"Server: {opts.server} (--server)")
    return opts.server


def _plan(opts: Options, existing: files.Existing, text: str, out: Output) -> None:
    """--dry-run: what `_write` would do, with a diff whose secrets are shown as fingerprints."""
    shown = opts.shown(opts.target)
    if existing.data == text.encode():
        out.ok(f"{shown}: unchanged" + ("" if existing.mode == files.MODE else
                                        f" (would set its mode {existing.mode:04o} to 0600)"))
        return
    old = existing.data.decode("utf-8", "replace") if existing.data is not None else None
    verb = "would replace it (keeping a backup)" if existing.exists else "would create it (mode 0600)"
    out.plan(f"{shown}: {verb}; diff with secrets shown as fingerprints:")
    out.echo(kubeconfig_text.diff(old, text, shown, out.secrets).rstrip("\n"))


def _write(opts: Options, existing: files.Existing, new: bytes, out: Output, what: str,
           dirs: list[str]) -> None:
    """Put `new` at the target: only a chmod when the content is the same, else backup + atomic write."""
    shown = opts.shown(opts.target)
    try:
        stale = files.remove_stale_temps(opts.target)
        if stale:
            out.ok(f"Removed {len(stale)} temporary file(s) an interrupted run left in "
                   f"{opts.shown(os.path.dirname(opts.target))}: {', '.join(os.path.basename(p) for p in stale)}")
        if existing.data == new:
            if existing.mode != files.MODE:
                files.set_private(opts.target)
                out.ok(f"{shown}: unchanged content; mode {existing.mode:04o} set to 0600")
            else:
                out.ok(f"{shown}: unchanged (0600)")
            return
        for made in files.make_dirs(dirs):
            out.ok(f"Created directory {opts.shown(made)} (0700)")
        if existing.data is not None:
            saved = files.backup(opts.target, existing.data)
            out.ok(f"Backup of the old file: {opts.shown(saved)} (0600)")
        files.write_atomic(opts.target, new)
        out.ok(f"Wrote {shown} (0600): {what}")
    except files.FileError as exc:
        raise _file_failure(exc) from None
    except OSError as exc:
        raise Failed(f"cannot write {shown}: {exc.strerror or exc}") from None


def run(opts: Options, admin: Api, out: Output, admin_ca: bytes | None) -> int:
    n, dry = opts.names, opts.dry_run
    out.info(f"Admin connection: {opts.admin_path} ({opts.admin_source}), server {admin.server}")
    if dry:
        out.info("Dry run: nothing is changed in the cluster or on disk")
    # Local input first: the cluster is touched only when the file can be written.
    try:
        dirs = files.preflight(opts.target, opts.shown, opts.may_create)
        existing = files.read_existing(opts.target, opts.shown(opts.target))
    except files.FileError as exc:
        raise _file_failure(exc) from None

    ensure_service_account(admin, n, dry, out)
    ensure_cluster_role(admin, n, dry, out)
    ensure_binding(admin, n, dry, out)
    if opts.token_seconds is not None:
        token = request_token(admin, n, opts.token_seconds, dry, out)
        secret_ca = None
    else:
        token, secret_ca = secret_token(admin, n, dry, out)

    server = _server(opts, admin, out)
    ca = cluster_ca(admin, n, secret_ca, admin_ca, out)

    placeholder = f"<token from {token.source}, made on the real run>"
    text = kubeconfig_text.build(server, ca, token.value or placeholder,
                                 service_account=f"{n.namespace}/{n.service_account}")
    if existing.data is not None:
        with contextlib.suppress(ParseError):  # an unparsable old file still gets shown redacted line by line
            out.secrets |= parse(existing.data).secrets

    if dry:
        _plan(opts, existing, text, out)
        out.info("Dry run: nothing was changed")
        return 0

    assert token.value is not None
    verify(admin, server, ca, token.value, n, opts.verify, out)
    _write(opts, existing, text.encode(), out, f"ServiceAccount {n.namespace}/{n.service_account}, server {server}",
           dirs)
    return 0
