"""`@dataclass` for the start-up path, without the stdlib's `dataclasses`.

`dataclasses.dataclass` compiles every method it writes with `exec` (`__init__`, `__repr__`, `__eq__`, and
for a frozen class `__hash__`, `__setattr__`, `__delattr__`): 0.5-1 ms a class, ~30 ms over the classes
`multusctl check` loads. Importing `dataclasses` costs ~17 ms more, most of it `inspect` (with `ast`, `dis`
and `tokenize`), which the stdlib needs only to write a docstring. So this module collects the fields
itself, with the stdlib's rules (annotation order, ClassVar skipped, a `field()` or a plain default, a
mutable default refused, a field without a default after one with a default refused), and the methods are
closures over the field list with the stdlib's semantics: `__init__` (positional or keyword, defaults,
`default_factory`, `init=False` fields, `__post_init__`), `__repr__` of the `repr` fields, `__eq__` on the
tuple of the `compare` fields of the same class, `__hash__` (frozen: of those fields; otherwise None),
frozen assignment refused, `__match_args__`. A method the class defines itself is kept, as the stdlib
keeps it. `fields`, `asdict` and `replace` are this module's (a record is not a stdlib dataclass, so the
stdlib's refuse it); tests/test_records.py holds all of this against the stdlib.

Not supported (TypeError at decoration, so nothing silently differs): InitVar pseudo-fields, inheriting
from a dataclass or a record, and the stdlib's other options (order, slots, kw_only, ...): use
`dataclasses` there.
"""

from __future__ import annotations

import re
import reprlib
import sys
import typing
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T")

__all__ = ["MISSING", "FrozenInstanceError", "asdict", "dataclass", "field", "fields", "replace"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record (as `dataclasses.FrozenInstanceError`)."""


class Field:
    """One field of a record, as `dataclasses.Field` describes one."""

    __slots__ = ("compare", "default", "default_factory", "hash", "init", "name", "repr", "type")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, hash: bool | None,
                 compare: bool) -> None:
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.hash = hash
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, init={self.init}, compare={self.compare})"


def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, repr: bool = True,
          hash: bool | None = None, compare: bool = True) -> Any:
    """As `dataclasses.field`, for a record's fields."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return Field(default, default_factory, init, repr, hash, compare)


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field, Field))
def dataclass(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """`@dataclass` / `@dataclass(frozen=True)`, as the stdlib's (module docstring)."""

    def wrap(c: type[T]) -> type[T]:
        return _process(c, frozen)

    return wrap if cls is None else wrap(cls)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record or record class, in order (as `dataclasses.fields`)."""
    try:
        return tuple(obj.__records_fields__)
    except AttributeError:
        raise TypeError("must be called with a record type or instance") from None


def is_record(obj: Any) -> bool:
    return hasattr(obj if isinstance(obj, type) else type(obj), "__records_fields__")


def asdict(obj: Any) -> dict[str, Any]:
    """A record as a dict, nested records, lists, tuples and dicts converted and other values deep-copied
    (as `dataclasses.asdict`)."""
    if not is_record(obj) or isinstance(obj, type):
        raise TypeError("asdict() should be called on record instances")
    return dict(_asdict_inner(obj))


def _asdict_inner(obj: Any) -> Any:
    if is_record(obj) and not isinstance(obj, type):
        return {f.name: _asdict_inner(getattr(obj, f.name)) for f in obj.__records_fields__}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple, rebuilt positionally
        return type(obj)(*[_asdict_inner(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return type(obj)(_asdict_inner(v) for v in obj)
    if isinstance(obj, dict):
        return type(obj)((_asdict_inner(k), _asdict_inner(v)) for k, v in obj.items())
    if type(obj) in (str, int, float, bool, type(None), bytes):
        return obj
    import copy  # only for values of other types, which the records on the start-up path do not hold

    return copy.deepcopy(obj)


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of a record with some fields changed (as `dataclasses.replace`)."""
    if not is_record(obj) or isinstance(obj, type):
        raise TypeError("replace() should be called on record instances")
    for f in obj.__records_fields__:
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with "
                                 "replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


# The stdlib's test of a string annotation (`from __future__ import annotations`): an optional module prefix,
# then the name.
_ANNOTATION = re.compile(r"^\s*(?:(\w+)\s*\.)?\s*(\w+)")


def _kind(cls: type, annotation: Any) -> str:
    """"classvar", "initvar" or "field", by the stdlib's rules: a string annotation counts only when its name
    (or module.name) is typing.ClassVar / dataclasses.InitVar in the class's module."""
    if isinstance(annotation, str):
        m = _ANNOTATION.match(annotation)
        if not m:
            return "field"
        namespace = getattr(sys.modules.get(cls.__module__), "__dict__", {})
        prefix, name = m.group(1), m.group(2)
        obj = getattr(namespace.get(prefix), name, None) if prefix else namespace.get(name)
        if obj is typing.ClassVar:
            return "classvar"
        return "initvar" if getattr(obj, "__module__", None) == "dataclasses" and name == "InitVar" else "field"
    if annotation is typing.ClassVar or getattr(annotation, "__origin__", None) is typing.ClassVar:
        return "classvar"
    initvar = type(annotation) if not isinstance(annotation, type) else annotation
    return "initvar" if initvar.__name__ == "InitVar" and initvar.__module__ == "dataclasses" else "field"


def _collect(cls: type) -> tuple[Field, ...]:
    out: list[Field] = []
    # The class's own annotations, as dataclasses reads them on 3.11-3.13 (inspect is what this module avoids).
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063
        kind = _kind(cls, annotation)
        if kind == "classvar":
            continue
        if kind == "initvar":
            raise TypeError(f"{cls.__qualname__}: multusctl.records does not do InitVar")
        value = cls.__dict__.get(name, MISSING)
        if type(value).__name__ == "Field" and type(value).__module__ == "dataclasses":
            # Else it would silently become the default value itself.
            raise TypeError(f"{cls.__qualname__}.{name}: a dataclasses.field() in a record; use "
                            "multusctl.records.field")
        f = value if isinstance(value, Field) else field(default=value)
        f.name, f.type = name, annotation
        if f.default is not MISSING and f.default.__class__.__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use "
                             "default_factory")
        if isinstance(value, Field):  # as the stdlib: the class attribute becomes the default, or goes
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        out.append(f)
    seen_default = False
    for f in out:
        if not f.init:
            continue
        if f.default is MISSING and f.default_factory is MISSING:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            seen_default = True
    return tuple(out)


