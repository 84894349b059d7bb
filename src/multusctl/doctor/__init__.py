"""`multusctl doctor`: the live chain from where Multus runs, link by link.

gather (I/O, never judges)                      analyze (pure)                 report
--------------------------------------------    ---------------------------    --------------------
endpoint: kubeconfig -> Endpoint                checks/cluster_*.py:           the report formats,
wire:     DNS, TCP, TLS, HTTP with deadlines    @check("<id>") over the        plus the steps with
chain:    the multus identity's chain -> Probe  ClusterProbe                   their durations
admin:    cluster-wide reads -> Probe

A broken link stops its chain (later steps are `skipped` with the reason); the admin reads run beside it.
"""
