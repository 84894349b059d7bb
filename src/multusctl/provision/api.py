"""The only place that talks to the Kubernetes API (lightkube), and the one-line names of what went wrong.

Objects go in and come out as plain API dicts, so the rest of `provision` stays free of lightkube types
and this module (with `api_objects`) is the whole price of the dependency.
"""

from __future__ import annotations

import base64
import errno
import re
import ssl
from dataclasses import dataclass
from typing import Any

from multusctl.config.secrets import redact, redact_url, url_password
from multusctl.provision.api_objects import ObjectsMixin

Obj = dict[str, Any]

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# Transient answers (429, 5xx, a reset connection) are retried with exponential backoff, each call within
# RETRY_DEADLINE seconds overall; a Retry-After is honoured up to RETRY_AFTER_CAP seconds.
RETRY_DEADLINE = 20.0
RETRY_AFTER_CAP = 5.0
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 2.0
RETRY_CODES = frozenset({429, 500, 502, 503, 504})


class ApiFailure(Exception):
    """A one-line, secret-free reason; `kind` is connect | timeout | tls | unauthorized | forbidden | http | config."""

    def __init__(self, kind: str, message: str, code: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.reason = reason  # the Status reason of an HTTP failure, e.g. AlreadyExists

    @property
    def unreachable(self) -> bool:
        """Nothing answered (as opposed to a server that answered and said no)."""
        return self.kind in ("connect", "timeout")


def url_secrets(url: str) -> set[str]:
    """The password of a URL's user info, to be redacted wherever it might still show."""
    password = url_password(url)
    return {password} if password else set()


_ILLEGAL_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]")


def header_problem(token: str | None, whose: str) -> str | None:
    """Why `token` cannot be sent as `Authorization: Bearer ...` (the HTTP library would print it whole)."""
    if token and _ILLEGAL_IN_HEADER.search(token):
        return (f"{whose} token contains a newline or control character, which cannot be sent in an HTTP "
                "header; fix the token (it is not shown)")
    if token and not token.isascii():
        return f"{whose} token contains non-ASCII characters, which cannot be sent in an HTTP header (not shown)"
    return None


def _resources() -> dict[str, Any]:
    from lightkube.resources.core_v1 import ConfigMap, Secret, Service, ServiceAccount
    from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding

    return {"ServiceAccount": ServiceAccount, "Secret": Secret, "Service": Service, "ConfigMap": ConfigMap,
            "ClusterRole": ClusterRole, "ClusterRoleBinding": ClusterRoleBinding}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 20:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def describe(exc: BaseException, server: str, who: str, secrets: set[str]) -> ApiFailure:
    """Name a failure plainly: connection refused, timeout, TLS, 401, 403, other HTTP status."""
    # lightkube >= 1.0 (pyproject's floor) runs on httpx2, the maintained fork of httpx.
    import httpx2
    from lightkube import ApiError
    from lightkube.core.exceptions import ConfigError

    if isinstance(exc, ApiFailure):
        return exc
    if isinstance(exc, ApiError):
        code = exc.status.code or exc.response.status_code
        msg = redact((exc.status.message or exc.status.reason or "").strip(), secrets)
        if code == 401:
            return ApiFailure("unauthorized", f"the API at {server} rejected {who}: 401 Unauthorized "
                              "(expired, revoked or foreign credentials)", code)
        if code == 403:
            return ApiFailure("forbidden", f"403 Forbidden: {msg} ({who} lack this permission)", code)
        return ApiFailure("http", f"the API at {server} answered {code} {exc.status.reason or ''}: {msg}".rstrip(),
                          code, exc.status.reason)
    if isinstance(exc, ConfigError):
        return ApiFailure("config", redact(str(exc), secrets))
    chain = _chain(exc)
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            why = e.verify_message or "certificate verify failed"
            return ApiFailure("tls", f"TLS error talking to {server}: {why} (the CA does not match the server's "
                              "certificate, or the certificate does not name this address)")
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return ApiFailure("connect", f"cannot connect to {server}: connection refused (no API server listens "
                              "there)")
    if isinstance(exc, httpx2.TimeoutException) or any(isinstance(e, TimeoutError) for e in chain):
        phase = "connecting" if isinstance(exc, httpx2.ConnectTimeout) else "waiting for an answer"
        return ApiFailure("timeout", f"timed out {phase} to {server}")
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return ApiFailure("tls", f"TLS error talking to {server}: {e.reason or e}")
    for e in chain:
        if isinstance(e, OSError) and e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNRESET,
                                                  errno.EADDRNOTAVAIL):
            return ApiFailure("connect", f"cannot connect to {server}: {e.strerror.lower() if e.strerror else e}")
        if e.__class__.__name__ == "gaierror":
            return ApiFailure("connect", f"cannot connect to {server}: cannot resolve its host name")
    if isinstance(exc, httpx2.TransportError):
        return ApiFailure("connect", f"cannot talk to {server}: {redact(str(exc), secrets) or type(exc).__name__}")
    return ApiFailure("http", f"unexpected error talking to {server}: {type(exc).__name__}: "
                      f"{redact(str(exc), secrets)}".splitlines()[0])


