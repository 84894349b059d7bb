"""`@dataclass` for the start-up path: the stdlib's fields, without its code generation.

`dataclasses.dataclass` compiles every method it writes with `exec` (`__init__`, `__repr__`, `__eq__`, and
for a frozen class `__hash__`, `__setattr__`, `__delattr__`): ~0.2 ms a method, 0.5-1 ms a class, ~30 ms
over the classes `multusctl check` loads, about as much as the check itself does. Here the stdlib still
processes the fields (so `dataclasses.fields`, `asdict`, `replace` and `FrozenInstanceError` work as on any
dataclass) but writes no method; the methods are closures over the field list with the stdlib's
semantics: `__init__` (positional or keyword, defaults, `default_factory`, `init=False` fields,
`__post_init__`), `__repr__` of the `repr` fields, `__eq__` on the tuple of the `compare` fields of the same
class, `__hash__` (frozen: of those fields; otherwise None), frozen assignment refused. A method the class
defines itself is kept, as the stdlib keeps it. `field` is the stdlib's.

Not supported (TypeError at decoration, so nothing silently differs): InitVar pseudo-fields, inheriting
from a dataclass, and the stdlib's other options (order, slots, kw_only, ...): use `dataclasses` there.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, field
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

__all__ = ["dataclass", "field"]


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """`@dataclass` / `@dataclass(frozen=True)`, as the stdlib's (module docstring)."""

    def wrap(c: type[T]) -> type[T]:
        return _process(c, frozen)

    return wrap if cls is None else wrap(cls)


def _set(cls: type, name: str, fn: Any) -> None:
    # As the stdlib's _set_new_attribute: a method the class body defines wins.
    if name not in cls.__dict__:
        if callable(fn):
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)


def _process(cls: type[T], frozen: bool) -> type[T]:
    if any(dataclasses.is_dataclass(base) for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__qualname__}: multusctl.records does not do dataclass inheritance")
    class_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    if frozen and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        raise TypeError(f"Cannot overwrite attribute __setattr__ or __delattr__ in class {cls.__name__}")
    # A class without a docstring gets one from the stdlib through inspect.signature(cls): ~9 ms the first
    # time (it compiles tokenize's regex), ~0.5 ms after, and with init=False it read "Name()". A placeholder
    # keeps the stdlib from it; the real one, the stdlib's text from the fields, is written below.
    undocumented = not cls.__doc__
    if undocumented:
        cls.__doc__ = cls.__name__
    # Fields only: with init, repr and eq off and not frozen, the stdlib generates no code at all.
    dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    declared: dict[str, dataclasses.Field[Any]] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    if len(fields) != sum(1 for f in declared.values() if not _is_classvar(f)):
        raise TypeError(f"{cls.__qualname__}: multusctl.records does not do InitVar")
    all_names = frozenset(f.name for f in fields)
    init_names = frozenset(f.name for f in fields if f.init)
    n_init = sum(1 for f in fields if f.init)
    positional = tuple(f.name for f in fields if f.init)
    has_post_init = hasattr(cls, "__post_init__")
    qualname = cls.__qualname__
    assign: Callable[[Any, str, Any], None] = object.__setattr__ if frozen else setattr

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > n_init:
            raise TypeError(f"{qualname}.__init__() takes {n_init + 1} positional arguments but "
                            f"{len(args) + 1} were given")
        given = dict(zip(positional, args, strict=False))
        for name, value in kwargs.items():
            if name in given:
                raise TypeError(f"{qualname}.__init__() got multiple values for argument '{name}'")
            if name not in init_names:
                raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument '{name}'")
            given[name] = value
        for f in fields:
            if not f.init:
                # The stdlib sets only a default_factory here; a plain default stays the class attribute.
                if f.default_factory is not MISSING:
                    assign(self, f.name, f.default_factory())
                continue
            if f.name in given:
                value = given[f.name]
            elif f.default is not MISSING:
                value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{qualname}.__init__() missing 1 required positional argument: '{f.name}'")
            assign(self, f.name, value)
        if has_post_init:
            self.__post_init__()

    shown = tuple(f.name for f in fields if f.repr)

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        return f"{self.__class__.__qualname__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in shown) + ")"

    compared = tuple(f.name for f in fields if f.compare)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return tuple(getattr(self, n) for n in compared) == tuple(getattr(other, n) for n in compared)
        return NotImplemented

    if undocumented:
        cls.__doc__ = cls.__name__ + _signature_text(fields)
    _set(cls, "__init__", __init__)
    _set(cls, "__repr__", __repr__)
    _set(cls, "__eq__", __eq__)
    if not explicit_hash:
        if frozen:
            hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))

            def __hash__(self: Any) -> int:
                return hash(tuple(getattr(self, n) for n in hashed))

            __hash__.__qualname__ = f"{qualname}.__hash__"
            cls.__hash__ = __hash__  # type: ignore[method-assign]
        else:
            cls.__hash__ = None  # type: ignore[assignment]
    if frozen:

        def __setattr__(self: Any, name: str, value: Any) -> None:
            if type(self) is cls or name in all_names:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in all_names:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)

        _set(cls, "__setattr__", __setattr__)
        _set(cls, "__delattr__", __delattr__)
    return cls


def _signature_text(fields: tuple[dataclasses.Field[Any], ...]) -> str:
    """What the stdlib's docstring shows, `(x: 'int', y: 'list' = <factory>)` (annotations are strings under
    `from __future__ import annotations`), built from the fields rather than by inspect.signature."""
    parts = []
    for f in fields:
        if not f.init:
            continue
        text = f"{f.name}: {_annotation_text(f.type)}"
        if f.default is not MISSING:
            text += f" = {f.default!r}"
        elif f.default_factory is not MISSING:
            text += " = <factory>"
        parts.append(text)
    return "(" + ", ".join(parts) + ")"


def _annotation_text(annotation: Any) -> str:
    # inspect.formatannotation's rules: a class by its (qualified) name, builtins bare; anything else by repr.
    if isinstance(annotation, type):
        name = annotation.__qualname__
        return name if annotation.__module__ == "builtins" else f"{annotation.__module__}.{name}"
    return repr(annotation).replace("typing.", "")


def _is_classvar(f: dataclasses.Field[Any]) -> bool:
    return f._field_type is dataclasses._FIELD_CLASSVAR  # type: ignore[attr-defined]
