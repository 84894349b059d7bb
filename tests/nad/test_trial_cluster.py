"""nad test NS/NAME: the NAD read from the (in-process test) cluster, then attached for real with the plugins of
containernetworking-plugins in a throwaway namespace; and a NAD the cluster does not hold (one line, exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from multusctl.testing import TestCluster
from tests.nad.test_trial_real import BIN, MARKS, assert_nothing_left, bridge, state
from tests.nad.test_validate import nad
from tests.test_doctor import NAD_CRD

pytestmark = MARKS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multusctl", "nad", "test", *args], capture_output=True, text=True,
                          timeout=90, check=False)


def test_a_nad_from_the_cluster_is_attached_for_real(tmp_path: Path) -> None:
    with TestCluster() as c:
        c.seed([NAD_CRD, nad("blue", {"cniVersion": "1.0.0", "name": "blue", **bridge("10.77.6.0/24", "mctlbr6")},
                             "team-a"),
                nad("blue", {"cniVersion": "1.0.0", "name": "other", "type": "nonesuch"}, "default")])
        admin = str(c.admin_kubeconfig(tmp_path / "admin.kubeconfig"))
        before = state()
        proc = run("team-a/blue", "--kubeconfig", admin, "--bin-dir", BIN, "-o", "json")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        (att,) = doc["attachments"]
        assert att["nad"] == "team-a/blue" and att["ok"] and att["interface"] == "net1"
        assert [c["plugin"] for c in att["phases"]["ADD"]] == ["bridge"]
        pod_side = {i["name"] for i in att["interfaces"] if i.get("sandbox")}
        assert pod_side == {"net1"}
        assert "mctlbr6" in {i["name"] for i in att["interfaces"] if not i.get("sandbox")}
        assert [ip["address"].rsplit(".", 1)[0] for ip in att["ips"]] == ["10.77.6"]
        assert any(a.startswith("10.77.6.") for a in att["sandbox_addresses"]["net1"])
        assert_nothing_left(before, doc)
        # The text report says the same to a person.
        proc = run("team-a/blue", "--kubeconfig", admin, "--bin-dir", BIN, "--ifname", "eth3")
        assert proc.returncode == 0, proc.stderr
        assert "attachment team-a/blue as eth3" in proc.stdout and " ip 10.77.6." in proc.stdout
        shown = proc.stdout.split("(netns ", 1)[1].split(")", 1)[0]
        assert_nothing_left(before, {}, netns=(shown,), links_named=("mctlbr6",))


def test_a_nad_the_cluster_lacks_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with TestCluster() as c:
        c.seed([NAD_CRD, nad("blue", bridge("10.77.7.0/24"), "team-a")])
        admin = str(c.admin_kubeconfig(tmp_path / "admin.kubeconfig"))
        for target, ns in (("team-a/green", "team-a"), ("blue", "default")):  # wrong name; right name, wrong ns
            proc = run(target, "--kubeconfig", admin, "--bin-dir", BIN)
            assert proc.returncode == 2, proc.stderr
            assert proc.stderr == f"multusctl nad: no NetworkAttachmentDefinition {ns}/{target.split('/')[-1]} in " \
                                  "the cluster\n", proc.stderr
            assert proc.stdout == ""  # it stops before any sandbox is made: nothing to clean up
