"""Impersonation (`kubectl --as/--as-group`, Impersonate-* headers) is checked by RBAC and honoured."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from multusctl.testing import TestCluster

from .conftest import DATA, Http, Kubectl

MULTUS = "system:serviceaccount:kube-system:multus"
RBAC = "rbac.authorization.k8s.io/v1"


def multus_sa(cluster: TestCluster) -> str:
    cluster.seed([{"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "multus", "namespace": "kube-system"}}])
    return cluster.create_token("kube-system", "multus")


def allow_impersonating(cluster: TestCluster, rules: list[dict]) -> None:
    cluster.seed([
        {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "impersonator"}, "rules": rules},
        {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": "impersonator"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonator"},
         "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": "kube-system"}]},
    ])


@pytest.mark.kubectl
def test_as_anonymous_is_forbidden(kubectl: Kubectl, cluster: TestCluster) -> None:
    cluster.seed([{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "default"},
                   "data": {"k": "dg=="}}])
    assert "creds" in kubectl.run("get", "secrets").stdout
    proc = kubectl.run("--as", "system:anonymous", "get", "secrets", check=False)
    assert proc.returncode == 1 and "Error from server (Forbidden)" in proc.stderr, proc
    assert "creds" not in proc.stdout


@pytest.mark.kubectl
def test_can_i_answers_for_the_impersonated_service_account(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", str(DATA / "multus-daemonset-thick.yml"))

    def can_i(*args: str) -> str:
        proc = kubectl.run("auth", "can-i", *args, check=False)
        assert proc.returncode == (0 if proc.stdout.strip() == "yes" else 1), proc
        return proc.stdout.strip()

    assert can_i("get", "secrets", "-n", "kube-system") == "yes"  # admin
    assert can_i("get", "secrets", "-n", "kube-system", "--as", MULTUS) == "no"
    assert can_i("list", "pods", "-A", "--as", MULTUS) == "yes"  # the multus ClusterRole, not admin's
    assert can_i("list", "pods", "--as", "jane") == "no"
    # A group given with --as-group counts: system:masters makes jane an admin.
    assert can_i("get", "secrets", "--as", "jane", "--as-group", "system:masters") == "yes"


@pytest.mark.kubectl
def test_whoami_shows_the_impersonated_user(kubectl_default: Kubectl) -> None:
    def whoami(*args: str) -> dict:
        return json.loads(kubectl_default.run("auth", "whoami", "-o", "json", *args).stdout)["status"]["userInfo"]

    assert whoami("--as", "jane", "--as-group", "devs") == {"username": "jane",
                                                              "groups": ["devs", "system:authenticated"]}
    assert whoami("--as", MULTUS)["groups"] == ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                                "system:authenticated"]
    # Explicit groups replace a ServiceAccount's own ones, as upstream.
    assert whoami("--as", MULTUS, "--as-group", "devs")["groups"] == ["devs", "system:authenticated"]
    # Not a valid ServiceAccount name (upper case): impersonated as a plain user.
    assert whoami("--as", "system:serviceaccount:kube-system:Multus")["groups"] == ["system:authenticated"]


@pytest.mark.kubectl
def test_impersonation_needs_rbac(kubectl_default: Kubectl, cluster: TestCluster, tmp_path: Path) -> None:
    kc = cluster.kubeconfig_for_token(tmp_path / "sa.kubeconfig", multus_sa(cluster))

    def run(*args: str) -> tuple[int, str]:
        proc = kubectl_default.run(*args, kubeconfig=kc, check=False)
        return proc.returncode, proc.stderr.strip()

    # Discovery is impersonated too, so a cold cache only gets "Error from server (Forbidden): unknown", as
    # against a real cluster; a request without --as fills the cache and the real message shows.
    cold = run("--as", "jane", "get", "pods")
    assert cold[0] == 1 and cold[1].endswith("\nError from server (Forbidden): unknown")
    assert run("get", "pods")[1].startswith("Error from server (Forbidden): pods is forbidden")
    assert run("--as", "jane", "get", "pods") == (1, (
        f'Error from server (Forbidden): users "jane" is forbidden: User "{MULTUS}" cannot impersonate resource '
        '"users" in API group "" at the cluster scope'))
    assert run("--as", "system:serviceaccount:default:default", "get", "pods") == (1, (
        f'Error from server (Forbidden): serviceaccounts "default" is forbidden: User "{MULTUS}" cannot '
        'impersonate resource "serviceaccounts" in API group "" in the namespace "default"'))

    allow_impersonating(cluster, [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"],
                                   "resourceNames": ["jane"]}])
    # Now the request runs as jane, who may not list pods herself.
    assert run("--as", "jane", "get", "pods") == (1, (
        'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group '
        '"" in the namespace "default"'))
    assert run("--as", "bob", "get", "pods")[1].startswith('Error from server (Forbidden): users "bob" is forbidden')
    assert run("--as", "jane", "--as-group", "system:masters", "get", "pods") == (1, (
        f'Error from server (Forbidden): groups "system:masters" is forbidden: User "{MULTUS}" cannot '
        'impersonate resource "groups" in API group "" at the cluster scope'))


def test_extras_and_uid_need_their_own_permission(cluster: TestCluster, http: Http) -> None:
    token = multus_sa(cluster)
    sa = Http(cluster.url, ssl.create_default_context(cadata=cluster.ca_pem.decode()), token)
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    path = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    asks = {"Impersonate-User": "jane", "Impersonate-Extra-Scopes": "openid", "Impersonate-Uid": "1234"}
    allow_impersonating(cluster, [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}])
    code, body = sa.request("POST", path, review, headers=asks)
    assert code == 403 and body["message"] == (
        f'userextras.authentication.k8s.io "openid" is forbidden: User "{MULTUS}" cannot impersonate resource '
        '"userextras/scopes" in API group "authentication.k8s.io" at the cluster scope')
    assert body["details"] == {"name": "openid", "group": "authentication.k8s.io", "kind": "userextras"}
    allow_impersonating(cluster, [{"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]},
                                  {"apiGroups": ["authentication.k8s.io"], "resources": ["userextras/scopes"],
                                   "verbs": ["impersonate"]}])
    code, body = sa.request("POST", path, review, headers=asks)
    assert code == 403 and body["message"].startswith('uids.authentication.k8s.io "1234" is forbidden: ')

    # system:masters may impersonate anything, extras and uid included.
    code, body = http.request("POST", path, review, headers={**asks, "Impersonate-Extra-Acme.com%2fTeam": "net"})
    assert code == 201 and body["status"]["userInfo"] == {
        "username": "jane", "uid": "1234", "groups": ["system:authenticated"],
        "extra": {"scopes": ["openid"], "acme.com/team": ["net"]}}
    assert ("POST", path, "jane") in cluster.requests


def test_groups_without_a_user_are_a_server_error(http: Http) -> None:
    code, body = http.request("GET", "/api/v1/namespaces", headers={"Impersonate-Group": "devs"})
    assert code == 500
    assert body == ('Internal Server Error: "/api/v1/namespaces": requested [{Group  devs    }] without '
                    "impersonating a user\n")
