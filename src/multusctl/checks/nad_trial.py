"""Checks over what `multusctl nad test` saw when it tried each attachment (`NadSnapshot.trials`, one
`nadtest.trial.Trial` per attachment): the gathering ran the plugins; these only judge the record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from multusctl.checks.registry import Hit, check


def _trials(snap: Any) -> list[Any]:
    return list(getattr(snap, "trials", None) or [])


def _where(t: Any, call: Any, index: int) -> str:
    return f"spec.config.plugins[{index}]" if t.is_list else "spec.config"


@check("nad-attach-failed")
def nad_attach_failed(snap: Any) -> Iterator[Hit]:
    for t in _trials(snap):
        for phase in ("ADD", "CHECK"):
            run = t.phases.get(phase)
            failed = run.failed if run is not None else None
            if failed is None or failed.timed_out:
                continue
            index = run.calls.index(failed)
            effect = ("A pod that names it stays in ContainerCreating with this error." if phase == "ADD" else
                      "Pods still start (kubelet never runs CHECK), but the plugin cannot verify its own work.")
            yield Hit(message=f"NetworkAttachmentDefinition {t.nad} as {t.ifname}: {failed.plugin} {phase} failed: "
                      f"{failed.failure()}. {effect}", severity=None if phase == "ADD" else "warning",
                      fix=f"Fix what the plugin names in spec.config of {t.nad}, then run `multusctl nad test` again",
                      path=t.nad, field=_where(t, failed, index),
                      evidence={"nad": t.nad, "plugin": failed.plugin, "command": phase,
                                "code": failed.error.code if failed.error else None,
                                "exit": failed.returncode, "stderr": failed.stderr[-2000:]})


@check("nad-plugin-timeout")
def nad_plugin_timeout(snap: Any) -> Iterator[Hit]:
    for t in _trials(snap):
        for phase, run in t.phases.items():
            for i, call in enumerate(run.calls):
                if call.timed_out:
                    yield Hit(message=f"NetworkAttachmentDefinition {t.nad} as {t.ifname}: {call.failure()} "
                              f"({phase}). The runtime waits as long, then fails the pod sandbox (`context deadline "
                              "exceeded`).",
                              fix=f"Find why {call.plugin} blocks (a DHCP server that never answers, an IPAM daemon or "
                              "API it waits for, a lock); try by hand with a longer `--timeout`",
                              path=t.nad, field=_where(t, call, i),
                              evidence={"nad": t.nad, "plugin": call.plugin, "command": phase,
                                        "timeout_s": call.facts.get("timeout")})


@check("nad-ping-failed")
def nad_ping_failed(snap: Any) -> Iterator[Hit]:
    for t in _trials(snap):
        for addr, why in t.pings:
            if why:
                yield Hit(message=f"NetworkAttachmentDefinition {t.nad} as {t.ifname}: the attachment came up, but "
                          f"{why}.",
                          fix=f"Check the routes and the master/bridge of {t.nad} and that {addr} is on that network "
                          "(with `--keep`, look inside the namespace)",
                          path=t.nad, evidence={"nad": t.nad, "address": addr})


@check("nad-cleanup-failed")
def nad_cleanup_failed(snap: Any) -> Iterator[Hit]:
    for t in _trials(snap):
        run = t.phases.get("DEL")
        add = t.phases.get("ADD")
        # After a failed ADD the DEL often fails for the same reason (the config the plugin refused): said once.
        echo = add.failed.failure() if add is not None and add.failed is not None else None
        problems = [f"{c.plugin} DEL: {c.failure()}" for c in (run.calls if run else [])
                    if not c.ok and c.failure() != echo]
        problems += list(t.cleanup_errors)
        for p in problems:
            yield Hit(message=f"NetworkAttachmentDefinition {t.nad} as {t.ifname}: {p}. The runtime would retry the "
                      "DEL; meanwhile addresses or links may stay allocated.",
                      fix="Remove what is left by hand (`ip netns`, `ip link`); a DEL must succeed even when the "
                      "interface is already gone (CNI spec)", path=t.nad, evidence={"nad": t.nad})


@check("nad-annotation-invalid")
def nad_annotation_invalid(snap: Any) -> Iterator[Hit]:
    for message in getattr(snap, "annotation_errors", None) or []:
        yield Hit(message=f"The pod annotation k8s.v1.cni.cncf.io/networks is refused: {message}. The pod stays in "
                  "ContainerCreating.",
                  fix="Write it as `[namespace/]name[@ifname]` items separated by commas, or as a JSON list of "
                  "{\"name\": ..., \"namespace\": ..., \"interface\": ...}", field="k8s.v1.cni.cncf.io/networks")
