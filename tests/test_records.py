"""multusctl.records.dataclass behaves as the stdlib's (init, repr, eq, hash, frozen, fields/asdict/replace)."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from multusctl import records


def _pair(frozen: bool) -> tuple[Any, Any]:
    def body(lib: Any) -> dict[str, Any]:
        return {
            "__annotations__": {"a": "str", "b": "int", "c": "list[str]", "d": "dict[str, int]", "e": "int",
                                "K": "ClassVar[int]"},
            "b": 2,
            "c": lib.field(default_factory=list),
            "d": lib.field(default_factory=dict, repr=False, compare=False),
            "e": lib.field(default=5, init=False),
            "K": 7,
            "__module__": __name__,
        }

    std = dataclasses.dataclass(frozen=frozen)(type("Rec", (), body(dataclasses)))
    ours = records.dataclass(frozen=frozen)(type("Rec", (), body(records)))
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
        assert dataclasses.asdict(a) == records.asdict(b)
        assert [f.name for f in dataclasses.fields(a)] == [f.name for f in records.fields(b)]
        assert vars(a) == vars(b)
        assert (a == std(*args, **kwargs)) == (b == ours(*args, **kwargs))
        assert (a == dataclasses.replace(a, b=99)) == (b == records.replace(b, b=99))
        assert (a == dataclasses.replace(a, d={"other": 1})) == (b == records.replace(b, d={"other": 1}))
        assert _outcome(dataclasses.replace, a, e=1)[0] == _outcome(records.replace, b, e=1)[0] == "ValueError"
        assert a.__eq__(object()) is NotImplemented and b.__eq__(object()) is NotImplemented
        assert repr(dataclasses.replace(a, b=99)) == repr(records.replace(b, b=99))
        if frozen:
            assert _outcome(hash, a)[0] == _outcome(hash, b)[0]  # a list field: unhashable
            x, y = dataclasses.replace(a, c=()), records.replace(b, c=())
            assert hash(x) == hash(dataclasses.replace(x)) and hash(y) == hash(records.replace(y))
            for obj, error in ((a, dataclasses.FrozenInstanceError), (b, records.FrozenInstanceError)):
                with pytest.raises(error, match="cannot assign to field 'a'"):
                    obj.a = "z"
                with pytest.raises(error, match="cannot delete field 'b'"):
                    del obj.b
                with pytest.raises(AttributeError):  # both are AttributeErrors, as code may catch them
                    obj.a = "z"
        else:
            assert std.__hash__ is None and ours.__hash__ is None
            a.a = b.a = "z"
            assert repr(a) == repr(b)
    assert std.__match_args__ == ours.__match_args__
    assert std.K == ours.K == 7
    assert vars(std).get("c", "absent") == vars(ours).get("c", "absent")  # a factory field leaves no attribute
    assert std.e == ours.e == 5 and std.b == ours.b == 2


def _declare(lib: Any, annotations: dict[str, Any], **body: Any) -> tuple[str, Any]:
    return _outcome(lib.dataclass, type("D", (), {"__annotations__": annotations, "__module__": __name__, **body}))


@pytest.mark.parametrize("annotations, body", [
    ({"a": "int", "b": "int"}, {"a": 1}),  # no default after a default
    ({"a": "list[int]"}, {"a": []}),  # a mutable default
    ({"a": "dict[str, int]"}, {"a": {}}),
    ({"a": "set[int]"}, {"a": set()}),
    ({"a": "int", "b": "int"}, {"a": 1, "b": "field(init=False)"}),  # an init=False field may lack one
    ({"a": "ClassVar[list[int]]"}, {"a": []}),  # a ClassVar is no field: any value
    ({"a": ClassVar[int], "b": "int"}, {"a": 1}),
    ({"a": "typing.ClassVar[int]", "b": "int"}, {"a": 1}),
    ({"a": "tuple[int, ...]"}, {"a": ()}),
    ({"a": "int"}, {"a": "field(default=1, default_factory=int)"}),
])
def test_declarations_are_accepted_and_refused_as_the_stdlib_does(annotations: dict[str, Any],
                                                                  body: dict[str, Any]) -> None:
    def concrete(lib: Any) -> dict[str, Any]:
        out = {}
        for k, v in body.items():
            if v == "field(init=False)":
                v = lib.field(init=False)
            elif v == "field(default=1, default_factory=int)":
                return {"error": lambda: lib.field(default=1, default_factory=int)}
            out[k] = v
        return out

    std_body, our_body = concrete(dataclasses), concrete(records)
    if "error" in std_body:
        assert _outcome(std_body["error"])[0] == _outcome(our_body["error"])[0] == "ValueError"
        return
    std, ours = _declare(dataclasses, annotations, **std_body), _declare(records, annotations, **our_body)
    assert std[0] == ours[0], (std, ours)
    if std[0] == "ok":
        assert [f.name for f in dataclasses.fields(std[1])] == [f.name for f in records.fields(ours[1])]


def _nested(lib: Any) -> tuple[Any, Any]:
    @lib.dataclass
    class Inner:
        x: list[int]

    @lib.dataclass
    class Outer:
        inner: Inner
        items: list[Inner]
        by: dict[str, Inner]
        pair: tuple[int, Inner]

    return Inner, Outer


def test_asdict_recurses_and_copies_as_the_stdlib() -> None:
    (SInner, SOuter), (RInner, ROuter) = _nested(dataclasses), _nested(records)
    s = SOuter(SInner([1]), [SInner([2])], {"k": SInner([3])}, (4, SInner([5])))
    r = ROuter(RInner([1]), [RInner([2])], {"k": RInner([3])}, (4, RInner([5])))
    assert dataclasses.asdict(s) == records.asdict(r)
    d = records.asdict(r)
    d["inner"]["x"].append(9)
    assert r.inner.x == [1]  # a copy, not the record's own list
    for fn in (records.asdict, records.replace, records.fields):
        with pytest.raises(TypeError):
            fn(object())
    assert not hasattr(r, "__dataclass_fields__")  # not a stdlib dataclass: the stdlib's functions refuse it


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
        children: list[Any] = records.field(default_factory=list)
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

    @records.dataclass
    class RBase:
        """doc"""

        a: int

    for base in (Base, RBase):
        with pytest.raises(TypeError, match="inheritance"):
            records.dataclass(type("Child", (base,), {"__annotations__": {"b": "int"}}))
    with pytest.raises(TypeError, match=r"use multusctl\.records\.field"):  # not taken for a default value
        records.dataclass(type("F", (), {"__annotations__": {"x": "list[int]"},
                                         "x": dataclasses.field(default_factory=list)}))
    with pytest.raises(TypeError, match="InitVar"):
        records.dataclass(type("V", (), {"__annotations__": {"x": dataclasses.InitVar[int]}}))


def test_an_undocumented_class_gets_the_stdlib_docstring_without_inspect() -> None:
    # The stdlib writes it through inspect.signature (~9 ms on first use); records writes the same text.
    import dataclasses

    from multusctl.records import dataclass as records_dataclass

    def make(deco: Any, lib: Any) -> type:
        class Plain:
            x: int
            y: list[int] = lib.field(default_factory=list)
            z: str = "q"
            w: int = lib.field(default=0, init=False)

        return deco(Plain)

    assert make(records_dataclass, records).__doc__ == make(dataclasses.dataclass, dataclasses).__doc__


def test_a_docstring_is_kept() -> None:
    from multusctl.records import dataclass as records_dataclass

    @records_dataclass
    class Documented:
        """Mine."""

        x: int

    assert Documented.__doc__ == "Mine."
