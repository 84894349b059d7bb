"""`multusctl install | status | uninstall` as a library over a rendered object list.

The objects come from `multusctl.render.render_objects` (plain API dicts in apply order, CRD first, each
labelled app.kubernetes.io/managed-by=multusctl); this package only talks to the cluster, through
`provision.api.Api`:

- `apply.apply`: server-side apply with field manager multusctl, preflight first, backups of what changes;
- `rollout.wait_rollout`: a bounded, watch-driven wait for a DaemonSet;
- `status.status`: DaemonSet counts, per-node pod state, NAD count, the Multus version;
- `uninstall.uninstall`: removes only our objects, in reverse order, then cleans the nodes (`cleanup`).
"""
