"""The API calls of the real v4.3.0 thick daemon (../shared/peers) against the RBAC multusctl renders, read
from the test cluster's record of every authorization decision: the daemon uses what render/rbac.py's
`needed` says thick needs and is refused nothing; given only thin's permissions (an upgrade from thin that
kept its ClusterRole) it runs, listens, and never writes its config, and `doctor` names exactly the
permissions the daemon was refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from multusctl.cli.group import cli
from multusctl.render import rbac
from multusctl.render.options import parse_version
from multusctl.testing import TestCluster
from tests import thickkit as T

pytestmark = T.PEER_MARKS
SA = "system:serviceaccount:kube-system:multus"
INFORMERS = {("", "pods"), (rbac.NAD_GROUP, rbac.NAD_RESOURCE)}


def calls(cluster: TestCluster) -> set[tuple[str, str, str]]:
    """(group, resource, verb) of every request of the daemon's ServiceAccount that RBAC allowed."""
    return {(d.group, d.resource, d.verb) for d in cluster.decisions if d.user == SA and d.allowed}


def refused(cluster: TestCluster) -> set[tuple[str, str, str]]:
    return {(d.group, d.resource, d.verb) for d in cluster.decisions if d.user == SA and not d.allowed}


@pytest.mark.parametrize(("watch_list", "verbs"), [
    (True, {"watch"}),  # v1.31's apiserver streams the initial list in the watch (WatchList)
    (False, {"list", "watch"}),  # v1.33's default: the 422 makes client-go LIST, then WATCH
], ids=["watch-list-server", "list-then-watch-server"])
def test_the_daemon_s_informers_use_what_the_rendered_role_grants(tmp_path: Path, watch_list: bool,
                                                                  verbs: set[str]) -> None:
    with TestCluster(watch_list=watch_list) as cluster:
        node = T.k3s_node(tmp_path)
        objs = T.render(node)
        T.seed(cluster, objs)
        T.install_shim(node)
        with T.running_daemon(objs, node, tmp_path, cluster, None) as d:
            T.started(d, node)
        assert refused(cluster) == set()
        assert calls(cluster) == {(g, r, v) for g, r in INFORMERS for v in verbs}
        assert calls(cluster) <= set(rbac.needed("thick", parse_version(T.VERSION)))


def test_with_thin_s_role_the_daemon_never_writes_its_config_and_doctor_names_what_it_was_refused(
        tmp_path: Path) -> None:
    thin_rules = rbac.rules("thin", parse_version(T.VERSION))
    assert not any(rbac.allows(thin_rules, ("", "pods", v)) for v in ("list", "watch"))
    with TestCluster(nodes=0) as cluster:
        node = T.k3s_node(tmp_path)
        objs = T.render(node)
        (role,) = [o for o in objs if o["kind"] == "ClusterRole"]
        role["rules"] = thin_rules
        cluster.seed([o for o in objs if o["kind"] != "Namespace"])
        T.install_shim(node)
        with T.running_daemon(objs, node, tmp_path, cluster, None) as d:
            T.wait_for(lambda: {v for _, _, v in refused(cluster)} >= {"list", "watch"}, d)
            # It keeps retrying its informers (here the second try) with its socket open: neither a crash to
            # see nor a config for the runtime.
            T.wait_for(lambda: sum(d.verb == "list" and d.resource == "pods" and not d.allowed
                                   for d in cluster.decisions) >= 2, d)
            assert (node / "run/multus/multus.sock").exists() and T.multus_conf(node) is None, d.output
            assert ('failed to list *v1.Pod: pods is forbidden: User \\"system:serviceaccount:kube-system:multus\\" '
                    'cannot list resource \\"pods\\"') in d.output, d.output
            # On the node, only the open socket and the missing config show; the check names this cause too.
            (missing,) = [f for f in T.check(node)["findings"] if f["id"] == "multus-config-missing"]
            assert "refused list/watch of pods" in missing["message"], missing
        daemon_refused = refused(cluster)
        assert daemon_refused == {(g, r, v) for g, r in INFORMERS for v in ("list", "watch")}

        admin = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig")
        (tmp_path / "noroot").mkdir()
        res = CliRunner().invoke(cli, ["doctor", "--root", str(tmp_path / "noroot"), "--kubeconfig", str(admin),
                                       "-o", "json"], catch_exceptions=False)
        found = [f for f in json.loads(res.stdout)["findings"] if f["id"] == "rbac-missing"]
        named = {(f["evidence"]["group"], f["evidence"]["resource"], f["evidence"]["verb"]) for f in found
                 if f["evidence"]["identity"] == SA}
        assert named == daemon_refused, found

