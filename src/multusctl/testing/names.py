"""Object name validation on create, worded as ``k8s.io/apimachinery/pkg/util/validation``.

Which rule a kind gets follows the real registry strategies: Namespaces are DNS-1123 labels,
Services DNS-1035 labels (``ValidateServiceName``), RBAC objects path segments
(``ValidateRBACName``: ``system:basic-user`` is a fine ClusterRole name), everything else,
custom resources included, a DNS-1123 subdomain. ``generateName`` is checked as a prefix (a
trailing ``-`` is allowed), as ``ValidateObjectMeta`` does.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

__all__ = ["dns1035_label", "dns1123_label", "dns1123_subdomain", "generate_name", "name_causes", "path_segment"]

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
              "start and end with an alphanumeric character")
_SUBDOMAIN_FMT = _LABEL_FMT + "(\\." + _LABEL_FMT + ")*"
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                  "'.', and must start and end with an alphanumeric character")
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character")
_LABEL_RE = re.compile(f"^{_LABEL_FMT}$")
_SUBDOMAIN_RE = re.compile(f"^{_SUBDOMAIN_FMT}$")
_DNS1035_RE = re.compile(f"^{_DNS1035_FMT}$")


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # validation.RegexError
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(length: int) -> str:
    return f"must be no more than {length} characters"


def dns1123_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _LABEL_RE.match(value):
        if _SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_LABEL_MSG, _LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1035_RE.match(value):
        errs.append(_regex_error(_DNS1035_MSG, _DNS1035_FMT, "my-name", "abc-123"))
    return errs


def path_segment(value: str) -> list[str]:
    # path.IsValidPathSegmentName
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


_BY_RESOURCE: dict[tuple[str, str], Callable[[str], list[str]]] = {
    ("", "namespaces"): dns1123_label,
    ("", "services"): dns1035_label,
    **{("rbac.authorization.k8s.io", r): path_segment
       for r in ("roles", "rolebindings", "clusterroles", "clusterrolebindings")},
}


def _as_prefix(rule: Callable[[str], list[str]], value: str) -> list[str]:
    if rule is path_segment:  # IsValidPathSegmentPrefix: '.' is a fine start of a name
        return [f"may not contain '{c}'" for c in ("/", "%") if c in value]
    # maskTrailingDash: a generateName may end in '-', the random suffix follows it.
    if len(value) > 1 and value.endswith("-"):
        value = value[:-1] + "a"
    return rule(value)


def generate_name(prefix: str) -> str:
    """``names.SimpleNameGenerator``: the prefix plus five characters of utilrand's alphabet."""
    return prefix + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def name_causes(group: str, plural: str, meta: dict) -> list[tuple[str, str]]:
    """``(field, message)`` causes for the name and generateName of an object being created."""
    rule = _BY_RESOURCE.get((group, plural), dns1123_subdomain)
    causes: list[tuple[str, str]] = []
    generate = meta.get("generateName")
    if isinstance(generate, str) and generate:
        causes += [("metadata.generateName", f"Invalid value: {_go_quote(generate)}: {m}")
                   for m in _as_prefix(rule, generate)]
    name = meta.get("name")
    if isinstance(name, str) and name:
        causes += [("metadata.name", f"Invalid value: {_go_quote(name)}: {m}") for m in rule(name)]
    return causes


def _go_quote(text: str) -> str:
    # Go's %q for the printable names clients send.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
