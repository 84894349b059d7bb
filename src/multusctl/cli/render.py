"""`multusctl render`: the Multus objects (or rke2-multus chart values) for a distro's paths."""

from __future__ import annotations

import sys

import click

from multusctl.render.options import DEFAULT_VERSION, FORMATS, MODES, RENDER_DISTROS


@click.command("render", short_help="Multus manifests for this distro (thin or thick).")
@click.option("--distro", default="auto", show_default=True, metavar="|".join(RENDER_DISTROS),
              help="The distribution whose paths to use; auto: detected from --root.")
@click.option("--root", default="/", show_default=True, metavar="DIR",
              help="Read the node's layout from DIR (a copy of a node's files).")
@click.option("--mode", default="thin", show_default=True, metavar="|".join(MODES), help="Thin or thick plugin.")
@click.option("--multus-version", default=DEFAULT_VERSION, show_default=True, metavar="v4.x.y",
              help="The multus release (its RBAC, flags and mounts differ).")
@click.option("--image", default=None, metavar="REF",
              help="Container image (default: upstream's ghcr.io release image, -thick for thick).")
@click.option("--namespace", default="kube-system", show_default=True, metavar="NS", help="Namespace of the objects.")
@click.option("--format", "fmt", default="manifests", show_default=True, metavar="|".join(FORMATS),
              help="manifests: one YAML stream; helm-values: values for the rke2-multus chart.")
def render_cmd(distro: str, root: str, mode: str, multus_version: str, image: str | None, namespace: str,
               fmt: str) -> None:
    """Print the Multus objects for this node's distribution, with paths from the same host <-> pod model
    that `multusctl check` uses: NAD CRD, ServiceAccount, least-privilege ClusterRole and binding,
    ConfigMap, DaemonSet. Apply with `kubectl apply -f -`; check with `multusctl check --manifest -`.

    Exit status: 0 printed, 2 bad usage (one line).
    """
    from multusctl.render import RenderError, RenderOptions, helm_values, render_yaml

    # Values are judged by RenderOptions, not click.Choice, so every bad value is the same one line.
    try:
        if fmt not in FORMATS:
            raise RenderError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
        import os

        if not os.path.isdir(root):
            raise RenderError(f"--root: {root} is not a directory")
        opts = RenderOptions(distro=distro, root=root, mode=mode, multus_version=multus_version, image=image,
                             namespace=namespace)
        if fmt == "manifests":
            text = render_yaml(opts)
        else:
            import yaml

            text = "# values for the rke2-multus chart (rancher/rke2-charts), rendered by multusctl\n" + yaml.safe_dump(
                helm_values(opts), sort_keys=False)
    except RenderError as exc:
        sys.stderr.write(f"multusctl render: {exc}\n")
        sys.exit(2)
    sys.stdout.write(text)
