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
resources (plural, singular, short names, additionalPrinterColumns); pod logs (seeded, or of the pods the kubelet
runs) and status; DaemonSet status derived from nodes and pods (so `rollout status` works); simulated
nodes (below); Self/SubjectAccessReview,
SelfSubjectRulesReview, SelfSubjectReview, TokenReview; /version, /healthz, /readyz, /livez; legacy discovery
(clients asking for aggregated discovery get it and fall back, as against a pre-1.26 server); server-side
Table printing for `kubectl get` (list, get and watch); a skeleton OpenAPI v3 (PATCH operations with their
fieldValidation parameter, so kubectl leaves validation to the server) and an empty OpenAPI v2; protobuf
request bodies of the types kubectl 1.32+ sends that way (see ``multusctl.testing.proto``).

Simulated nodes (``multusctl.testing.nodes``, ``.kubelet``, ``.daemonsets``, ``.gc``, ``.podlogs``):
``TestCluster(nodes=3)`` (node-1..node-3, each with its own empty root; ``node_root=DIR`` shares one),
``TestCluster(nodes=[SimNode("a", root, nopull=True), "b=/roots/k3s:slow=2"])``, ``cluster.add_node(...)``, a
seeded Node annotated ``testing.multusctl.io/node-root`` (and ``testing.multusctl.io/node-flags``), or
``serve --node NAME=ROOT[:FLAG,...]`` (repeatable) and ``serve --nodes N --node-root ROOT [--node-flags F]``;
``--unpullable-image REF`` / ``unpullable_images=`` fail an image everywhere. Each node is a Node object
(Ready, addresses, podCIDR, kubeletVersion) and a directory standing for its ``/``. Flags: ``notready``
(Ready=False plus the not-ready NoSchedule/NoExecute taints; nothing runs there, pods stay Pending, and
Terminating once deleted, until force-deleted or the Node is deleted), ``nopull`` (ErrImagePull, then
ImagePullBackOff), ``slow=SECONDS`` (containers start that much later). With simulated nodes, the DaemonSet
controller creates one pod per eligible node (nodeSelector, required node affinity, taints and tolerations,
upstream's daemon tolerations; ``<ds>-<5 random>``, controller ownerReference, bound with nodeName) and
replaces deleted ones; without them it only writes DaemonSet status, and no pod is ever run. The kubelet
runs every pod bound to a simulated node: no image is pulled; each container's command and args (``$(VAR)``
expanded; env with value, fieldRef, configMapKeyRef/secretKeyRef, envFrom) run with this machine's tools as
root in a private mount namespace (``unshare -m --propagation private``) on an overlay of ``/`` (writes
vanish with the container), hostPath volumes bound from the node's root (symlinks resolved inside it,
hostPath types checked, readOnly honoured, subPath), configMap/secret/downwardAPI/projected (with a real
ServiceAccount token) volumes as read-only files, emptyDir as a per-pod directory. Output is the pod log
(``kubectl logs`` with ``-f``, ``--tail``, ``--limit-bytes``, ``-c``, ``--previous``); the status is the
kubelet's (phase, containerStatuses with exit codes and Completed/Error/StartError, CrashLoopBackOff with
back-off under Always/OnFailure, the PodScheduled/Initialized/ContainersReady/Ready conditions, Events).
Deleting such a pod is graceful: Terminating, SIGTERM to all its processes, SIGKILL after the grace period,
then removed. The garbage collector deletes dependents by ownerReferences (Background; Foreground and
Orphan as the propagationPolicy says). A pod costs one short ``unshare``/``sh``/``chroot`` chain (~40 ms
CPU) and then only its own processes; one kubelet thread serves all nodes (pidfds, no polling): 50
DaemonSet pods are Ready in ~1.5 s and 200 in ~8 s on 2 cores (``bench/bench_kubelet.py``).

Limits of the kubelet: pods share this machine's network, PID and IPC namespaces and run as root (hostNetwork
in effect; podIP is a made-up address of the node's podCIDR), no cgroups, resource limits, probes (containers
are Ready once started), lifecycle hooks, ephemeral or sidecar containers, securityContext beyond
runAsUser/runAsGroup, image entrypoints (a container without command and args idles until deleted); a
process that leaves its session (setsid) escapes the kill; log lines carry no timestamps (``--timestamps``,
``--since`` are ignored); PVCs and other volume types are a FailedMount; the kubelet ignores spec changes of
a running pod; nodes are never heartbeated or evicted; only pods (no ReplicaSets, Deployments, Jobs) are
created by a controller.

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
- Deleting is immediate except for pods on simulated nodes and Foreground propagation (above): finalizers
  other than foregroundDeletion are not waited for (deleting a Namespace deletes its contents at once;
  default, kube-system and kube-public refuse).
- No controllers besides those named above (no scheduler: pods stay where nodeName puts them, no
  ReplicaSets or Deployments), no admission, no exec/attach/port-forward; seeded logs are not streamed
  (``follow`` returns what is seeded).
- Status on create is kept as sent (convenient for seeding; the real server resets it for some kinds).
"""

from __future__ import annotations

from multusctl.testing.auth import UserInfo
from multusctl.testing.server import TestCluster

__all__ = ["TestCluster", "UserInfo"]
