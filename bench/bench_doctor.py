#!/usr/bin/env python3
"""Budgets of `multusctl doctor` (issue 9, DESIGN.md): a healthy run < 1 s wall including start-up, and a
black-holed API named as api-connect-timeout within the timeout + 0.5 s; each as a ratio to
`kubectl get --raw /readyz` timed in the same run against the same test cluster (and, for the black hole,
to kubectl with the same --request-timeout).

    python bench/bench_doctor.py [--runs 7] [--timeout 1]

The black hole needs root, ip and iptables (it is an iptables DROP inside a network namespace made here)
and is left out, saying why, without them. Exits non-zero only when doctor is broken (wrong exit status or
the wrong finding), never because of the timings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from multusctl.testing import TestCluster  # noqa: E402
from multusctl.testing.faults import NetnsBlackhole  # noqa: E402

ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "multus"},
        "rules": [{"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
                  {"apiGroups": [""], "resources": ["pods", "pods/status"],
                   "verbs": ["get", "list", "update", "watch"]},
                  {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch", "update"]}]}
BINDING = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "multus"},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multus"},
           "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": "kube-system"}]}
SA = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus", "namespace": "kube-system"}}


def timed(cmd: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    walls = []
    proc = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        walls.append(time.perf_counter() - start)
    assert proc is not None
    return statistics.median(walls), proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=1.0, help="doctor --timeout for the black hole (seconds)")
    args = ap.parse_args()
    kubectl = shutil.which("kubectl")
    doctor = [sys.executable, "-m", "multusctl", "doctor", "--no-color", "-o", "json"]
    broken = False
    with tempfile.TemporaryDirectory() as tmp, TestCluster() as cluster:
        cluster.seed([SA, ROLE, BINDING])
        token = cluster.create_token("kube-system", "multus")
        kc = cluster.kubeconfig_for_token(Path(tmp) / "multus.kubeconfig", token)
        root = Path(tmp) / "root"
        root.mkdir()
        healthy, proc = timed([*doctor, "--root", str(root), "--multus-kubeconfig", str(kc)], args.runs)
        doc = json.loads(proc.stdout)
        chain_ok = all(s["status"] == "ok" for s in doc["steps"] if s["name"] in ("dns", "tcp", "tls", "auth", "rbac"))
        if not chain_ok:
            print("BROKEN: doctor did not pass the healthy chain:", proc.stdout[-500:], file=sys.stderr)
            broken = True
        ref = None
        if kubectl:
            ref, kproc = timed([kubectl, "--kubeconfig", str(kc), "get", "--raw", "/readyz"], args.runs)
            if kproc.returncode != 0:
                print("kubectl readyz failed:", kproc.stderr[-300:], file=sys.stderr)
        print(f"healthy:    doctor {healthy * 1000:6.0f} ms (budget 1000 ms)"
              + (f"   kubectl get --raw /readyz {ref * 1000:6.0f} ms   ratio {healthy / ref:.2f}x" if ref else ""))

        reason = NetnsBlackhole.unavailable_reason()
        if reason:
            print(f"black hole: left out ({reason})")
            return 1 if broken else 0
        with NetnsBlackhole() as address:
            bh = cluster.kubeconfig_for_token(Path(tmp) / "bh.kubeconfig", "x", server=f"https://{address}:6443")
            runs = max(3, args.runs // 2)
            wall, proc = timed([*doctor, "--root", str(root), "--multus-kubeconfig", str(bh),
                                "--timeout", f"{args.timeout}s"], runs)
            found = [f["id"] for f in json.loads(proc.stdout)["findings"]] if proc.stdout else []
            if found != ["api-connect-timeout"]:
                print("BROKEN: the black hole was not named api-connect-timeout:", found, file=sys.stderr)
                broken = True
            kref = None
            if kubectl:
                kref, _ = timed([kubectl, "--kubeconfig", str(bh), f"--request-timeout={args.timeout}s", "get",
                                 "--raw", "/readyz"], runs)
            budget = args.timeout + 0.5
            print(f"black hole: doctor {wall * 1000:6.0f} ms (budget {budget * 1000:.0f} ms = timeout + 500 ms)"
                  + (f"   kubectl --request-timeout={args.timeout:g}s {kref * 1000:6.0f} ms   ratio {wall / kref:.2f}x"
                     if kref else "")
                  + (f"   vs healthy kubectl {wall / ref:.1f}x" if ref else ""))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
