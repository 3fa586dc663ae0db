"""Frozen-dataclass configs from and to plain dicts (JSON, TOML, YAML), and dotted replace.

Shared by the model config (``pavenet_sdk.model.config``) and the training run config
(``pavenet_sdk.train.config``)::

    cfg = from_dict(TrainConfig, {"optim": {"lr": 1e-4}})   # unknown keys raise, naming them
    plain = to_dict(cfg)                                      # tuples become lists
    cfg = replace(cfg, "optim.lr", 3e-4)                      # or replace(cfg, {"optim.lr": ...})

Values are checked against the field annotations (``int``, ``float``, ``str``, ``bool``,
``tuple[...]``, ``X | None``, ``dict``, nested dataclasses); lists become tuples. Range checks
stay in each dataclass's ``__post_init__``. Torch-free, standard library only.
"""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

__all__ = ["from_dict", "replace", "to_dict"]

C = TypeVar("C")
_MISSING = object()


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Resolved field annotations of a dataclass (string annotations evaluated once)."""
    return typing.get_type_hints(cls)


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _plain_dict(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{key or 'the config'} must be a table (dict), got {value!r}")
    return dict(value)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """``value`` checked against ``hint`` (the field ``key``'s annotation), lists as tuples."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if _is_dataclass_type(hint):
        return value if isinstance(value, hint) else _build(hint, value, f"{key}.")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _coerce(option, value, key)
            except TypeError as exc:
                errors.append(str(exc))
        if value is None:
            raise TypeError(f"{key} must not be empty")
        raise TypeError(errors[0] if len(errors) == 1 else f"{key}: {'; '.join(errors)}")
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{key} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{key} must be an integer, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{key} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{key} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{key} must be a list of {len(args)} items, got {list(value)!r}")
        return tuple(
            _coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict or hint is dict:
        return _plain_dict(value, key)
    raise TypeError(f"{key}: unsupported config annotation {hint!r}")  # a programming error


def _build(cls: type[C], data: Any, prefix: str) -> C:
    data = _plain_dict(data, prefix[:-1])
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ValueError(
            f"unknown config field {prefix + str(unknown[0])!r}"
            f"{f' (and {len(unknown) - 1} more)' if len(unknown) > 1 else ''}; "
            f"known fields{' of ' + prefix[:-1] if prefix else ''}: {', '.join(names)}"
        )
    return cls(**{k: _coerce(hints[k], v, prefix + k) for k, v in data.items()})


def from_dict(cls: type[C], data: Mapping[str, Any], prefix: str = "") -> C:
    """Build dataclass ``cls`` from a nested dict.

    Missing keys keep their defaults; an unknown key raises ``ValueError`` naming it as a
    dotted path (``prefix`` is put in front, e.g. ``"model."``); a value of the wrong type
    raises ``TypeError`` naming it (``ValueError`` for a list of the wrong length).
    """
    if not _is_dataclass_type(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return _build(cls, data, f"{prefix.rstrip('.')}." if prefix else "")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_dict(obj: Any) -> dict[str, Any]:
    """Nested plain dict of a dataclass instance (tuples as lists): JSON/TOML-ready."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"expected a dataclass instance, got {type(obj).__name__}")
    return _plain(dataclasses.asdict(obj))


def replace(obj: C, key: str | Mapping[str, Any], value: Any = _MISSING) -> C:
    """Copy of ``obj`` with fields changed by dotted keys, checked like :func:`from_dict`.

    ``replace(cfg, "optim.lr", 3e-4)`` or ``replace(cfg, {"optim.lr": 3e-4, "train.max_steps":
    5})``. A value may be a dataclass instance (a whole nested section). Inside a free-form
    ``dict`` field the last part of the key adds or replaces an entry.
    """
    if isinstance(key, str):
        if value is _MISSING:
            raise TypeError("replace(obj, key, value) needs a value")
        changes: Mapping[str, Any] = {key: value}
    elif isinstance(key, Mapping) and value is _MISSING:
        changes = key
    else:
        raise TypeError("use replace(obj, 'a.b', value) or replace(obj, {'a.b': value})")
    data = dataclasses.asdict(obj)  # every field, nested dataclasses as dicts
    for dotted, new in changes.items():
        node, cls = data, type(obj)
        *parents, leaf = str(dotted).split(".")
        for part in parents:
            hint = _hints(cls).get(part) if cls is not None else None
            if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
                raise ValueError(f"unknown config field {dotted!r}")
            node, cls = node[part], hint if _is_dataclass_type(hint) else None
        free_form = cls is None  # a dict-typed field: any entry may be set
        if not free_form and leaf not in node:
            raise ValueError(f"unknown config field {dotted!r}")
        node[leaf] = dataclasses.asdict(new) if dataclasses.is_dataclass(new) else new
    return from_dict(type(obj), data)
