"""`multusctl kubeconfig create`: ensure the ServiceAccount, RBAC and token, then write a verified kubeconfig.

Every step prints one line (what it found, what it did). Nothing is written to disk before the new
credentials have been proven against the API, and nothing at all under --dry-run.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from multusctl.config.certs import parse_pem_certs
from multusctl.config.credentials import kubeconfig_admin_reason
from multusctl.config.errors import ParseError
from multusctl.config.kubeconfig import decoded_field, is_loopback_host, parse, server_address
from multusctl.config.secrets import fingerprint, redact_url
from multusctl.provision import files, kubeconfig_text, plan
from multusctl.provision.api import Api, ApiFailure, connect_token, url_secrets
from multusctl.provision.duration import human, timestamp
from multusctl.provision.objects import Names, Obj, token_secret
from multusctl.provision.plan import Failed, Output

__all__ = ["Failed", "Options", "Output", "plan_file", "run", "verify", "write_file"]

TOKEN_WAIT_SECONDS = 10.0
RBAC_SETTLE_SECONDS = 3.0  # a real apiserver's RBAC cache may lag a just-created binding by a moment


def _file_failure(exc: files.FileError) -> Failed:
    return Failed(str(exc), 2 if isinstance(exc, files.LocalError) else 1)


@dataclass
class Options:
    """What `kubeconfig create` (and refresh) were asked to do."""

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
class Token:
    """A token for the kubeconfig: its value, where it came from, when it expires."""

    value: str | None  # None only under --dry-run, before the Secret exists
    source: str
    expires: datetime | None = None


# ---- cluster objects -----------------------------------------------------------------------------------


def _secret_data(secret: Obj, key: str) -> bytes | None:
    return decoded_field(secret.get("data") or {}, key)


def secret_token(api: Api, n: Names, existing: Obj | None, dry: bool, out: Output,
                 wait: float = TOKEN_WAIT_SECONDS) -> tuple[Token, bytes | None]:
    """The long-lived token of Secret `<account>-token` (created when missing; `existing` is what the plan
    read, already checked to be this account's token Secret) and the Secret's ca.crt."""
    what = f"Secret {n.namespace}/{n.secret}"
    if existing is None and dry:
        out.plan(f"{what}: would create (type service-account-token, for {n.service_account}) "
                 "and wait for its token")
        return Token(None, what), None
    created = False
    if existing is None:
        secret, created = api.ensure(token_secret(n))
        if not created:  # another run made it meanwhile: it must still be ours
            plan.check_secret(secret, n)
    else:
        secret = existing
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
    out.warn("nothing refreshes this token by itself: run `multusctl kubeconfig refresh` before it expires "
             "(`--print-systemd-timer` prints a timer that does), or drop --token-duration for a long-lived "
             "Secret token")
    return Token(token, "TokenRequest", expires)


# ---- server and CA ---------------------------------------------------------------------------------------


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
    shown = redact_url(server)

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
        out.warn(f"Not contacting {shown} (--no-verify): the token, CA and server are written unproven there; "
                 "checking the token's rights through the admin connection instead")
        through_admin()
        return
    api = connect_token(server, ca, token, secrets)
    try:
        result = check_token(api, n)
    except ApiFailure as exc:
        if not exc.unreachable or shown == admin.server:
            hint = "" if exc.kind != "tls" else (
                "; if this machine reaches that address only through a proxy or not at all, run this on a "
                "cluster node or pass --no-verify")
            raise Failed(f"verify failed against {shown} with the new credentials: {exc}{hint}") from None
        out.warn(f"{shown} is not reachable from here ({exc}); expected when this machine is not a cluster "
                 "node. Verifying the token through the admin connection's server instead")
        through_admin()
        return
    finally:
        api.close()
    out.ok(f"Verified against {shown} with the new server, CA and token: {result}")


# ---- the whole command -------------------------------------------------------------------------------------


def _server(opts: Options, service: Obj | None, out: Output) -> str:
    """--server as given (a warning when it is loopback), else the ClusterIP of Service default/kubernetes."""
    if not opts.server:
        server = plan.service_server(service)
        out.ok(f"Server: {server} (ClusterIP of Service default/kubernetes, as the thin plugin on the host "
               "reaches it)")
        return server
    address = server_address(opts.server)  # validated by the CLI, so never None here
    if address is not None and is_loopback_host(address[0]):
        out.warn(f"Server: {redact_url(opts.server)} (--server) is a loopback address: it works only on a node "
                 "where an API server listens on that port (not on a k3s agent)")
    else:
        out.ok(f"Server: {redact_url(opts.server)} (--server)")
    return opts.server


def plan_file(opts: Options, existing: files.Existing, text: str, out: Output) -> None:
    """--dry-run: what `write_file` would do, with a diff whose secrets are shown as fingerprints."""
    shown = opts.shown(opts.target)
    if existing.data == text.encode():
        out.ok(f"{shown}: unchanged" + ("" if existing.mode == files.MODE else
                                        f" (would set its mode {existing.mode:04o} to 0600)"))
        return
    old = existing.data.decode("utf-8", "replace") if existing.data is not None else None
    verb = "would replace it (keeping a backup)" if existing.exists else "would create it (mode 0600)"
    out.plan(f"{shown}: {verb}; diff with secrets shown as fingerprints:")
    out.echo(kubeconfig_text.diff(old, text, shown, out.secrets).rstrip("\n"))


def write_file(opts: Options, existing: files.Existing, new: bytes, out: Output, what: str,
           dirs: list[str]) -> None:
    """Put `new` at the target: only a chmod when the content is the same, else backup + atomic write."""
    shown = opts.shown(opts.target)
    try:
        for made in files.make_dirs(dirs):
            out.ok(f"Created directory {opts.shown(made)} (0700)")
        with files.write_lock(opts.target):
            stale = files.remove_stale_temps(opts.target)
            if stale:
                out.ok(f"Removed {len(stale)} temporary file(s) an interrupted run left in "
                       f"{opts.shown(os.path.dirname(opts.target))}: "
                       f"{', '.join(os.path.basename(p) for p in stale)}")
            # Read again under the lock: a concurrent run may have replaced the file since the plan.
            existing = files.read_existing(opts.target, shown)
            if existing.data == new:
                if existing.mode != files.MODE:
                    files.set_private(opts.target)
                    out.ok(f"{shown}: unchanged content; mode {existing.mode:04o} set to 0600")
                else:
                    out.ok(f"{shown}: unchanged (0600)")
                return
            if existing.data is not None:
                saved = files.backup(opts.target, existing.data)
                out.ok(f"Backup of the old file: {opts.shown(saved)} (0600)")
                if why := kubeconfig_admin_reason(existing.data):
                    out.warn(f"{opts.shown(saved)} holds cluster-admin credentials ({why}; the old file was a "
                             f"copy of the admin kubeconfig): once pods start, remove it: rm {opts.shown(saved)}")
            files.write_atomic(opts.target, new)
            out.ok(f"Wrote {shown} (0600): {what}")
    except files.FileError as exc:
        raise _file_failure(exc) from None
    except OSError as exc:
        raise Failed(f"cannot write {shown}: {exc.strerror or exc}") from None


def run(opts: Options, admin: Api, out: Output, admin_ca: bytes | None) -> int:
    n, dry = opts.names, opts.dry_run
    if opts.server:
        out.secrets |= url_secrets(opts.server)
    out.info(f"Admin connection: {opts.admin_path} ({opts.admin_source}), server {admin.server}")
    if dry:
        out.info("Dry run: nothing is changed in the cluster or on disk")
    # Local input first: the cluster is touched only when the file can be written.
    try:
        dirs = files.preflight(opts.target, opts.shown, opts.may_create)
        existing = files.read_existing(opts.target, opts.shown(opts.target))
    except files.FileError as exc:
        raise _file_failure(exc) from None

    # Read everything, decide everything (failing here changes nothing), then change.
    long_lived = opts.token_seconds is None
    state = plan.read_state(admin, n, need_secret=long_lived, need_service=not opts.server)
    plan.apply(plan.steps(admin, n, state, token_secret=long_lived, fixed_server=bool(opts.server)), dry, out)
    if opts.token_seconds is not None:
        token = request_token(admin, n, opts.token_seconds, dry, out)
        secret_ca = None
    else:
        token, secret_ca = secret_token(admin, n, state.secret, dry, out)

    server = _server(opts, state.service, out)
    ca = cluster_ca(admin, n, secret_ca, admin_ca, out)

    placeholder = f"<token from {token.source}, made on the real run>"
    text = kubeconfig_text.build(server, ca, token.value or placeholder,
                                 service_account=f"{n.namespace}/{n.service_account}")
    if existing.data is not None:
        with contextlib.suppress(ParseError):  # an unparsable old file still gets shown redacted line by line
            out.secrets |= parse(existing.data).secrets

    if dry:
        plan_file(opts, existing, text, out)
        out.info("Dry run: nothing was changed")
        return 0

    assert token.value is not None
    verify(admin, server, ca, token.value, n, opts.verify, out)
    what = f"ServiceAccount {n.namespace}/{n.service_account}, server {redact_url(server)}"
    write_file(opts, existing, text.encode(), out, what, dirs)
    return 0
