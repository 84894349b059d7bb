"""Object names are validated on create with the real 422 Invalid Status (kubectl and HTTP)."""

from __future__ import annotations

import pytest

from multusctl.testing import TestCluster

from .conftest import Http, Kubectl

SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
             "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
           "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
           "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")


@pytest.mark.kubectl
def test_kubectl_create_with_bad_names(kubectl: Kubectl, cluster: TestCluster) -> None:
    bad = kubectl.run("create", "serviceaccount", "Bad_Name", check=False)
    assert bad.returncode == 1
    assert (f'ServiceAccount "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {SUBDOMAIN}'
            in bad.stderr), bad.stderr
    assert cluster.store.get("", "serviceaccounts", "default", "Bad_Name") is None

    ns = kubectl.run("create", "namespace", "team.a", check=False)
    assert ns.returncode == 1
    assert ('The Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": must not contain dots'
            in ns.stderr), ns.stderr
    # From a file: kubectl 1.33 sends `create service` as protobuf, which this server does not decode.
    svc = kubectl.run("create", "-f", "-", check=False, stdin="apiVersion: v1\nkind: Service\nmetadata:\n"
                      "  name: 1st\nspec:\n  ports: [{port: 80}]\n")
    assert f'Service "1st" is invalid: metadata.name: Invalid value: "1st": {DNS1035}' in svc.stderr, svc.stderr

    # What the real server accepts stays accepted: dots in most names, colons in RBAC names.
    assert kubectl.run("create", "configmap", "multus.conf").returncode == 0
    role = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:multus\n"
            "rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]\n")
    assert kubectl.run("create", "-f", "-", stdin=role).returncode == 0


@pytest.mark.kubectl
def test_kubectl_apply_refuses_a_bad_name(kubectl_default: Kubectl, cluster: TestCluster) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Multus_Conf\n  namespace: kube-system\n"
    for extra in ((), ("--server-side",)):
        proc = kubectl_default.run("apply", *extra, "-f", "-", stdin=manifest, check=False)
        assert proc.returncode == 1
        assert ('The ConfigMap "Multus_Conf" is invalid: metadata.name: Invalid value: "Multus_Conf": '
                in proc.stderr), (extra, proc.stderr)
    assert cluster.store.get("", "configmaps", "kube-system", "Multus_Conf") is None


def test_invalid_status_body(http: Http) -> None:
    code, body = http.request("POST", "/apis/apps/v1/namespaces/kube-system/daemonsets",
                              {"metadata": {"name": "Kube-Multus"}, "spec": {}})
    assert code == 422
    cause = f'Invalid value: "Kube-Multus": {SUBDOMAIN}'
    assert body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'DaemonSet.apps "Kube-Multus" is invalid: metadata.name: {cause}',
        "reason": "Invalid",
        "details": {"name": "Kube-Multus", "group": "apps", "kind": "DaemonSet",
                    "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": "metadata.name"}]},
        "code": 422,
    }
    code, body = http.request("POST", "/api/v1/namespaces", {"metadata": {"name": "x" * 64}})
    assert code == 422 and "group" not in body["details"]  # core group: omitted, as omitempty does
    assert body["message"].startswith(f'Namespace "{"x" * 64}" is invalid: metadata.name: Invalid value: ')
    assert body["message"].endswith(": must be no more than 63 characters")


def test_generate_name_is_validated_as_a_prefix(http: Http) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    code, body = http.request("POST", path, {"metadata": {"generateName": "multus-"}})
    assert code == 201 and body["metadata"]["name"].startswith("multus-") and len(body["metadata"]["name"]) == 12
    code, body = http.request("POST", path, {"metadata": {"generateName": "Multus-"}})
    assert code == 422
    assert [c["field"] for c in body["details"]["causes"]] == ["metadata.generateName", "metadata.name"]
    assert body["details"]["causes"][0]["message"] == f'Invalid value: "Multus-": {SUBDOMAIN}'
