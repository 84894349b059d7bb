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

or from a shell: ``python -m multusctl.testing serve --dir DIR [--seed FILE ...] [--fault SPEC ...]``
(``--fault 'status=429,retry-after=1,count=1'``, ``--fault reset,count=1``, ``--fault latency=0.5``; the
grammar is in ``serve --help`` and ``multusctl.testing.faultspec``; ``--tls-blackhole`` and
``--refused-port`` add kubeconfigs for a hung handshake and a refused port). While it runs, an admin
(system:masters) arms more faults with ``POST /_testing/faults`` (one spec per line), e.g.
``kubectl create --raw /_testing/faults -f faults.txt``; ``GET`` lists, ``DELETE`` clears.

What it does (proven with the real kubectl 1.27, 1.31 via the dispatcher, and 1.33 in tests/testing/):
client-certificate, ServiceAccount JWT (bound and legacy Secret tokens; expiry and deletion of the
ServiceAccount or Secret enforced) and static-token authentication; impersonation (``kubectl
--as/--as-group/--as-uid``, Impersonate-Extra-*), each part authorized by RBAC's ``impersonate`` verb with
upstream's 403 messages; RBAC from stored (Cluster)Roles and bindings, with the bootstrap roles stored as real
objects; generic CRUD of namespaced and cluster-scoped resources with resourceVersion, uid, creationTimestamp,
generation, 404/409/422 Status bodies, label and field selectors; object names validated on create as the real
server does (DNS-1123 subdomain, label for Namespaces, DNS-1035 for Services, path segments for RBAC;
generateName as a prefix); watch (chunked, from a resourceVersion, initial events and the initial-events-end
bookmark for sendInitialEvents, 410 when too old); JSON patch, JSON merge patch, strategic merge patch and
server-side apply; server-side dry run (``dryRun=All`` on create, update, patch, apply and delete:
validated, admitted and answered as stored, never stored; see ``multusctl.testing.writeopts``) and
DeleteOptions in the body or the query (propagationPolicy validated, uid/resourceVersion preconditions);
the TokenRequest subresource (expirationSeconds >= 600); a token controller for
service-account-token Secrets; kube-root-ca.crt and a default ServiceAccount in every namespace;
`default/kubernetes` Service and Endpoints; batch/v1 CronJobs (stored, never run); CRDs that serve their
resources (plural, singular, short names, additionalPrinterColumns); pod logs (seeded) and status; DaemonSet
status derived from seeded nodes and pods (so `rollout status` works); Self/SubjectAccessReview,
SelfSubjectRulesReview, SelfSubjectReview, TokenReview; /version, /healthz, /readyz, /livez; legacy discovery
(clients asking for aggregated discovery get it and fall back, as against a pre-1.26 server); server-side
Table printing for `kubectl get` (list, get and watch); a skeleton OpenAPI v3 (PATCH operations with their
fieldValidation parameter, so kubectl leaves validation to the server) and an empty OpenAPI v2; protobuf
request bodies of the types kubectl 1.32+ sends that way (see ``multusctl.testing.proto``).

Limits (it is a test double, not an apiserver):
- No OpenAPI schemas (`kubectl explain` fails), hence no schema validation, pruning or fieldValidation
  enforcement, for built-in types or CRDs (unknown
  fields are stored as sent), and only a few API defaults (DaemonSet update strategy, Service type,
  Secret type, Namespace phase).
- One version per built-in group (plus authentication.k8s.io/v1beta1 SelfSubjectReview for old
  kubectl); CRD objects are stored once whatever version they are written with (no conversion).
  core/v1 and events.k8s.io/v1 Events are stored separately.
- Strategic merge patch takes merge keys from a table of the common list fields, not from the Go
  types; server-side apply tracks ownership only between Apply managers (updates do not own
  fields), managedFields are simplified.
- Protobuf request bodies are decoded only for reviews, TokenRequest, Namespace, ServiceAccount,
  Secret, ConfigMap, Event and Pod status updates (the metadata and the common status fields; what the
  real Multus thin plugin sends, tests/test_peers.py) (415 otherwise); responses are always JSON. A
  status write (update, patch, apply) keeps the live spec, ownerReferences and deletionTimestamp and takes the
  request's status, and for built-in kinds its labels and annotations (custom resources keep their metadata,
  as upstream's ResetObjectMetaForStatus); no update changes a deletionTimestamp. No pagination (`limit` and
  `continue` are ignored), no HTTP/2, no aggregated APIs or metrics API.
- Deleting is immediate: no finalizers, graceful deletion or garbage collection of dependents
  (deleting a Namespace deletes its contents at once; default, kube-system and kube-public refuse).
- No controllers besides those named above (no scheduler, kubelet, ReplicaSets or Deployments), no
  admission, no exec/attach/port-forward; logs are not streamed (``follow`` returns what is seeded).
- Status on create is kept as sent (convenient for seeding; the real server resets it for some kinds).
"""

from __future__ import annotations

from multusctl.testing.auth import UserInfo
from multusctl.testing.server import TestCluster

__all__ = ["TestCluster", "UserInfo"]