def _retry_delay(exc: BaseException, attempt: int) -> float | None:
    """Seconds to wait before trying `exc`'s request again, None when it is not worth another try.

    Every request multusctl makes is safe to repeat: GETs, merge patches and deletes (a repeated delete
    is asked with missing_ok), reviews and TokenRequests; a create whose first try did get through
    comes back 409 AlreadyExists, which `Api.ensure` reads back."""
    import httpx2
    from lightkube import ApiError

    backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** attempt)
    if isinstance(exc, ApiError):
        code = exc.status.code or exc.response.status_code
        if code not in RETRY_CODES:
            return None
        try:
            after = float(exc.response.headers.get("Retry-After", ""))
        except (TypeError, ValueError):
            return backoff
        return min(max(after, 0.0), RETRY_AFTER_CAP)
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.WriteError):
        return backoff  # the connection broke under an answered-or-not request
    if any(isinstance(e, ConnectionResetError) for e in _chain(exc)):
        return backoff
    return None


@dataclass
class Api(ObjectsMixin):
    """A lightkube client plus what is needed to name failures (the server URL and whose credentials);
    the generic object operations (apply, list, delete, watch of any kind) are in `api_objects`."""

    client: Any
    server: str
    who: str
    secrets: set[str]
    config: Any = None  # lightkube SingleConfig of the admin connection: to verify through its server

    def _call(self, fn: Any, *args: Any, none_on_404: bool = False, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`, retried while the failure is transient and the deadline allows; a failure
        named in one line (with how many tries it took). With none_on_404, None for 404 Not Found."""
        import time

        from lightkube import ApiError

        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                if none_on_404 and exc.status.code == 404:
                    return None
                failure: BaseException = exc
            except Exception as exc:
                failure = exc
            delay = _retry_delay(failure, attempt)
            attempt += 1
            if delay is None or time.monotonic() + delay - started > RETRY_DEADLINE:
                named = describe(failure, self.server, self.who, self.secrets)
                if attempt > 1:
                    named = ApiFailure(named.kind, f"{named} (after {attempt} tries in "
                                       f"{time.monotonic() - started:.1f} s)", named.code, named.reason)
                raise named from None
            time.sleep(delay)

    def _call_or_none(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """`_call`, but None when the API answers 404 Not Found."""
        return self._call(fn, *args, none_on_404=True, **kwargs)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        kw: dict[str, Any] = {"namespace": namespace} if namespace else {}
        obj = self._call_or_none(self.client.get, _resources()[kind], name, **kw)
        return dict(obj.to_dict()) if obj is not None else None

    def create(self, obj: Obj) -> Obj:
        from lightkube import codecs

        out = self._call(self.client.create, codecs.from_dict(obj))
        return dict(out.to_dict())

    def ensure(self, obj: Obj) -> tuple[Obj, bool]:
        """Create `obj`, or when it already exists (409 AlreadyExists: another run was quicker, or our own
        first try got through before its answer was lost) read it back. (the object, whether we created it)."""
        from lightkube import codecs

        try:
            out = self._call(self.client.create, codecs.from_dict(obj))
        except ApiFailure as exc:
            if exc.code != 409 or exc.reason != "AlreadyExists":
                raise
        else:
            return dict(out.to_dict()), True
        meta = obj["metadata"]
        got = self.get(obj["kind"], meta["name"], meta.get("namespace"))
        if got is None:  # created and deleted again in between: once more
            return self.create(obj), True
        return got, False

    def merge_patch(self, kind: str, name: str, patch: Obj, namespace: str | None = None) -> Obj:
        from lightkube.types import PatchType

        kw: dict[str, Any] = {"namespace": namespace} if namespace else {}
        out = self._call(self.client.patch, _resources()[kind], name, patch, patch_type=PatchType.MERGE, **kw)
        return dict(out.to_dict())

    def delete(self, kind: str, name: str, namespace: str | None = None, missing_ok: bool = False) -> None:
        kw: dict[str, Any] = {"namespace": namespace} if namespace else {}
        if missing_ok:
            self._call_or_none(self.client.delete, _resources()[kind], name, **kw)
        else:
            self._call(self.client.delete, _resources()[kind], name, **kw)

    def request_token(self, namespace: str, service_account: str, seconds: int) -> tuple[str, Any]:
        """(token, server-granted expiration datetime) via TokenRequest."""
        from lightkube.models.authentication_v1 import TokenRequestSpec
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import ServiceAccount

        # No audiences: the server's own (the API audience), which is what the thin plugin presents the token to.
        req = ServiceAccount.Token(metadata=ObjectMeta(), spec=TokenRequestSpec(audiences=[],
                                                                                expirationSeconds=seconds))
        out = self._call(self.client.create, req, service_account, namespace=namespace)
        token = out.status.token
        self.secrets.add(token)
        return token, out.status.expirationTimestamp

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
        from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
        from lightkube.resources.authorization_v1 import SelfSubjectAccessReview

        resource, _, sub = resource.partition("/")  # "pods/log": the log subresource
        attrs = ResourceAttributes(verb=verb, resource=resource, subresource=sub or None, group=group or None,
                                   namespace=namespace)
        out = self._call(self.client.create, SelfSubjectAccessReview(spec=SelfSubjectAccessReviewSpec(
            resourceAttributes=attrs)))
        return bool(out.status and out.status.allowed)

    def whoami(self) -> str | None:
        """The username the server sees, or None when it has no SelfSubjectReview (before 1.28)."""
        from lightkube.resources.authentication_v1 import SelfSubjectReview

        out = self._call_or_none(self.client.create, SelfSubjectReview())
        if out is None:
            return None
        info = out.status.userInfo if out.status else None
        return info.username if info else None

    def close(self) -> None:
        self.client.close()


def _timeout(connect: float) -> Any:
    import httpx2

    return httpx2.Timeout(READ_TIMEOUT, connect=connect)


def connect_admin(path: str, raw: dict[str, Any], context: str | None, secrets: set[str]) -> Api:
    """A client for the admin kubeconfig `path`, whose document the caller has already read and parsed as
    `raw` (raises ApiFailure kind=config when lightkube cannot use it)."""
    from pathlib import Path

    from lightkube import Client, KubeConfig
    from lightkube.core.exceptions import ConfigError

    try:
        # fname: lightkube resolves relative certificate/key paths against the kubeconfig's directory.
        config = KubeConfig.from_dict(raw, fname=Path(path))
        single = config.get(context)
        if single is None:
            raise ConfigError("no context")
        secrets |= url_secrets(single.cluster.server)
        problem = header_problem(getattr(single.user, "token", None), "the admin kubeconfig's")
        if problem:
            raise ApiFailure("config", f"{path}: {problem}")
        client = Client(single, timeout=_timeout(CONNECT_TIMEOUT), field_manager="multusctl")
    except ConfigError as exc:
        raise ApiFailure("config", f"{path}: {redact(str(exc), secrets)}") from None
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise ApiFailure("config", f"{path}: cannot use this kubeconfig ({type(exc).__name__}: "
                         f"{redact(str(exc), secrets)})") from None
    return Api(client, redact_url(single.cluster.server), f"the credentials of {path}", secrets, single)


SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def connect_in_cluster(sa_dir: str, secrets: set[str]) -> Api:
    """A client with the pod's own ServiceAccount (token, ca.crt in `sa_dir`; KUBERNETES_SERVICE_HOST/PORT),
    as a CronJob of `kubeconfig refresh --print-cronjob` runs it."""
    import os

    from lightkube import Client, KubeConfig
    from lightkube.core.exceptions import ConfigError

    from multusctl.gather.nodefs import NodeFSError, read_regular_file

    try:
        # Each file through the one safe reader first: lightkube would block on a FIFO, and say less.
        files = {name: read_regular_file(os.path.join(sa_dir, name), os.path.join(sa_dir, name))
                 for name in ("token", "ca.crt", "namespace")}
        token = files["token"].decode("utf-8", "replace").strip()
        secrets.add(token)
        if not token:
            raise ApiFailure("config", f"--in-cluster: {os.path.join(sa_dir, 'token')} is empty")
        if problem := header_problem(token, f"the ServiceAccount's ({os.path.join(sa_dir, 'token')})"):
            raise ApiFailure("config", f"--in-cluster: {problem}")
        port = os.environ["KUBERNETES_SERVICE_PORT"]
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise ApiFailure("config", f"--in-cluster: KUBERNETES_SERVICE_PORT={port!r:.20} is not a port")
        config = KubeConfig.from_service_account(sa_dir)
        single = config.get()
        if single is None:
            raise ConfigError("no context")
        client = Client(single, timeout=_timeout(CONNECT_TIMEOUT), field_manager="multusctl")
    except KeyError as exc:
        raise ApiFailure("config", f"--in-cluster: {exc.args[0]} is not set (not running in a pod?)") from None
    except (ConfigError, OSError, NodeFSError) as exc:
        raise ApiFailure("config", f"--in-cluster: cannot use the ServiceAccount in {sa_dir}: "
                         f"{redact(str(exc), secrets)}") from None
    return Api(client, redact_url(single.cluster.server), f"the ServiceAccount of this pod ({sa_dir})", secrets,
               single)


def connect_token(server: str, ca_pem: bytes | None, token: str, secrets: set[str], *, via: Any = None,
                  connect_timeout: float = 3.0) -> Api:
    """A client with the new credentials: `server` + `ca_pem`, or the admin connection's cluster (`via`)."""
    from lightkube import Client, KubeConfig
    from lightkube.config.models import Cluster, User

    problem = header_problem(token, "the new ServiceAccount")
    if problem:
        raise ApiFailure("config", problem)
    if via is not None:
        cluster = via.cluster
        fname = via.fname
        server = cluster.server
    else:
        cluster = Cluster(server=server, certificate_auth_data=base64.b64encode(ca_pem or b"").decode())
        fname = None
    config = KubeConfig.from_one(cluster=cluster, user=User(token=token), fname=fname)
    # No proxy from the environment: the thin plugin runs under the container runtime, which has none.
    client = Client(config, timeout=_timeout(connect_timeout), trust_env=False, field_manager="multusctl")
    return Api(client, redact_url(server), "the new ServiceAccount token", secrets)
