"""`multusctl kubeconfig refresh`: renew the TokenRequest token of Multus's kubeconfig before it expires.

The thin plugin never refreshes its token by default (rke2#9313: an hour after a CIS-mode install every
pod fails with Unauthorized). Refresh keeps the file's server and CA, asks the API for a new token of the
same ServiceAccount and lifetime, proves it exactly as `create` does, and writes it the same way (atomic,
0600, backed up). It contacts the cluster only when the token expires within `--before`: a timer can run it
every hour at no cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from multusctl.config.credentials import span, timestamp
from multusctl.config.errors import ParseError
from multusctl.config.jwt import TokenClaims, decode_claims, looks_like_jwt
from multusctl.config.kubeconfig import Kubeconfig, parse
from multusctl.config.secrets import fingerprint, redact_url
from multusctl.gather.nodefs import path_problem
from multusctl.provision import files, kubeconfig_text
from multusctl.provision.api import Api
from multusctl.provision.create import Options, plan_file, verify, write_file
from multusctl.provision.duration import MIN_TOKEN_SECONDS
from multusctl.provision.objects import Names
from multusctl.provision.plan import Failed, Output
from multusctl.report.escape import one_line


@dataclass(frozen=True)
class Due:
    """What the current file needs: nothing (with why), or a new token for `names` of `seconds`."""

    needed: bool
    why: str
    names: Names | None = None
    seconds: int = 0
    kubeconfig: Kubeconfig | None = None


def due(data: bytes | None, shown: str, now: datetime, before: timedelta, force: bool) -> Due:
    """Decide offline whether the kubeconfig at `shown` needs a new token. Raises Failed (exit 2) when it is
    not a ServiceAccount-token kubeconfig refresh can renew."""
    if data is None:
        raise Failed(f"{shown} does not exist: nothing to refresh; write it with `multusctl kubeconfig create`", 2)
    try:
        kc = parse(data)
    except ParseError as exc:
        raise Failed(f"{shown}: {exc}; recreate it with `multusctl kubeconfig create`", 2) from None
    token = kc.token
    if not token or not looks_like_jwt(token):
        what = "a client certificate" if kc.user.get("client-certificate-data") or kc.user.get(
            "client-certificate") else "no ServiceAccount token"
        raise Failed(f"{shown} authenticates with {what}; refresh renews ServiceAccount tokens only: write one "
                     "with `multusctl kubeconfig create`", 2)
    try:
        claims = decode_claims(token)
    except ParseError as exc:
        raise Failed(f"{shown}: its token is unreadable ({exc}); recreate it with `multusctl kubeconfig create`",
                     2) from None
    if claims.exp_problem or claims.lifetime_problem:
        raise Failed(f"{shown}: its token is unreadable ({claims.exp_problem or claims.lifetime_problem}); "
                     "recreate it with `multusctl kubeconfig create`", 2)
    names = _names(claims, shown)
    if claims.expires is None:
        return Due(False, f"{shown}: long-lived Secret token {fingerprint(token)} of ServiceAccount "
                          f"{claims.service_account}: it never expires, nothing to refresh", names, 0, kc)
    left = claims.expires - now
    when = f"in {span(left)}" if left.total_seconds() > 0 else f"EXPIRED {span(-left)} ago"
    state = (f"token {fingerprint(token)} of ServiceAccount {claims.service_account} expires "
             f"{timestamp(claims.expires)} ({when})")
    seconds = max(int((claims.lifetime or timedelta(hours=24)).total_seconds()), MIN_TOKEN_SECONDS)
    if left > before and not force:
        return Due(False, f"{shown}: {state}, later than --before {span(before)}: nothing to do", names,
                   seconds, kc)
    reason = "--force" if left > before else f"within --before {span(before)}"
    return Due(True, f"{shown}: {state}, {reason}: requesting a new {span(seconds)} token", names, seconds, kc)


_DNS1123 = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


def _names(claims: TokenClaims, shown: str) -> Names:
    sa = claims.service_account
    if not sa or "/" not in sa:
        raise Failed(f"{shown}: its token names no ServiceAccount; recreate it with `multusctl kubeconfig create`",
                     2)
    namespace, name = sa.split("/", 1)
    if not (_DNS1123.fullmatch(namespace) and _DNS1123.fullmatch(name)):
        raise Failed(f"{shown}: its token names ServiceAccount {one_line(sa)!r}, which is no valid name; "
                     "recreate it with `multusctl kubeconfig create`", 2)
    return Names.for_account(namespace, name)


def run(opts: Options, d: Due, admin: Api, out: Output, existing: files.Existing) -> int:
    """Request, verify and write the new token (the decision `d` says one is needed)."""
    assert d.names is not None and d.kubeconfig is not None
    kc, n = d.kubeconfig, d.names
    server = kc.server or ""
    ca = kc.decoded(kc.cluster, "certificate-authority-data")
    if not server or ca is None:
        raise Failed(f"{opts.shown(opts.target)} has no server or no certificate-authority-data to keep; "
                     "recreate it with `multusctl kubeconfig create`", 2)
    out.info(f"Admin connection: {opts.admin_path} ({opts.admin_source}), server {admin.server}")
    if opts.dry_run:
        out.plan(f"TokenRequest for ServiceAccount {n.namespace}/{n.service_account}: would request a "
                 f"{span(d.seconds)} token; server {redact_url(server)} and CA kept")
        text = kubeconfig_text.build(server, ca, "<new token, made on the real run>",
                                     service_account=f"{n.namespace}/{n.service_account}")
        plan_file(opts, existing, text, out)
        out.info("Dry run: nothing was changed")
        return 0
    token, expires = admin.request_token(n.namespace, n.service_account, d.seconds)
    out.secrets.add(token)
    out.ok(f"TokenRequest for ServiceAccount {n.namespace}/{n.service_account}: token {fingerprint(token)} "
           f"expires {timestamp(expires) if expires else '(unknown)'}")
    verify(admin, server, ca, token, n, opts.verify, out)
    text = kubeconfig_text.build(server, ca, token, service_account=f"{n.namespace}/{n.service_account}")
    write_file(opts, existing, text.encode(), out, f"new token {fingerprint(token)}, server {redact_url(server)}",
               [])
    return 0


def systemd_exec(args: list[str]) -> str:
    """`args` as an ExecStart= value: shell-quoted, with systemd's own specifiers (% and $) doubled."""
    import shlex

    return shlex.join(args).replace("%", "%%").replace("$", "$$")


