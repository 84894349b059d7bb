"""A faithful in-process Kubernetes API server for tests: ``multusctl.testing``.

``TestCluster`` serves real HTTPS on 127.0.0.1 (a free port) with its own CA, and is what
multusctl's own tests run kubectl and the API client against; it is usable in users' tests too::

    from multusctl.testing import TestCluster

    with TestCluster() as cluster:
        cluster.seed_yaml("manifests.yaml")
        cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")     # O=system:masters client cert
        token = cluster.create_token("kube-system", "multus")
        cluster.kubeconfig_for_token(tmp_path / "sa.kubeconfig", token)
        cluster.faults.burst(...)                                   # see multusctl.testing.faults

or from a shell: ``python -m multusctl.testing serve --dir DIR [--seed FILE ...]``.

What it does (proven with the real kubectl in tests/testing/): client-certificate, ServiceAccount
JWT (bound and legacy Secret tokens, expiry and deletion enforced) and static-token authentication;
RBAC authorization from stored (Cluster)Roles and bindings; generic CRUD of namespaced and
cluster-scoped resources with resourceVersion, uid, creationTimestamp, generation, 404/409 Status
bodies, label and field selectors; watch (chunked, from a resourceVersion, initial events, bookmarks
for sendInitialEvents); JSON patch, JSON merge patch, strategic merge patch and server-side apply;
the TokenRequest subresource; a token controller for service-account-token Secrets; kube-root-ca.crt
in every namespace; CRDs that serve their resources (by plural, singular and short names); pod logs
and status; DaemonSet status derived from seeded nodes and pods; self-subject access/rules reviews,
SelfSubjectReview, TokenReview, SubjectAccessReview; /version, /healthz, /readyz, /livez, discovery
and a skeleton OpenAPI v3 (so kubectl leaves field validation to the server).

Limits (it is a test double, not an apiserver):
- No schema validation or pruning, for built-in types or CRDs (unknown fields are stored as sent),
  and only a few API defaults (DaemonSet update strategy, Service type, Secret type).
- One version per built-in group; CRD objects are stored once whatever version they are written with
  (no conversion). core/v1 and events.k8s.io/v1 Events are stored separately.
- Strategic merge patch takes merge keys from a table of the common list fields, not from the Go
  types; server-side apply tracks ownership only between Apply managers (updates do not own
  fields) and managedFields are simplified.
- Responses are JSON only: protobuf request bodies get 415 (client-go then retries with JSON), no
  Table output (kubectl prints client-side), no pagination (`limit`/`continue` are ignored).
- Deleting is immediate: no finalizers, no graceful deletion, no garbage collection of dependents
  (deleting a Namespace deletes its contents at once).
- No controllers besides those named above (no scheduler, kubelet, ReplicaSets or Deployments),
  no admission, no aggregated APIs, no HTTP/2, no exec/attach/port-forward, logs are not streamed
  (``follow`` returns what is seeded).
"""

from __future__ import annotations

from multusctl.testing.auth import UserInfo
from multusctl.testing.server import TestCluster

__all__ = ["TestCluster", "UserInfo"]
