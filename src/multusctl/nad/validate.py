"""`multusctl nad validate`: the NAD snapshot for these NADs and this node, then every static NAD check."""

from __future__ import annotations

from typing import Any

from multusctl import __version__
from multusctl.gather.nads import NadSnapshot, gather, parse_cidrs
from multusctl.records import dataclass, field
from multusctl.report.finding import Report, Target

# The ids `nad validate` runs (nad-crd-missing needs the API's discovery: doctor's; the trial ids: nad test's).
STATIC_IDS = ("nad-config-invalid", "nad-plugin-missing", "nad-ipam-overlap", "nad-master-missing")


@dataclass
class Options:
    root: str = "/"
    distro: str | None = None
    bin_dirs: tuple[str, ...] = ()
    cluster_cidrs: list[str] = field(default_factory=list)
    service_cidrs: list[str] = field(default_factory=list)


def snapshot(nads: list[dict[str, Any]], sources: list[str], opts: Options) -> NadSnapshot:
    """Raises ValueError for a CIDR flag that is not one."""
    from multusctl.cli.run import detect_layout_from

    _fs, layout = detect_layout_from(opts.root, opts.distro, None, None, opts.bin_dirs)
    cluster = parse_cidrs(opts.cluster_cidrs, "--cluster-cidr") if opts.cluster_cidrs else \
        parse_cidrs([layout.cluster_cidr], f"detected on the {layout.distro} node") if layout.cluster_cidr else []
    service = parse_cidrs(opts.service_cidrs, "--service-cidr") if opts.service_cidrs else \
        parse_cidrs([layout.service_cidr], f"detected on the {layout.distro} node") if layout.service_cidr else []
    # wait=False: the plugins' VERSION processes run while report() imports the checks (the catalog parse)
    return gather(nads, sources, root=opts.root, bin_dirs=list(layout.bin_dirs), cluster_cidrs=cluster,
                  service_cidrs=service, wait=False)


def report(snap: NadSnapshot, ids: tuple[str, ...] = STATIC_IDS) -> Report:
    from multusctl.checks import nad_checks
    from multusctl.checks.registry import run_checks

    checks = [c for c in nad_checks() if c.id in ids]
    snap.settle()  # every VERSION answer is in before a check runs
    ran = run_checks(snap, "nad", only=[c.id for c in checks])
    return Report(target=Target(kind="nad", root=snap.root), findings=ran.findings, checks_run=ran.ran,
                  tool_version=__version__, crashed=ran.crashed, checks={c.id: c.entry for c in checks})
