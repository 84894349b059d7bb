"""Cost of the test kubelet: N simulated nodes sharing one root, a DaemonSet of a trivial pod on each.

    PYTHONPATH=src python3 bench/bench_kubelet.py 50 200

Reports, per N: the wall time until every daemon pod ran its command and is Running and Ready, the wall
time of deleting the DaemonSet until every pod is gone, and this process's peak RSS
(the pods' processes are short-lived `sh -c 'echo; sleep'` children and not included)."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from multusctl.testing import TestCluster


def run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "etc").mkdir()
        (root / "etc" / "os-release").write_text("ID=bench\n")
        with TestCluster(nodes=n, node_root=root) as cluster:
            ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "bench", "namespace": "default"},
                  "spec": {"selector": {"matchLabels": {"app": "bench"}}, "template": {
                      "metadata": {"labels": {"app": "bench"}},
                      "spec": {"terminationGracePeriodSeconds": 5, "containers": [{
                          "name": "c", "image": "busybox", "command": ["/bin/sh", "-c", "cat /host/etc/os-release; "
                                                                       "exec sleep 1000"],
                          "volumeMounts": [{"name": "etc", "mountPath": "/host/etc", "readOnly": True}]}],
                               "volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]}}}}
            t0 = time.monotonic()
            cluster.seed([ds])
            while True:
                st = (cluster.store.get("apps", "daemonsets", "default", "bench") or {}).get("status") or {}
                if st.get("numberReady") == n:
                    break
                time.sleep(0.05)
            ready = time.monotonic() - t0
            t1 = time.monotonic()
            cluster.deleter.delete("apps", "daemonsets", "default", "bench")
            while cluster.store.peek_list("", "pods", "default"):
                time.sleep(0.05)
            gone = time.monotonic() - t1
    return {"ready_s": ready, "deleted_s": gone,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["50", "200"]:
        r = run(int(arg))
        print(f"{arg:>4} pods: all Ready in {r['ready_s']:.2f} s, all deleted in {r['deleted_s']:.2f} s, "
              f"peak RSS of the cluster process {r['peak_rss_mb']:.0f} MB", flush=True)
