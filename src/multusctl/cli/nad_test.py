"""`multusctl nad test`: try NADs for real in a throwaway network namespace (see nad/trial.py).

The command line is click's; what runs is cli/nad_run.py's, which cli/fast.py also calls for a well-formed
`nad test FILE` without importing click."""

from __future__ import annotations

import os

import click

from multusctl.cli.nad import common, nad_group
from multusctl.cli.nad_run import valid_ifname
from multusctl.cli.options import seconds as duration_option


@nad_group.command("test", short_help="Try a NAD for real in a throwaway network namespace (ADD, CHECK, DEL).")
@click.argument("target", required=False, metavar="NAME|FILE")
@click.option("--namespace", "-n", default=None, help="Namespace of NAME (and of the annotation's names).")
@click.option("--ifname", default="net1", show_default=True, help="Interface name in the sandbox.")
@click.option("--annotation", default=None, metavar="VALUE",
              help="A pod's k8s.v1.cni.cncf.io/networks value: try every attachment it names (net1, net2, ...).")
@click.option("--ping", "pings", multiple=True, metavar="ADDR", help="Check reachability of ADDR from inside.")
@click.option("--keep", is_flag=True, help="Leave the namespace for inspection (prints how to remove it).")
@click.option("--timeout", default="10s", show_default=True, metavar="DURATION",
              help="Deadline of each plugin call; a plugin still running then is killed and reported.")
@common
def test_cmd(target: str | None, namespace: str | None, ifname: str, annotation: str | None,
             pings: tuple[str, ...], keep: bool, timeout: str, root: str, distro: str | None,
             bin_dirs: tuple[str, ...], kubeconfig: str | None, context: str | None, output: str,
             color: bool | None, verbose: bool) -> None:
    """On this node, as root: run the NAD's plugin chain as libcni does in a throwaway network namespace (ADD,
    CHECK, then DEL in reverse order), print the result (interfaces, IPs, routes, DNS), and leave nothing behind
    (namespace, links, IPAM state: host-local uses a private dataDir), also on failure, timeout or Ctrl-C.

    Exit status: 0 the attachment works, 1 a finding says why not, 2 bad usage.
    """
    import ipaddress

    from multusctl.cli.nad_run import run_test

    if target is None and annotation is None:
        raise click.UsageError("give NAME or FILE (or --annotation VALUE with the NADs in the cluster)")
    if root != "/" and os.path.realpath(root) != "/":
        raise click.UsageError("nad test runs this node's plugins: --root must be / (use `nad validate --root`)")
    if not valid_ifname(ifname):
        raise click.BadParameter(f"{ifname!r} is not an interface name (1-15 bytes)", param_hint="--ifname")
    for addr in pings:
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise click.BadParameter(f"{addr!r} is not an IP address", param_hint="--ping") from None
    seconds = duration_option(timeout, "--timeout", low=0.05)
    run_test(target, namespace, ifname, annotation, pings, keep, seconds, root, distro, bin_dirs, kubeconfig, context,
             output, color, verbose)