def systemd_units(command: str, every: str = "1h") -> str:
    """A service and a timer that run `command` (a refresh, see systemd_exec) every `every`, as text to save
    under /etc/systemd/system (a node-local schedule: the node must reach the API with the admin kubeconfig)."""
    return (
        "# /etc/systemd/system/multusctl-refresh.service\n"
        "[Unit]\n"
        "Description=Renew the token of Multus's kubeconfig before it expires (multusctl kubeconfig refresh)\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={command}\n\n"
        "# /etc/systemd/system/multusctl-refresh.timer\n"
        "[Unit]\n"
        "Description=Run multusctl kubeconfig refresh regularly\n\n"
        "[Timer]\n"
        f"OnBootSec=5min\nOnUnitActiveSec={every}\nRandomizedDelaySec=5min\nPersistent=true\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
        "# Enable with: systemctl daemon-reload && systemctl enable --now multusctl-refresh.timer\n"
    )


REFRESHER = "multus-token-refresher"
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?-]+")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")


def cronjob_problem(image: str, node: str | None, schedule: str, host_dir: str) -> str | None:
    """Why these values cannot go into the printed CronJob (the API would refuse it, or it would mean
    something else), or None."""
    if not _IMAGE.fullmatch(image) or len(image) > 512:
        return f"--image {one_line(image)!r} is not an image reference (e.g. registry.example/multusctl:0.1)"
    if node is not None and not (_DNS1123.fullmatch(node) and len(node) <= 253):
        return f"--node {one_line(node)!r} is not a node name (a lowercase DNS-1123 subdomain)"
    fields = schedule.split()
    if not (schedule.startswith("@") and _CRON_FIELD.fullmatch(schedule[1:])) and not (
            len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields)):
        return f"--schedule {one_line(schedule)!r} is not a cron schedule (five fields, e.g. '17 * * * *')"
    if (problem := path_problem(host_dir)) or one_line(host_dir) != host_dir or not host_dir.startswith("/"):
        return f"{one_line(host_dir)!r} is not an absolute path a hostPath can name" + (f" ({problem})" if problem
                                                                                           else "")
    return None


def _job_name(node: str | None) -> str:
    """`multus-token-refresh[-<node>]`, within the 52 characters a CronJob name may have."""
    name = f"multus-token-refresh-{node}" if node else "multus-token-refresh"
    if len(name) <= 52:
        return name
    digest = fingerprint(node or "").removeprefix("sha256:")
    return f"multus-token-refresh-{(node or '')[:21].rstrip('.-')}-{digest}"
IN_POD_DIR = "/host/multus.d"


def cronjob_manifests(host_dir: str, image: str, *, names: Names, node: str | None, schedule: str,
                      before: str) -> str:
    """A CronJob that runs this refresh on one node (hostPath `host_dir`, the layout's multus.d) with a
    ServiceAccount that may do exactly one thing: create tokens for the multus ServiceAccount."""
    import yaml

    ns = names.namespace
    meta = {"name": REFRESHER, "namespace": ns, "labels": {"app.kubernetes.io/name": REFRESHER}}
    job_name = _job_name(node)
    pod_spec: dict[str, object] = {
        "serviceAccountName": REFRESHER, "restartPolicy": "OnFailure", "tolerations": [{"operator": "Exists"}],
        "containers": [{
            "name": "refresh", "image": image,
            "command": ["multusctl", "kubeconfig", "refresh", "--in-cluster", "--path",
                        f"{IN_POD_DIR}/multus.kubeconfig", "--before", before],
            "volumeMounts": [{"name": "multus-d", "mountPath": IN_POD_DIR}],
            "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": False},
        }],
        "volumes": [{"name": "multus-d", "hostPath": {"path": host_dir, "type": "Directory"}}],
    }
    if node:
        pod_spec["nodeName"] = node
    docs = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
         "rules": [{"apiGroups": [""], "resources": ["serviceaccounts/token"],
                    "resourceNames": [names.service_account], "verbs": ["create"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": REFRESHER},
         "subjects": [{"kind": "ServiceAccount", "name": REFRESHER, "namespace": ns}]},
        {"apiVersion": "batch/v1", "kind": "CronJob",
         "metadata": {**meta, "name": job_name},
         "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                  "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"spec": pod_spec}}}}},
    ]
    head = (f"# multusctl kubeconfig refresh on {'node ' + one_line(node) if node else 'one node'}: renews the "
            f"token of {one_line(host_dir)}/multus.kubeconfig\n# when it expires within {one_line(before)}. "
            "The image must contain multusctl (e.g. `pip install .` of this repository).\n")
    return head + "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


__all__ = ["Due", "cronjob_manifests", "cronjob_problem", "due", "run", "systemd_exec", "systemd_units"]
