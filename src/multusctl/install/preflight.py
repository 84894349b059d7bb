"""What is checked before the first change: the API answers, we may do every write, nothing is someone else's.

A refusal names everything wrong at once (one line each), so a second run does not find the next problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from multusctl.install.objects import Ref, is_ours, owner_text
from multusctl.provision.api_objects import Kind, kind_of

Obj = dict[str, Any]


class Refused(Exception):
    """Preconditions failed; nothing was changed. `problems` are one line each."""

    def __init__(self, verb: str, problems: list[str]) -> None:
        super().__init__(f"{verb}: " + "; ".join(problems) + "; nothing was changed")
        self.problems = problems


@dataclass
class Permissions:
    """SelfSubjectAccessReviews, each (verb, resource, group, namespace) asked once."""

    api: Any
    missing: list[str] = field(default_factory=list)
    _asked: set[tuple[str, str, str, str]] = field(default_factory=set)

    def need(self, kind: Kind, verbs: Iterable[str], namespace: str | None) -> None:
        ns = namespace if kind.namespaced else None
        for verb in verbs:
            key = (verb, kind.plural, kind.group, ns or "")
            if key in self._asked:
                continue
            self._asked.add(key)
            if not self.api.can_i(verb, kind.plural, kind.group, ns):
                where = f" in namespace {ns}" if ns else " (cluster-wide)"
                group = f".{kind.group}" if kind.group else ""
                self.missing.append(f"{verb} {kind.plural}{group}{where}")

    def problem(self) -> str | None:
        if not self.missing:
            return None
        return f"the credentials may not {', '.join(self.missing)} (SelfSubjectAccessReview)"


def foreign(api: Any, objects: list[Obj]) -> tuple[list[str], dict[Ref, Obj]]:
    """(one line per live object of the same name that another manager owns, the live objects by ref)."""
    problems: list[str] = []
    live: dict[Ref, Obj] = {}
    for obj in objects:
        ref = Ref.of(obj)
        got = api.get_object(ref.api_version, ref.kind, ref.name, ref.namespace)
        if got is None:
            continue
        live[ref] = got
        if not is_ours(got):
            problems.append(f"{ref} exists and is not managed by multusctl ({owner_text(got)})")
    return problems, live


def install_checks(api: Any, objects: list[Obj], force: bool) -> dict[Ref, Obj]:
    """Permissions to apply every object (apply creates or patches), and no foreign owner unless `force`.
    Returns the live objects (for the backup and the before/after comparison). Raises Refused."""
    perms = Permissions(api)
    for obj in objects:
        ref = Ref.of(obj)
        perms.need(kind_of(ref.api_version, ref.kind), ("get", "create", "patch"), ref.namespace)
    if problem := perms.problem():  # before reading: the reads need these rights too
        raise Refused("install", [problem])
    owned, live = foreign(api, objects)
    if owned and not force:
        raise Refused("install", [*owned[:-1], owned[-1] + " (--force-conflicts takes it over)"])
    return live
