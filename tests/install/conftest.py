"""The cluster the install/status/uninstall tests share: two Nodes and a static admin token whose secret must
never show in any output (tests/installkit.py TOKEN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multusctl.testing import TestCluster, UserInfo
from tests.installkit import TOKEN, node


@pytest.fixture
def cluster() -> Iterator[TestCluster]:
    """The test cluster with two Nodes and a static admin token (its secret must never show in any output)."""
    users = {TOKEN: UserInfo(username="admin", groups=["system:masters", "system:authenticated"])}
    with TestCluster(static_tokens=users) as c:
        c.seed([node("node-a"), node("node-b")])
        yield c


@pytest.fixture
def kc(cluster: TestCluster, tmp_path: Path) -> str:
    return str(cluster.kubeconfig_for_token(tmp_path / "admin.kubeconfig", TOKEN))
