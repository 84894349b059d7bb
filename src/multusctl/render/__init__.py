"""`multusctl render`: the Multus objects for a distro's layout, from the PathMap the node checks use.

    from multusctl.render import RenderOptions, render_objects, render_yaml, helm_values
"""

from __future__ import annotations

from typing import Any

from multusctl.render import daemonset, helm, objects
from multusctl.render.objects import LABELS
from multusctl.render.options import RenderError, RenderOptions, image_for, resolve_layout, validate

__all__ = ["LABELS", "RenderError", "RenderOptions", "helm_values", "render_objects", "render_yaml"]


def render_objects(opts: RenderOptions) -> list[dict[str, Any]]:
    """Plain API objects in apply order: CRD, ServiceAccount, ClusterRole, binding, ConfigMap, DaemonSet."""
    version = validate(opts)
    target = resolve_layout(opts, need_primary=opts.mode == "thin" and not version.at_least(1))
    image = image_for(opts, version)
    out = [objects.nad_crd(), objects.service_account(opts.namespace), objects.cluster_role(opts.mode, version),
           objects.cluster_role_binding(opts.namespace)]
    if opts.mode == "thin":
        out += daemonset.thin(target.layout, target.primary, version, image, opts.namespace)
    else:
        out += daemonset.thick(target.layout, image, opts.namespace)
    return out


def _header(opts: RenderOptions, objs: list[dict[str, Any]]) -> str:
    from multusctl.render.options import parse_version

    version = parse_version(opts.multus_version)
    lines = [f"# Multus {opts.multus_version} {opts.mode}, rendered by multusctl for --distro {opts.distro}"
             + (f" --root {opts.root}" if opts.root != "/" else ""),
             "# Check it against a node: multusctl check --manifest FILE --root / (or --distro NAME)"]
    if opts.mode == "thin" and not version.at_least(1):
        conf = next(o for o in objs if o["kind"] == "ConfigMap")["data"][daemonset.STATIC_CONF_NAME]
        import json

        kc = json.loads(conf)["kubeconfig"]
        lines.append(f"# {opts.multus_version} uses a static config (its auto mode nests itself) and does not write "
                     f"the kubeconfig: create {kc} on every node with `multusctl kubeconfig create` "
                     "(and renew it with `multusctl kubeconfig refresh`)")
    return "\n".join(lines) + "\n"


def render_yaml(opts: RenderOptions) -> str:
    """render_objects as one YAML stream (documents separated by `---`)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        """ConfigMap files (daemon-config.json, 00-multus.conf) as `|` blocks a person can read and diff."""

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    objs = render_objects(opts)
    docs = [yaml.dump(o, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120) for o in objs]
    return _header(opts, objs) + "".join(f"---\n{d}" for d in docs)


def helm_values(opts: RenderOptions) -> dict[str, Any]:
    """Values for the rke2-multus chart with this layout's paths; RenderError where the chart cannot."""
    version = validate(opts)
    target = resolve_layout(opts)
    return helm.values(target.layout, opts.mode, version, image_for(opts, version))
