"""`multusctl kubeconfig create` against hostile local files and a flaky cluster (issue 6)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from multusctl.testing import TestCluster
from tests.test_kubeconfig_create import KC, create


def target_of(root: Path) -> Path:
    return root / KC.lstrip("/")


def listing(d: Path) -> list[str]:
    return sorted(os.listdir(d))


# ---- A: symlinks at the target, its backup and its parents -------------------------------------------------


def test_symlinked_target_under_root_is_refused_and_its_target_left_alone(cluster: TestCluster, admin: Path,
                                                                         root: Path, home: Path) -> None:
    victim = root / "etc" / "passwd"
    victim.parent.mkdir(exist_ok=True)
    victim.write_text("root:x:0:0:root:/root:/bin/sh\n")
    target = target_of(root)
    target.unlink()
    target.symlink_to("/etc/passwd")
    before = listing(target.parent)
    cluster.requests.clear()

    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert f"{KC} is a symbolic link to /etc/passwd" in err
    assert victim.read_text() == "root:x:0:0:root:/root:/bin/sh\n"
    assert target.is_symlink() and listing(target.parent) == before
    assert list(cluster.requests) == []  # refused before the cluster is touched


def test_path_flag_to_a_symlink_is_refused(cluster: TestCluster, admin: Path, tmp_path: Path, home: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = tmp_path / "dir" / "multus.kubeconfig"
    link.parent.mkdir()
    link.symlink_to(victim)
    code, out, err = create(home, "--path", str(link), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 2, out + err
    assert f"{link} is a symbolic link to {victim}" in err
    assert victim.read_text() == "precious\n" and link.is_symlink()
    assert listing(link.parent) == ["multus.kubeconfig"]


def test_symlinked_multus_d_leading_out_of_the_cni_dir_is_refused(cluster: TestCluster, admin: Path, root: Path,
                                                                  home: Path) -> None:
    target = target_of(root)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(target.parent)
    target.parent.symlink_to("/elsewhere")
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 2, out + err
    assert "multus.d is a symbolic link to /elsewhere" in err and "outside" in err
    assert listing(elsewhere) == []


def test_fifo_at_the_target_is_refused_without_hanging(cluster: TestCluster, admin: Path, root: Path,
                                                       home: Path) -> None:
    target = target_of(root)
    target.unlink()
    os.mkfifo(target)
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 2, out + err
    assert "is not a regular file" in err


# ---- C, D: every local thing is checked before the cluster is touched; only multus.d is ever created -------


def test_path_with_a_missing_parent_creates_nothing_and_touches_no_cluster(cluster: TestCluster, admin: Path,
                                                                          tmp_path: Path, home: Path) -> None:
    typo = tmp_path / "typo"
    cluster.requests.clear()
    rv = cluster.store.resource_version
    code, out, err = create(home, "--path", str(typo / "x"), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert f"{typo} does not exist" in err
    assert not typo.exists()
    assert list(cluster.requests) == [] and cluster.store.resource_version == rv


def test_path_that_is_a_directory_touches_no_cluster(cluster: TestCluster, admin: Path, tmp_path: Path,
                                                     home: Path) -> None:
    cluster.requests.clear()
    code, out, err = create(home, "--path", str(tmp_path), "--kubeconfig", str(admin), "--server", cluster.url)
    assert code == 2, out + err
    assert f"{tmp_path} is a directory" in err
    assert list(cluster.requests) == []


def test_unwritable_parent_touches_no_cluster(cluster: TestCluster, admin: Path, tmp_path: Path, home: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    # root may write anywhere, so the read-only directory is simulated where the writability is asked.
    monkeypatch.setattr(os, "access", lambda p, m, **kw: False if str(p) == str(ro) else real_access(p, m, **kw))
    cluster.requests.clear()
    code, out, err = create(home, "--path", str(ro / "multus.kubeconfig"), "--kubeconfig", str(admin),
                            "--server", cluster.url)
    assert code == 2, out + err
    assert f"cannot write in {ro}" in err
    assert list(cluster.requests) == [] and listing(ro) == []


def test_missing_cni_dir_under_root_is_refused_before_the_cluster(cluster: TestCluster, admin: Path, root: Path,
                                                                  home: Path) -> None:
    conf = target_of(root).parent.parent
    shutil.rmtree(conf)
    cluster.requests.clear()
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify",
                            "--conf-dir", "/var/lib/rancher/k3s/agent/etc/cni/net.d")
    assert code == 2, out + err
    assert "/var/lib/rancher/k3s/agent/etc/cni/net.d does not exist" in err
    assert not conf.exists() and list(cluster.requests) == []


def test_only_multus_d_is_created_private_even_with_umask_000(cluster: TestCluster, admin: Path, root: Path,
                                                              tmp_path: Path, home: Path) -> None:
    mdir = target_of(root).parent
    shutil.rmtree(mdir)
    old = os.umask(0)
    try:
        code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
        deep = tmp_path / "a" / "b" / "multus.d" / "multus.kubeconfig"
        code2, out2, err2 = create(home, "--path", str(deep), "--kubeconfig", str(admin), "--server", cluster.url)
    finally:
        os.umask(old)
    assert code == 0, out + err
    assert [line for line in out.splitlines() if "Created directory" in line] == [
        f"✓ Created directory {os.path.dirname(KC)} (0700)"]
    assert mdir.stat().st_mode & 0o777 == 0o700
    assert target_of(root).stat().st_mode & 0o777 == 0o600
    # Anywhere else no directory is made, so none can be left wide open by the umask.
    assert code2 == 2 and f"{tmp_path / 'a'} does not exist" in err2, out2 + err2
    assert not (tmp_path / "a").exists()


# ---- E: a killed run leaves no readable token behind and never a short backup ------------------------------


def _age(path: Path, seconds: float = 3600) -> None:
    st = path.lstat()
    os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds), follow_symlinks=False)


def test_temp_files_of_a_killed_run_are_removed_and_said_so(cluster: TestCluster, admin: Path, root: Path,
                                                            home: Path) -> None:
    mdir = target_of(root).parent
    # What a kill -9 between mkstemp and rename leaves: a 0600 file holding the new kubeconfig.
    stale = mdir / ".multus.kubeconfig.k3x_9q2z.tmp"
    stale.write_text("users:\n- user:\n    token: live-token-of-a-killed-run\n")
    stale.chmod(0o600)
    decoys = [mdir / ".multus.kubeconfig.k3x_9q2.tmp", mdir / ".multus.kubeconfig.k3x_9q2z.tmp.keep",
              mdir / ".daemon-config.json.k3x_9q2z.tmp"]
    for d in decoys:
        d.write_text("not ours\n")
    link = mdir / ".multus.kubeconfig.linkzzzz.tmp"
    link.symlink_to(mdir / "multus.kubeconfig")
    just_killed = mdir / ".multus.kubeconfig.justnow1.tmp"  # a run killed a moment ago: no age to go by
    just_killed.write_text("token: also-live\n")
    for p in (stale, *decoys, link):
        _age(p)

    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 0, out + err
    assert not stale.exists() and not just_killed.exists()
    assert all(d.exists() for d in decoys) and link.is_symlink()
    lines = [line for line in out.splitlines() if "interrupted run" in line]
    assert lines == [f"✓ Removed 2 temporary file(s) an interrupted run left in {os.path.dirname(KC)}: "
                     ".multus.kubeconfig.justnow1.tmp, .multus.kubeconfig.k3x_9q2z.tmp"]


def test_a_concurrent_run_s_temp_file_is_safe_while_it_holds_the_lock(cluster: TestCluster, admin: Path,
                                                                      root: Path, home: Path) -> None:
    import threading

    from multusctl.provision import files

    target = target_of(root)
    inflight = target.parent / ".multus.kubeconfig.inflight.tmp"
    result: list[tuple[int, str, str]] = []
    with files.write_lock(str(target)):  # what another run holds between its mkstemp and its rename
        inflight.write_text("token: being-written\n")
        t = threading.Thread(target=lambda: result.append(
            create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")))
        t.start()
        t.join(1.0)
        assert inflight.exists(), "the other run's temp file was removed while it held the lock"
        inflight.unlink()  # the other run renames it into place and lets go
    t.join(30)
    assert result and result[0][0] == 0, result


def test_backup_is_atomic_when_the_write_fails_midway(cluster: TestCluster, admin: Path, root: Path, home: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = target_of(root)
    old = target.read_bytes()
    before = listing(target.parent)
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # the first fsync is the backup's: the disk fails (or the run dies) right there
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    code, out, err = create(home, "--root", str(root), "--kubeconfig", str(admin), "--no-verify")
    assert code == 1, out + err
    assert "Input/output error" in err and len(err.strip().splitlines()) == 1
    assert listing(target.parent) == before  # no short .bak-*, no temp file
    assert target.read_bytes() == old


# ---- B: names follow the ServiceAccount; every precondition is checked before the first change ------------

RBAC_G = "rbac.authorization.k8s.io"


def snapshot(cluster: TestCluster) -> dict:
    kinds = (("", "serviceaccounts"), ("", "secrets"), (RBAC_G, "clusterroles"), (RBAC_G, "clusterrolebindings"))
    return {r: cluster.store.list(g, r) for g, r in kinds} | {"rv": cluster.store.resource_version}


def test_other_service_account_gets_its_own_role_binding_and_secret(cluster: TestCluster, admin: Path,
                                                                    tmp_path: Path, home: Path) -> None:
    first = tmp_path / "multus.kubeconfig"
    assert create(home, "--path", str(first), "--kubeconfig", str(admin), "--server", cluster.url)[0] == 0
    code, out, err = create(home, "--path", str(tmp_path / "other.kubeconfig"), "--kubeconfig", str(admin),
                            "--server", cluster.url, "--service-account", "other")
    assert code == 0, out + err
    for line in ("ServiceAccount kube-system/other: created", "ClusterRole other: created",
                 "ClusterRoleBinding other: created", "Secret kube-system/other-token: created"):
        assert line in out
    binding = cluster.store.get(RBAC_G, "clusterrolebindings", None, "multus")
    assert binding is not None and binding["subjects"][0]["name"] == "multus"  # kube-system/multus keeps it
    other = cluster.store.get(RBAC_G, "clusterrolebindings", None, "other")
    assert other is not None and other["roleRef"]["name"] == "other" and other["subjects"][0]["name"] == "other"


def test_a_failed_precondition_changes_nothing_in_the_cluster(cluster: TestCluster, admin: Path, tmp_path: Path,
                                                              home: Path) -> None:
    assert create(home, "--path", str(tmp_path / "m.kubeconfig"), "--kubeconfig", str(admin),
                  "--server", cluster.url)[0] == 0
    cluster.seed([{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                   "metadata": {"name": "other-token", "namespace": "kube-system"}, "data": {"k": "dg=="}}])
    before = snapshot(cluster)
    code, out, err = create(home, "--path", str(tmp_path / "o.kubeconfig"), "--kubeconfig", str(admin),
                            "--server", cluster.url, "--service-account", "other")
    assert code == 1, out + err
    assert "Secret kube-system/other-token exists but is of type Opaque" in err
    assert snapshot(cluster) == before
    assert not (tmp_path / "o.kubeconfig").exists()


# ---- F: transient API failures are retried; concurrent runs all succeed ------------------------------------

SA_PATH = "/api/v1/namespaces/kube-system/serviceaccounts"


@pytest.mark.parametrize("arm", [
    pytest.param(lambda f: f.burst(500, 1, path_prefix=SA_PATH), id="one-500"),
    pytest.param(lambda f: f.burst(429, 1, retry_after=1, path_prefix=SA_PATH), id="429-retry-after"),
    pytest.param(lambda f: f.reset(1, path_prefix=SA_PATH), id="reset"),
    pytest.param(lambda f: f.burst(503, 1, path_prefix=SA_PATH, methods=("POST",)), id="503-on-create"),
])
def test_one_transient_failure_is_retried(cluster: TestCluster, admin: Path, tmp_path: Path, home: Path,
                                          arm) -> None:
    arm(cluster.faults)
    code, out, err = create(home, "--path", str(tmp_path / "m.kubeconfig"), "--kubeconfig", str(admin),
                            "--server", cluster.url)
    assert code == 0, out + err
    assert cluster.faults.fired and cluster.faults.armed == 0
    assert "ServiceAccount kube-system/multus: created" in out
    assert (tmp_path / "m.kubeconfig").exists()


def test_persistent_500_fails_in_one_line_within_the_deadline(cluster: TestCluster, admin: Path, tmp_path: Path,
                                                              home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from multusctl.provision import api

    monkeypatch.setattr(api, "RETRY_DEADLINE", 2.0)
    cluster.faults.burst(500, 10_000, path_prefix=SA_PATH)
    started = time.monotonic()
    code, out, err = create(home, "--path", str(tmp_path / "m.kubeconfig"), "--kubeconfig", str(admin),
                            "--server", cluster.url)
    elapsed = time.monotonic() - started
    assert code == 1, out + err
    assert len(err.strip().splitlines()) == 1 and "500" in err and "tries" in err
    assert elapsed < 6
    assert len(cluster.faults.fired) > 1  # it did retry
    assert not (tmp_path / "m.kubeconfig").exists()


def test_concurrent_runs_all_succeed_and_agree(cluster: TestCluster, admin: Path, tmp_path: Path) -> None:
    import threading

    import yaml

    from multusctl.provision.api import connect_admin
    from multusctl.provision.create import Options, Output, run
    from multusctl.provision.objects import Names

    raw = yaml.safe_load(admin.read_text())
    results: dict[int, tuple[int | str, list[str]]] = {}
    start = threading.Barrier(10)

    def one(i: int) -> None:
        lines: list[str] = []
        opts = Options(admin_path=str(admin), admin_source="--kubeconfig", context=None, names=Names(),
                       target=str(tmp_path / f"m{i}.kubeconfig"), shown=str, server=cluster.url)
        api = connect_admin(str(admin), raw, None, set())
        try:
            start.wait()
            results[i] = (run(opts, api, Output(lines.append), None), lines)
        except Exception as exc:
            results[i] = (f"{type(exc).__name__}: {exc}", lines)
        finally:
            api.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert {i: r[0] for i, r in results.items()} == dict.fromkeys(range(10), 0), results
    tokens = {yaml.safe_load((tmp_path / f"m{i}.kubeconfig").read_text())["users"][0]["user"]["token"]
              for i in range(10)}
    assert len(tokens) == 1  # all wrote the one Secret's token
    said = [line for _code, lines in results.values() for line in lines]
    assert sum("ServiceAccount kube-system/multus: created" in line for line in said) == 1
    assert all("Traceback" not in line for line in said)
    assert len(cluster.store.list("", "secrets", "kube-system")) >= 1
    assert [s["metadata"]["name"] for s in cluster.store.list("", "serviceaccounts", "kube-system")
            if s["metadata"]["name"] == "multus"] == ["multus"]


# ---- G: the admin connection's secrets never reach the output ----------------------------------------------


def test_admin_token_with_a_newline_is_refused_without_printing_it(cluster: TestCluster, tmp_path: Path,
                                                                   home: Path) -> None:
    import yaml

    token = cluster.create_token("kube-system", "default")
    bad = cluster.kubeconfig_for_token(tmp_path / "bad.kubeconfig", token)
    doc = yaml.safe_load(bad.read_text())
    doc["users"][0]["user"]["token"] = token + "\n"
    bad.write_text(yaml.safe_dump(doc))
    cluster.requests.clear()
    code, out, err = create(home, "--path", str(tmp_path / "m.kubeconfig"), "--kubeconfig", str(bad),
                            "--server", cluster.url)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert "the admin kubeconfig's token contains a newline or control character" in err
    for part in token.split("."):
        assert part not in out + err
    assert list(cluster.requests) == []


def test_password_in_the_admin_server_url_is_not_printed(cluster: TestCluster, tmp_path: Path, home: Path) -> None:
    pw = "hunter2-very-secret"
    url = cluster.url.replace("https://", f"https://admin:{pw}@")
    admin = cluster.admin_kubeconfig(tmp_path / "admin.kubeconfig", server=url)
    _code, out, err = create(home, "--path", str(tmp_path / "m.kubeconfig"), "--kubeconfig", str(admin),
                             "--server", cluster.url, "--dry-run")
    assert pw not in out + err and "admin:" not in out + err
    assert f"server {cluster.url.replace('https://', 'https://<redacted>@')}" in out.splitlines()[0], out + err


def test_describe_never_repeats_a_token_the_http_library_quoted() -> None:
    from multusctl.provision.api import describe

    token = "eyJhbGciOi.payload-part.signature-part"
    exc = ValueError(f"Illegal header value b'Bearer {token}\\n'")
    text = str(describe(exc, "https://127.0.0.1:6443", "the admin", {token + "\n"}))
    assert "payload-part" not in text and "signature-part" not in text
    assert "payload-part" not in str(describe(ValueError(f"Bearer {token}"), "https://x", "me", set()))
