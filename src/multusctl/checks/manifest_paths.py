"""Manifest checks on paths: the DaemonSet's hostPaths against the layout, the kubeconfig host path, a thin
entrypoint that nests its own config, thick daemon-config paths that no mount provides."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from multusctl.checks.manifest_model import MultusDaemonSet, multus_daemonsets
from multusctl.checks.registry import Hit, check
from multusctl.gather.manifests import ManifestSnapshot
from multusctl.render.volumes import CONF_POD, k3s_data_dir

SHIM_SOCKET_DIR = "/run/multus"  # the shim's daemonSocketDir default, a host path (FACTS.md §8)
DEFAULT_BIN_DIR = "/opt/cni/bin"
# daemon-config.json keys the daemon reads in its pod (pkg/server/types.go, pkg/server/config), and the
# value the daemon assumes when a key is absent (None: no default path). binDir is judged apart: a host
# path for v4.0.x (looked up after chroot), the same path on both sides since v4.1.0.
THICK_POD_KEYS: dict[str, str | None] = {
    "cniConfigDir": CONF_POD, "multusAutoconfigDir": None, "socketDir": None, "chrootDir": None,
    "logFile": None, "readinessindicatorfile": None, "cniDir": None,
}


def _n(p: str) -> str:
    return posixpath.normpath(p)


def _where(ds: MultusDaemonSet, path: str) -> str:
    return ds.obj.where(path)


def _host_dir_hit(ds: MultusDaemonSet, snap: ManifestSnapshot, what: str, pod: str, flag: str,
                  want: list[str], seen: set[tuple[bool, str]], c_init: bool = False) -> Iterator[Hit]:
    if (c_init, _n(pod)) in seen:  # the conf and autoconfig dirs are usually one mount: one finding
        return
    seen.add((c_init, _n(pod)))
    c = ds.init[0] if c_init and ds.init else ds.main
    host = c.paths.to_host(pod)
    if host is not None and _n(host) in {_n(w) for w in want}:
        return
    layout = snap.layout
    shown = "no hostPath volume" if host is None else f"hostPath {host}"
    yield Hit(
        message=(f"{what} {pod} ({flag}) is {shown} in the pod, but {layout.distro} reads {what}s from "
                 f"{' or '.join(want)}: Multus writes and reads where the runtime never looks (pods get only the "
                 "primary network, or no multus binary is found)"),
        fix=f"mount the host dir {want[0]} at {pod} (hostPath.path: {want[0]}), or run "
            f"`multusctl render --distro {layout.distro}`",
        path=ds.obj.source, field=_where(ds, ds.volume_field(pod, c)),
        evidence={"pod_path": pod, "host_path": host, "layout": want, "distro": layout.distro})


@check("manifest-hostpath-mismatch")
def hostpath_mismatch(snap: ManifestSnapshot) -> Iterator[Hit]:
    conf = [snap.layout.conf_dir]
    bins = list(snap.layout.bin_dirs) or [DEFAULT_BIN_DIR]
    for ds in multus_daemonsets(snap):
        seen: set[tuple[bool, str]] = set()
        if ds.mode == "thin":
            yield from _host_dir_hit(ds, snap, "CNI conf dir", ds.flag("cni-conf-dir"), "--cni-conf-dir", conf, seen)
            if ds.static_conf_path is None:
                yield from _host_dir_hit(ds, snap, "CNI conf dir", ds.flag("multus-autoconfig-dir"),
                                         "--multus-autoconfig-dir", conf, seen)
            yield from _host_dir_hit(ds, snap, "CNI bin dir", ds.flag("cni-bin-dir"), "--cni-bin-dir", bins, seen)
            continue
        dc = ds.daemon_config() or {}
        for key in ("cniConfigDir", "multusAutoconfigDir"):
            v = dc.get(key, CONF_POD)
            if isinstance(v, str):
                yield from _host_dir_hit(ds, snap, "CNI conf dir", v, f"daemon-config.json {key}", conf, seen)
        for init in ds.init:
            argv = init.argv
            if argv and posixpath.basename(argv[0]) == "install_multus":
                dest = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-d", "--dest-dir")),
                            "/host/opt/cni/bin")
                yield from _host_dir_hit(ds, snap, "CNI bin dir", dest, "install_multus -d", bins, seen,
                                         c_init=True)


@check("manifest-kubeconfig-host-path")
def kubeconfig_host_path(snap: ManifestSnapshot) -> Iterator[Hit]:
    want = snap.layout.multus_kubeconfig
    for ds in multus_daemonsets(snap):
        if ds.mode != "thin":
            continue
        static = ds.static_conf_path
        if static is not None:
            conf = ds.json_file(static)
            kc = conf.get("kubeconfig") if conf else None
            cm = (ds.file_text(static) or ("?", None))[0]
            if isinstance(kc, str) and _n(kc) != _n(want):
                yield Hit(message=f"the static thin config {static} names kubeconfig {kc}, but on "
                                  f"{snap.layout.distro} the multus kubeconfig lives at {want} (MC#564)",
                          fix=f'set "kubeconfig": "{want}" in the ConfigMap, and create the file with '
                              "`multusctl kubeconfig create`",
                          path=ds.obj.source, field=f"ConfigMap {cm}: {posixpath.basename(static)} kubeconfig",
                          evidence={"value": kc, "layout": want})
            continue
        kc = ds.flag("multus-kubeconfig-file-host")
        written = ds.main.paths.to_host(posixpath.join(ds.flag("cni-conf-dir"), "multus.d/multus.kubeconfig"))
        field = _where(ds, ds.main.field(".args"))
        if _n(kc) != _n(want):
            yield Hit(message=f"--multus-kubeconfig-file-host is {kc}: the thin config will name that host path, "
                              f"but on {snap.layout.distro} the kubeconfig is written to {want} (MC#564: "
                              "`failed to get context for the kubeconfig ... no such file`)",
                      fix=f"--multus-kubeconfig-file-host={want}", path=ds.obj.source, field=field,
                      evidence={"value": kc, "layout": want, "written_to": written})
        elif written is not None and _n(written) != _n(kc):
            yield Hit(message=f"the entrypoint writes the kubeconfig to {written} on the host (through its "
                              f"--cni-conf-dir mount), but the config names {kc}",
                      fix=f"mount {snap.layout.conf_dir} at {ds.flag('cni-conf-dir')}", path=ds.obj.source,
                      field=field, evidence={"value": kc, "written_to": written})


@check("manifest-thin-self-nesting")
def thin_self_nesting(snap: ManifestSnapshot) -> Iterator[Hit]:
    for ds in multus_daemonsets(snap):
        if ds.mode != "thin" or ds.static_conf_path is not None or ds.version is None or ds.version.at_least(1):
            continue
        auto = ds.main.paths.to_host(ds.flag("multus-autoconfig-dir"))
        out = ds.main.paths.to_host(ds.flag("cni-conf-dir"))
        if auto is None or out is None or _n(auto) != _n(out):
            continue
        loop = ds.flags.get("cleanup-config-on-exit") == "true"
        yield Hit(
            message=(f"the {ds.version.text} thin entrypoint generates its config from the first file of "
                     f"{auto}, its own 00-multus.conf(list) included (--multus-master-cni-file-name is ignored "
                     "before v4.1.0): " + ("with --cleanup-config-on-exit=true it nests itself every loop "
                                           "(hundreds of levels in seconds)" if loop else
                                           "every restart of the pod adds a level") + " (FACTS.md §7 #20)"),
            fix=("use multus v4.1.0 or later, or a static config (--multus-conf-file=<file>, primary named by "
                 f"path in clusterNetwork): `multusctl render --multus-version {ds.version.text}` writes one"),
            path=ds.obj.source, field=_where(ds, ds.main.field(".args")),
            evidence={"version": ds.version.text, "autoconfig_dir": auto, "watch_loop": loop})


def _thick_hit(ds: MultusDaemonSet, key: str, msg: str, fix: str, sev: str | None = None,
               **ev: object) -> Hit:
    return Hit(message=msg, fix=fix, path=ds.obj.source, field=_where(ds, f"daemon-config.json {key}"),
               evidence={"key": key, **ev}, severity=sev)  # type: ignore[arg-type]


@check("manifest-thick-path-unmounted")
def thick_path_unmounted(snap: ManifestSnapshot) -> Iterator[Hit]:
    for ds in multus_daemonsets(snap):
        if ds.mode != "thick":
            continue
        pm = ds.main.paths
        if ds.file_text(ds.daemon_config_path) is None and pm.to_host(ds.daemon_config_path) is None:
            yield _thick_hit(ds, "-config", f"no volume puts {ds.daemon_config_path} in the daemon's pod: the "
                             "daemon cannot read its daemon-config.json and exits",
                             "mount the multus-daemon-config ConfigMap at " + posixpath.dirname(ds.daemon_config_path))
            continue
        dc = ds.daemon_config() or {}
        for key, default in THICK_POD_KEYS.items():
            v = dc.get(key, default)
            if not isinstance(v, str) or not v.startswith("/") or pm.to_host(v) is not None:
                continue
            yield _thick_hit(ds, key, f"{key} {v} is read inside the daemon's pod, and no volume mounts it there",
                             f"mount the host path at {v}, or set {key} to a path under a mount",
                             "warning" if key == "logFile" else None, value=v)
        sock = dc.get("socketDir")
        want_sock = dc.get("daemonSocketDir", SHIM_SOCKET_DIR)
        if isinstance(sock, str) and isinstance(want_sock, str) and pm.to_host(sock) not in (None, _n(want_sock)):
            yield _thick_hit(ds, "socketDir", f"the daemon listens in {sock}, which is {pm.to_host(sock)} on the host, "
                             f"but the shim dials {want_sock}/multus.sock on the host (MC#1165)",
                             f"mount host /run at /host/run and set socketDir /host{want_sock}/", value=sock)
        chroot = dc.get("chrootDir")
        if isinstance(chroot, str) and pm.to_host(chroot) not in (None, "/"):
            yield _thick_hit(ds, "chrootDir", f"chrootDir {chroot} is host {pm.to_host(chroot)}, not the host's /: "
                             "delegates run in the wrong root", f"mount hostPath / at {chroot}", value=chroot)
        if ds.version is not None and not ds.version.at_least(1):
            continue  # v4.0.x looks plugins up after chroot: binDir is a host path
        bin_dir = dc.get("binDir", DEFAULT_BIN_DIR)
        dirs = [bin_dir] if isinstance(bin_dir, str) else []
        data = k3s_data_dir(snap.layout)
        if data:
            dirs.append(data)  # CNI_PATH names data/cni, whose entries link into ../<hash>/bin
        for d in dirs:
            if pm.to_host(d) == _n(d):
                continue
            yield _thick_hit(ds, "binDir", f"{d} is not mounted at the same path in the daemon's pod: since v4.1.0 "
                             "the daemon looks plugins up in its pod and execs them chrooted on the host (PR #1161), "
                             "so the path must be the same on both sides" + (
                                 f"; on k3s the bin dir's entries are symlinks into {data}, so all of it must be "
                                 "visible" if d == data else ""),
                             f"add a hostPath volume {d} mounted at {d}", value=d,
                             version=ds.version.text if ds.version else "newest (tag not a release)")
