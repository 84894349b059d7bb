"""multusctl.records.dataclass behaves as the stdlib's (init, repr, eq, hash, frozen, fields/asdict/replace)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from multusctl import records


def _pair(frozen: bool) -> tuple[Any, Any]:
    def body() -> dict[str, Any]:
        return {
            "__annotations__": {"a": "str", "b": "int", "c": "list[str]", "d": "dict[str, int]", "e": "int",
                                "K": "ClassVar[int]"},
            "b": 2,
            "c": dataclasses.field(default_factory=list),
            "d": dataclasses.field(default_factory=dict, repr=False, compare=False),
            "e": dataclasses.field(default=5, init=False),
            "K": 7,
            "__module__": __name__,
        }

    std = dataclasses.dataclass(frozen=frozen)(type("Rec", (), body()))
    ours = records.dataclass(frozen=frozen)(type("Rec", (), body()))
    return std, ours


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("frozen", [False, True])
def test_records_match_the_stdlib(frozen: bool) -> None:
    std, ours = _pair(frozen)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("x",), {}), (("x", 3), {}), (("x", 3, ["l"]), {}), ((), {"a": "y", "d": {"k": 1}}),
        ((), {}), (("x", 1, [], {}, 9), {}), (("x",), {"a": "y"}), (("x",), {"e": 1}), (("x",), {"zz": 1}),
    ]
    for args, kwargs in calls:
        s, o = _outcome(std, *args, **kwargs), _outcome(ours, *args, **kwargs)
        assert s[0] == o[0], (args, kwargs, s, o)
        if s[0] != "ok":
            continue
        a, b = s[1], o[1]
        assert repr(a) == repr(b)
        assert dataclasses.asdict(a) == dataclasses.asdict(b)
        assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
        assert vars(a) == vars(b)
        assert (a == std(*args, **kwargs)) == (b == ours(*args, **kwargs))
        assert (a == dataclasses.replace(a, b=99)) == (b == dataclasses.replace(b, b=99))
        assert (a == dataclasses.replace(a, d={"other": 1})) == (b == dataclasses.replace(b, d={"other": 1}))
        assert a.__eq__(object()) is NotImplemented and b.__eq__(object()) is NotImplemented
        assert repr(dataclasses.replace(a, b=99)) == repr(dataclasses.replace(b, b=99))
        if frozen:
            assert _outcome(hash, a)[0] == _outcome(hash, b)[0]  # a list field: unhashable
            x, y = dataclasses.replace(a, c=()), dataclasses.replace(b, c=())
            assert hash(x) == hash(dataclasses.replace(x)) and hash(y) == hash(dataclasses.replace(y))
            for obj in (a, b):
                with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
                    obj.a = "z"
                with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'b'"):
                    del obj.b
        else:
            assert std.__hash__ is None and ours.__hash__ is None
            a.a = b.a = "z"
            assert repr(a) == repr(b)
    assert std.__match_args__ == ours.__match_args__
    assert std.K == ours.K == 7


def test_records_keep_methods_the_class_defines() -> None:
    @records.dataclass(frozen=True)
    class Own:
        """doc"""

        a: str

        def __repr__(self) -> str:
            return "own"

        def __hash__(self) -> int:
            return 1

    assert repr(Own("x")) == "own" and hash(Own("x")) == 1 and Own("x") == Own("x") != Own("y")


def test_records_post_init_and_recursive_repr() -> None:
    @records.dataclass
    class Node:
        """doc"""

        name: str
        children: list[Any] = dataclasses.field(default_factory=list)
        seen: ClassVar[list[str]] = []

        def __post_init__(self) -> None:
            Node.seen.append(self.name)

    n = Node("a")
    n.children.append(n)
    assert Node.seen == ["a"] and repr(n) == f"{Node.__qualname__}(name='a', children=[...])"


def test_records_refuse_what_they_do_not_do() -> None:
    @dataclasses.dataclass
    class Base:
        a: int

    with pytest.raises(TypeError, match="inheritance"):
        records.dataclass(type("Child", (Base,), {"__annotations__": {"b": "int"}}))
    with pytest.raises(TypeError, match="InitVar"):
        records.dataclass(type("V", (), {"__annotations__": {"x": dataclasses.InitVar[int]}}))


def test_an_undocumented_class_gets_the_stdlib_docstring_without_inspect() -> None:
    # The stdlib writes it through inspect.signature (~9 ms on first use); records writes the same text.
    import dataclasses

    from multusctl.records import dataclass as records_dataclass

    def make(deco: Any) -> type:
        class Plain:
            x: int
            y: list[int] = dataclasses.field(default_factory=list)
            z: str = "q"
            w: int = dataclasses.field(default=0, init=False)

        return deco(Plain)

    assert make(records_dataclass).__doc__ == make(dataclasses.dataclass).__doc__


def test_a_docstring_is_kept() -> None:
    from multusctl.records import dataclass as records_dataclass

    @records_dataclass
    class Documented:
        """Mine."""

        x: int

    assert Documented.__doc__ == "Mine."
