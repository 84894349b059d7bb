"""Where things live on a node: distro layouts, detection, host<->pod path mapping."""
