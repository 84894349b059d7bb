"""`multusctl install` and `status` against a real TestCluster (and the real kubectl for what was applied)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from multusctl.testing import TestCluster
from tests.installkit import IMAGE, NS, TOKEN, FakeRender, pod, run, snapshot
from tests.kubectlkit import KUBECTL


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRender:
    return FakeRender(monkeypatch)


def install(home: Path, kc: str, *args: str) -> tuple[int, str, str]:
    mode = () if "--mode" in args else ("--mode", "thick")  # thick: all six kinds, the ConfigMap included
    code, out, err = run(home, "install", "--kubeconfig", kc, *mode, *args)
    assert TOKEN not in out + err
    return code, out, err


def test_install_twice_second_changes_nothing(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    code, out, err = install(home, kc)
    assert code == 0, err
    assert out.splitlines() == [
        "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io created",
        "ServiceAccount kube-system/multus created", "ClusterRole multus created", "ClusterRoleBinding multus created",
        "ConfigMap kube-system/multus-daemon-config created", "DaemonSet kube-system/kube-multus-ds created"]
    ds = cluster.store.get("apps", "daemonsets", NS, "kube-multus-ds")
    assert ds is not None and [m["manager"] for m in ds["metadata"]["managedFields"]] == ["multusctl"]
    before = snapshot(cluster)
    code, out, err = install(home, kc)
    assert code == 0, err
    assert len(out.splitlines()) == 6 and all(line.endswith(" unchanged") for line in out.splitlines())
    assert snapshot(cluster) == before
    assert not (home / "state").exists()  # nothing replaced, so no backup directory
    assert fake.calls[0].namespace == "kube-system" and fake.calls[0].mode == "thick"


def test_render_options_pass_through(kc: str, home: Path, fake: FakeRender) -> None:
    code, _, err = install(home, kc, "--distro", "k3s", "--root", str(home), "--mode", "thick",
                           "--multus-version", "v4.1.0", "--image", "example.org/multus:v4.1.0-thick",
                           "--namespace", "kube-system", "--dry-run")
    assert code == 0, err
    opts = fake.calls[0]
    assert (opts.distro, opts.root, opts.mode, opts.multus_version, opts.image) == (
        "k3s", str(home), "thick", "v4.1.0", "example.org/multus:v4.1.0-thick")


def test_dry_run_changes_nothing(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    before = snapshot(cluster)
    code, out, err = install(home, kc, "--dry-run")
    assert code == 0, err
    assert all(line.endswith(" would be created (server dry run)") for line in out.splitlines())
    assert snapshot(cluster) == before
    assert install(home, kc)[0] == 0
    before = snapshot(cluster)
    code, out, err = install(home, kc, "--dry-run", "--image", "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.1-thick")
    assert code == 0, err
    assert "DaemonSet kube-system/kube-multus-ds would be configured (server dry run)" in out
    assert (f"    spec.template.spec.containers[0].image: '{IMAGE}' -> "
            "'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.1-thick'") in out
    assert "ConfigMap kube-system/multus-daemon-config unchanged (server dry run)" in out
    assert snapshot(cluster) == before and not (home / "state").exists()


def test_a_change_is_backed_up_first(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    assert install(home, kc)[0] == 0
    code, out, err = install(home, kc, "--image", "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.1-thick")
    assert code == 0, err
    assert "DaemonSet kube-system/kube-multus-ds configured" in out
    line = next(x for x in out.splitlines() if x.startswith("backup of the 1 replaced object(s): "))
    backup_dir = Path(line.split(": ", 1)[1])
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    (saved,) = list(backup_dir.iterdir())
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    old = yaml.safe_load(saved.read_text())
    assert old["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE


def test_foreign_object_refused_before_any_change(cluster: TestCluster, kc: str, home: Path,
                                                  fake: FakeRender) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "multus-daemon-config", "namespace": NS,
        "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update"}]}, "data": {"x": "y"}}])
    before = snapshot(cluster)
    code, out, err = install(home, kc)
    assert code == 1 and out == ""
    assert err.strip() == ("multusctl: install: ConfigMap kube-system/multus-daemon-config exists and is not managed "
                           "by multusctl (field managers kubectl-client-side-apply, no managed-by label) "
                           "(--force-conflicts takes it over); nothing was changed")
    assert snapshot(cluster) == before


def test_field_conflict_names_the_other_manager(cluster: TestCluster, kc: str, home: Path, fake: FakeRender,
                                                tmp_path: Path) -> None:
    assert install(home, kc)[0] == 0
    # Another tool server-side applies the same field with another value: it now co-owns the ConfigMap.
    cm = fake.objects[4]
    other = json.loads(json.dumps(cm))
    other["data"]["daemon-config.json"] = "{}"
    from multusctl.testing.patch import server_side_apply

    live = cluster.store.get("", "configmaps", NS, "multus-daemon-config")
    merged = server_side_apply(live, other, "helm", True, "v1")
    cluster.store.update("", "configmaps", merged)
    code, out, err = install(home, kc)
    assert code == 1
    assert err.strip() == ("multusctl: install: ConfigMap kube-system/multus-daemon-config: 1 field(s) are owned by "
                           "helm (.data.daemon-config.json); nothing more was applied (--force-conflicts takes "
                           "them over)")
    code, out, err = install(home, kc, "--force-conflicts")
    assert code == 0, err
    assert "ConfigMap kube-system/multus-daemon-config configured" in out


def test_missing_permissions_refused(cluster: TestCluster, home: Path, fake: FakeRender, tmp_path: Path) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "viewer", "namespace": NS}}])
    token = cluster.create_token(NS, "viewer")
    weak = str(cluster.kubeconfig_for_token(tmp_path / "weak.kubeconfig", token))
    before = snapshot(cluster)
    code, out, err = run(home, "install", "--kubeconfig", weak)
    assert code == 1 and token not in out + err
    assert err.startswith("multusctl: install: the credentials may not get customresourcedefinitions."
                          "apiextensions.k8s.io (cluster-wide), create customresourcedefinitions")
    assert "patch daemonsets.apps in namespace kube-system" in err and err.count("\n") == 1
    assert snapshot(cluster) == before


def test_unreachable_api_is_one_line(home: Path, fake: FakeRender, tmp_path: Path) -> None:
    with TestCluster() as gone:
        path = str(gone.kubeconfig_for_token(tmp_path / "gone.kubeconfig", TOKEN))
    code, _, err = run(home, "install", "--kubeconfig", path)
    assert code == 1 and err.count("\n") == 1 and "connection refused" in err and TOKEN not in err


def test_render_missing_is_one_line(kc: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "multusctl.render", None)
    code, _, err = run(home, "install", "--kubeconfig", kc)
    assert code == 2 and err.count("\n") == 1 and "multusctl.render is missing" in err


def test_install_wait_rolls_out(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    from tests.installkit import FakeKubelet

    FakeKubelet(cluster, "kube-multus-ds", ["node-a", "node-b"])
    code, out, err = install(home, kc, "--wait", "--timeout", "20s")
    assert code == 0, err
    assert out.splitlines()[-1] == "DaemonSet kube-multus-ds rolled out: 2/2 updated, 2/2 ready"


def test_install_wait_times_out_with_a_clear_message(cluster: TestCluster, kc: str, home: Path,
                                                     fake: FakeRender) -> None:
    code, out, err = install(home, kc, "--wait", "--timeout", "2s")
    assert code == 1 and "DaemonSet kube-system/kube-multus-ds created" in out
    assert err.strip() == ("multusctl: install: DaemonSet kube-system/kube-multus-ds did not roll out within 2 s: "
                           "0/2 updated, 0/2 ready")


def test_install_wait_interrupted(cluster: TestCluster, kc: str, home: Path, fake: FakeRender,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from multusctl.install import rollout

    def interrupted(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(rollout, "wait_rollout", interrupted)
    code, _, err = install(home, kc, "--wait")
    assert code == 130
    assert err.strip() == ("multusctl: install: interrupted while waiting for DaemonSet kube-multus-ds to roll out; "
                           "the objects are applied, `multusctl status --wait` waits again")


def test_wait_progress_by_watch(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    """wait_rollout sees each state change through its watch (pods arriving one by one)."""
    import threading
    import time

    import yaml as _yaml

    from multusctl.install.rollout import wait_rollout
    from multusctl.provision.api import connect_admin

    assert install(home, kc)[0] == 0
    api = connect_admin(kc, _yaml.safe_load(Path(kc).read_text()), None, set())
    seen: list[str] = []

    def kubelet() -> None:
        for n in ("node-a", "node-b"):
            time.sleep(0.3)
            cluster.seed([pod(cluster, "kube-multus-ds", n)])

    threading.Thread(target=kubelet, daemon=True).start()
    try:
        done = wait_rollout(api, NS, "kube-multus-ds", 20, lambda p: seen.append(p.line()))
    finally:
        api.close()
    assert done.done and seen == ["0/2 updated, 0/2 ready", "1/2 updated, 1/2 ready", "2/2 updated, 2/2 ready"]
    watches = [p for m, p, _ in cluster.requests if "watch=true" in p]
    assert watches and all("fieldSelector=metadata.name%3Dkube-multus-ds" in p for p in watches)


OOM = {"name": "kube-multus", "ready": False, "restartCount": 4,
       "state": {"waiting": {"reason": "CrashLoopBackOff",
                             "message": "back-off 1m20s restarting failed container=kube-multus"}},
       "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                    "message": "memory limit 50Mi exceeded"}}}
CRASH = {"name": "kube-multus", "ready": False, "restartCount": 2,
         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
         "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}


def test_status_healthy_and_unhealthy(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    code, _, err = run(home, "status", "--kubeconfig", kc)
    assert code == 1 and "Multus is not installed by multusctl here" in _
    assert install(home, kc)[0] == 0
    cluster.seed([pod(cluster, "kube-multus-ds", "node-a"), pod(cluster, "kube-multus-ds", "node-b")])
    cluster.seed([{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                   "metadata": {"name": "macvlan", "namespace": "default"}, "spec": {"config": "{}"}}])
    code, out, err = run(home, "status", "--kubeconfig", kc)
    assert code == 0, out + err
    assert out.splitlines()[:3] == [
        "DaemonSet kube-system/kube-multus-ds: desired 2, ready 2, updated 2, available 2",
        f"Multus v4.3.0 (thick), image {IMAGE}", "1 NetworkAttachmentDefinition(s)"]
    assert out.splitlines()[-1] == "all ready"
    cluster.seed([pod(cluster, "kube-multus-ds", "node-a", ready=False, container=OOM),
                  pod(cluster, "kube-multus-ds", "node-b", ready=False, container=CRASH)])
    code, out, err = run(home, "status", "--kubeconfig", kc, "-o", "json")
    assert code == 1
    doc = json.loads(out)
    assert (doc["desired"], doc["ready"], doc["ready_all"], doc["nads"], doc["version"]) == (2, 0, False, 1, "v4.3.0")
    a, b = doc["pods"]
    assert (a["node"], a["state"], a["restarts"]) == ("node-a", "OOMKilled", 4)
    assert a["message"] == ("last terminated: OOMKilled (exit code 137): memory limit 50Mi exceeded; "
                            "back-off 1m20s restarting failed container=kube-multus")
    assert (b["node"], b["state"]) == ("node-b", "CrashLoopBackOff")
    assert b["message"].startswith("last terminated: Error (exit code 1)")
    code, out, _ = run(home, "status", "--kubeconfig", kc)
    assert code == 1 and "  node-a: kube-multus-ds-node-a OOMKilled, 4 restart(s) - last terminated: OOMKilled" in out
    assert TOKEN not in out


def test_status_wait_times_out_then_reports(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    assert install(home, kc)[0] == 0
    code, out, err = run(home, "status", "--kubeconfig", kc, "--wait", "--timeout", "1s")
    assert code == 1 and "did not roll out within 1 s: 0/2 updated, 0/2 ready" in err
    assert out.splitlines()[-1] == "NOT ready"


def test_image_version() -> None:
    from multusctl.install.status import image_version

    assert image_version("ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0-thick") == ("v4.3.0", "thick")
    assert image_version("localhost:5000/multus-cni:v4.0.2@sha256:abc") == ("v4.0.2", "thin")
    assert image_version("localhost:5000/multus-cni@sha256:abc") == (None, None)
    assert image_version("multus:snapshot") == ("snapshot", "thin")


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed")
def test_kubectl_reads_what_install_applied(cluster: TestCluster, kc: str, home: Path, fake: FakeRender) -> None:
    assert install(home, kc)[0] == 0
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", kc, "--request-timeout=10s", "get", "ds", "-n", NS, "-o",
                           "yaml", "--show-managed-fields"], capture_output=True, text=True, env=env, timeout=30,
                          check=True)
    doc = yaml.safe_load(proc.stdout)
    (ds,) = doc["items"]
    assert ds["metadata"]["name"] == "kube-multus-ds"
    assert [(m["manager"], m["operation"]) for m in ds["metadata"]["managedFields"]] == [("multusctl", "Apply")]
    assert ds["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "multusctl"
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", kc, "--request-timeout=10s", "apply", "--server-side",
                           "--dry-run=server", "--field-manager=multusctl", "-f", "-"],
                          input=yaml.safe_dump_all(fake.objects), capture_output=True, text=True, env=env,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("serverside-applied (server dry run)") == 6
