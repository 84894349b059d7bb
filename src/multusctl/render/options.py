"""What `render` is asked for, checked once: options, the multus version, the node layout it targets."""

from __future__ import annotations

import re
from dataclasses import dataclass

from multusctl.layout.model import Layout

RENDER_DISTROS = ("auto", "k3s", "rke2", "kubeadm", "microk8s", "k0s", "openshift", "kind")
MODES = ("thin", "thick")
FORMATS = ("manifests", "helm-values")
DEFAULT_VERSION = "v4.3.0"
IMAGE_REPO = "ghcr.io/k8snetworkplumbingwg/multus-cni"
_VERSION = re.compile(r"^v4\.(\d{1,3})\.(\d{1,3})$")
# A DNS-1123 label: what the API accepts as a namespace name.
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# An image reference as the kubelet takes it: no spaces or control characters, at most a few hundred chars.
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")


class RenderError(ValueError):
    """A bad option or a layout render cannot serve: one line, exit 2."""


@dataclass(frozen=True)
class RenderOptions:
    distro: str = "auto"
    root: str = "/"
    mode: str = "thin"
    multus_version: str = DEFAULT_VERSION
    image: str | None = None
    namespace: str = "kube-system"


@dataclass(frozen=True)
class Version:
    """A multus release v4.minor.patch; the rules that differ between releases ask this."""

    minor: int
    patch: int

    @property
    def text(self) -> str:
        return f"v4.{self.minor}.{self.patch}"

    def at_least(self, minor: int, patch: int = 0) -> bool:
        return (self.minor, self.patch) >= (minor, patch)


def parse_version(text: str) -> Version:
    m = _VERSION.match(text)
    if not m:
        raise RenderError(f"--multus-version: {text!r} is not a multus v4 release (v4.x.y, e.g. {DEFAULT_VERSION})")
    return Version(int(m.group(1)), int(m.group(2)))


def validate(opts: RenderOptions) -> Version:
    """The options' version; RenderError naming the option for anything else that is wrong."""
    if opts.distro not in RENDER_DISTROS:
        raise RenderError(f"--distro: {opts.distro!r} is not one of {', '.join(RENDER_DISTROS)}")
    if opts.mode not in MODES:
        raise RenderError(f"--mode: {opts.mode!r} is not one of {', '.join(MODES)}")
    if not _NAMESPACE.match(opts.namespace):
        raise RenderError(f"--namespace: {opts.namespace!r} is not a valid namespace name (DNS-1123 label)")
    if opts.image is not None and not _IMAGE.match(opts.image):
        raise RenderError(f"--image: {opts.image!r} is not an image reference")
    return parse_version(opts.multus_version)


def image_for(opts: RenderOptions, version: Version) -> str:
    """Upstream's release images: `<tag>` for thin, `<tag>-thick` for thick (image-push-release.yml)."""
    if opts.image:
        return opts.image
    return f"{IMAGE_REPO}:{version.text}" + ("-thick" if opts.mode == "thick" else "")


@dataclass(frozen=True)
class Target:
    """The node layout a render is for, and the primary CNI config when the node shows one."""

    layout: Layout
    primary: str | None  # node path of the primary network's config file, when known


def resolve_layout(opts: RenderOptions, *, need_primary: bool = False) -> Target:
    """The Layout of `--distro` (its defaults, refined by what `--root` shows) or, for auto, detected.
    The primary config is read only when asked for (a static thin config names it; reading the conf dir
    costs a gather)."""
    from multusctl.gather.nodefs import NodeFS
    from multusctl.gather.snapshot import gather_node
    from multusctl.layout.detect import Overrides, detect_layout

    fs = NodeFS(opts.root)
    distro = None if opts.distro == "auto" else opts.distro
    layout = detect_layout(fs, Overrides(distro=distro))
    if distro is None and (not layout.node_found or layout.distro == "unknown"):
        raise RenderError(f"--distro auto: no Kubernetes distribution found under {opts.root} (point --root at a "
                          "node's files, or name it with --distro)")
    primary = None
    if need_primary and fs.is_dir(layout.conf_dir):
        primary = gather_node(fs, layout).primary_path
    return Target(layout, primary)
