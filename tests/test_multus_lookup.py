"""Go's case-insensitive field match (the last spelling in the document wins), however it is asked: `lookup`
on any object, and `MultusConfig.get` through its index of spellings, also after keys are added."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.config import multus as multus_mod
from multusctl.config.cni import from_obj
from tests.fuzzkit import examples

FIELDS = ["kubeconfig", "clusterNetwork", "binDir", "readinessindicatorfile", "cniVersion", "type", "\u212aey"]


def _go_field(obj: dict[str, Any], key: str) -> Any:
    """What encoding/json puts in the field `key`: every case-insensitive spelling overwrites, in order."""
    found = None
    for k, v in obj.items():
        if k.lower() == key.lower():
            found = v
    return found


spelling = st.sampled_from(FIELDS).flatmap(
    lambda f: st.lists(st.booleans(), min_size=len(f), max_size=len(f)).map(
        lambda ups: "".join(c.upper() if u else c for c, u in zip(f, ups, strict=True))))


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.tuples(spelling, st.integers(0, 9)), max_size=8), st.lists(st.tuples(spelling, st.integers())))
def test_every_way_of_asking_gives_go_s_answer(pairs: list[tuple[str, int]], added: list[tuple[str, int]]) -> None:
    plugin: dict[str, Any] = {"type": "multus", **dict(pairs)}
    plugin["type"] = "multus"
    mc = multus_mod.from_cni(from_obj(plugin))
    assert mc is not None
    for key in FIELDS:
        assert multus_mod.lookup(plugin, key) == _go_field(plugin, key) == mc.get(key), key
    for k, v in added:  # a config edited after it was read: the index follows
        mc.plugin[k] = v
        for key in FIELDS:
            assert mc.get(key) == _go_field(mc.plugin, key), (key, mc.plugin)
