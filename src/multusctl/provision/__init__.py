"""Provisioning: the ServiceAccount, RBAC and token Multus needs, and the kubeconfig that carries them.

Pure builders (`objects`, `kubeconfig_text`, `duration`) make the objects and text; `files` does the
atomic, backed-up writes; `api` is the only module that talks to the cluster (lightkube, imported
lazily so `multusctl check` never pays for it); `create` and `inspect` string the steps together.
"""