def _set(cls: type, name: str, fn: Any) -> None:
    # As the stdlib's _set_new_attribute: a method the class body defines wins.
    if name not in cls.__dict__:
        if callable(fn):
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)


def _process(cls: type[T], frozen: bool) -> type[T]:
    if any(hasattr(b, "__records_fields__") or hasattr(b, "__dataclass_fields__") for b in cls.__mro__[1:]):
        raise TypeError(f"{cls.__qualname__}: multusctl.records does not do dataclass inheritance")
    class_hash = cls.__dict__.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in cls.__dict__))
    if frozen and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        raise TypeError(f"Cannot overwrite attribute __setattr__ or __delattr__ in class {cls.__name__}")
    undocumented = not cls.__doc__
    fields = _collect(cls)
    cls.__records_fields__ = fields  # type: ignore[attr-defined]
    all_names = frozenset(f.name for f in fields)
    init_names = frozenset(f.name for f in fields if f.init)
    n_init = sum(1 for f in fields if f.init)
    positional = tuple(f.name for f in fields if f.init)
    has_post_init = hasattr(cls, "__post_init__")
    qualname = cls.__qualname__
    # (name, init, default, default_factory) in field order: what __init__ walks, without attribute lookups.
    plan = tuple((f.name, f.init, f.default, f.default_factory) for f in fields)
    simple = all(f.init for f in fields)  # then all positional arguments fill every field: the fast path
    # Values go straight into the instance dict, as object.__setattr__ (the stdlib's frozen __init__) puts
    # them; only a non-frozen class with its own __setattr__ gets setattr, as the stdlib's `self.x = x`.
    via_setattr = not frozen and "__setattr__" in cls.__dict__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if simple and not kwargs and len(args) == n_init and not via_setattr:
            self.__dict__.update(zip(positional, args, strict=True))
            if has_post_init:
                self.__post_init__()
            return
        if len(args) > n_init:
            raise TypeError(f"{qualname}.__init__() takes {n_init + 1} positional arguments but "
                            f"{len(args) + 1} were given")
        if args:
            given = dict(zip(positional, args, strict=False))
            for name in kwargs:
                if name in given:
                    raise TypeError(f"{qualname}.__init__() got multiple values for argument '{name}'")
            given.update(kwargs)
        else:
            given = kwargs
        if not init_names.issuperset(given):
            name = next(n for n in given if n not in init_names)
            raise TypeError(f"{qualname}.__init__() got an unexpected keyword argument '{name}'")
        values: dict[str, Any] = {}
        for name, init, default, factory in plan:
            if not init:
                # The stdlib sets only a default_factory here; a plain default stays the class attribute.
                if factory is not MISSING:
                    values[name] = factory()
                continue
            if name in given:
                values[name] = given[name]
            elif default is not MISSING:
                values[name] = default
            elif factory is not MISSING:
                values[name] = factory()
            else:
                raise TypeError(f"{qualname}.__init__() missing 1 required positional argument: '{name}'")
        if via_setattr:
            for name, value in values.items():
                setattr(self, name, value)
        else:
            self.__dict__.update(values)
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
    if "__match_args__" not in cls.__dict__:
        cls.__match_args__ = positional  # type: ignore[attr-defined,misc]
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


def _signature_text(fields: tuple[Field, ...]) -> str:
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
