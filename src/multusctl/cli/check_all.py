"""`multusctl check --all-nodes`: the node checks on every selected node, through Kubernetes (multusctl.fleet)."""

from __future__ import annotations

import sys
from typing import Any

import click

from multusctl.cli.admin import admin_api, fail
from multusctl.cli.fast import FLEET_DEFAULTS as D
from multusctl.interrupt import exit_status, sigterm_as_interrupt

MODES = ("auto", "pods", "daemonset")


def run_all_nodes(*, admin_kubeconfig: str | None, context: str | None, namespace: str, selector: str | None,
                  image: str | None, concurrency: int, timeout: float, qps: float, mode: str, root: str,
                  output: str, color: bool | None) -> None:
    from multusctl.fleet import aggregate, engine, podspec
    from multusctl.fleet.selector import SelectorError, match_expressions
    from multusctl.provision.api import ApiFailure
    from multusctl.report.formats import render

    if selector:
        try:
            match_expressions(selector)
        except SelectorError as exc:
            raise click.BadParameter(str(exc), param_hint="'-l' / '--selector'") from None
    opts = engine.Options(selector=selector, namespace=namespace, image=image or podspec.DEFAULT_IMAGE,
                          concurrency=concurrency, timeout=timeout, qps=qps, burst=max(1, int(qps * 2)), mode=mode)
    tty = sys.stderr.isatty()

    def say(line: str) -> None:
        if tty:
            click.echo(f"  {line}", err=True)

    secrets: set[str] = set()
    sigterm_as_interrupt()  # the run removes what it made either way
    try:
        with admin_api("check --all-nodes", root, None, admin_kubeconfig, context, secrets) as api:
            try:
                result = engine.run(api, opts, say)
            except engine.FleetError as exc:
                fail(2, f"check --all-nodes: {exc}", secrets)
            except ApiFailure as exc:
                fail(2, f"check --all-nodes: {exc}", secrets)
    except KeyboardInterrupt as exc:  # before the run made anything (connecting, listing nodes)
        click.echo("multusctl: check --all-nodes: interrupted before any check pod was made", err=True)
        sys.exit(exit_status(exc))
    if output == "json":
        import json

        text = json.dumps(aggregate.document(result), indent=2) + "\n"
    elif output == "text":
        text = aggregate.render_text(result, sys.stdout.isatty() if color is None else color)
    elif output == "junit":
        text = aggregate.render_junit(result, secrets)
    else:
        text = render(aggregate.merged_report(result), output, secrets=secrets)
    sys.stdout.write(text)
    if result.leftover:
        click.echo(f"multusctl: check --all-nodes: {result.leftover}", err=True)
    if result.interrupted:
        click.echo("multusctl: check --all-nodes: interrupted; the run's objects were removed", err=True)
        sys.exit(result.exit_status)
    sys.exit(aggregate.exit_code(result))


def options(fn: Any) -> Any:
    for opt in reversed([
        click.option("--all-nodes", is_flag=True,
                     help="Run the node checks on every node (a short-lived pod each) and aggregate; needs an admin "
                          "kubeconfig."),
        click.option("--kubeconfig", "admin_kubeconfig", default=None, metavar="FILE",
                     help="--all-nodes: admin kubeconfig (default: $KUBECONFIG, the node's, ~/.kube/config)."),
        click.option("--context", default=None, help="--all-nodes: context of the admin kubeconfig."),
        click.option("--namespace", default=D["namespace"], show_default=True,
                     help="--all-nodes: where the check pods run (must allow hostPath: PodSecurity privileged)."),
        click.option("--selector", "-l", default=None, metavar="SELECTOR", help="--all-nodes: only these nodes."),
        click.option("--image", default=None, metavar="REF",
                     help="--all-nodes: a Python 3.11+ image the nodes can pull [default: python:3.12-alpine]."),
        click.option("--concurrency", default=D["concurrency"], show_default=True, type=click.IntRange(1, 500),
                     help="--all-nodes: check pods alive at once (pod mode)."),
        click.option("--timeout", "timeout_text", default=D["timeout_text"], show_default=True, metavar="DURATION",
                     help="--all-nodes: per node, from its pod's creation to its report."),
        click.option("--qps", default=D["qps"], show_default=True, type=click.FloatRange(0.1, 1000),
                     help="--all-nodes: API requests per second (client-side limit; burst twice that)."),
        click.option("--mode", default=D["mode"], show_default=True, type=click.Choice(MODES),
                     help="--all-nodes: a pod per node, one DaemonSet, or auto (DaemonSet above 300 ready nodes)."),
    ]):
        fn = opt(fn)
    return fn
