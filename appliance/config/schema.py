"""A small typed schema for configuration files.

Configuration sections are frozen dataclasses whose fields are declared with
:func:`setting`, which also carries the documentation and the constraints.
:func:`load` turns parsed TOML into those dataclasses and reports every
problem at once with its path (``services[2].prefix``); :func:`reference`
renders the same declarations as Markdown, so the configuration reference in
``docs/`` is generated from the code and cannot drift from it.

A dataclass may define ``check(self) -> Iterable[tuple[str, str]]`` for rules
that span several fields; the paths it yields are relative to the section.
A section whose values all have the right types is built and checked even
when some are out of range, so one run reports every problem of a file.

Every number must be finite, and no text may carry control characters or
bidirectional overrides: the branch file's text goes to paper, screens and
SMS as it is.  A setting renamed keeps its old key as an alias
(``setting(..., aliases=("old_name",))``).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import types
import typing
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from ..errors import ConfigError

T = TypeVar("T")

_MISSING: Any = dataclasses.MISSING


def setting(
    doc: str,
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    minimum: float | None = None,
    maximum: float | None = None,
    pattern: str | None = None,
    example: Any = None,
    aliases: tuple[str, ...] = (),
) -> Any:
    """Declare one configuration setting with its documentation; ``aliases``
    are its former names, still accepted in a branch file."""
    metadata = {
        "doc": doc,
        "minimum": minimum,
        "maximum": maximum,
        "pattern": pattern,
        "example": example,
        "aliases": aliases,
    }
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


#: Bidirectional embeddings, overrides and isolates: they reorder what a
#: citizen reads (a ticket number, a window, a phone number).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` that may not reach paper, a screen or
    an SMS (a control character or a bidi override), described; else None."""
    for ch in text:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs"):
            name = unicodedata.name(ch, "control character")
            return f"U+{ord(ch):04X} ({name})"
    return None


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    if origin is list:
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin is dict:
        return f"table of {_type_name(get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "table"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(tp, str(tp))


class _Loader:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def value(self, tp: Any, raw: Any, path: str, meta: dict[str, Any]) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if raw is None:
                return None
            return self.value(options[0], raw, path, meta)
        if origin is Literal:
            allowed = get_args(tp)
            if raw not in allowed:
                self.problem(path, f"must be one of {', '.join(map(repr, allowed))}, not {raw!r}")
                return _MISSING
            return raw
        if origin is list:
            if not isinstance(raw, list):
                self.problem(path, f"must be a list, not {type(raw).__name__}")
                return _MISSING
            (item_tp,) = get_args(tp)
            items = [self.value(item_tp, item, _join(path, i), meta) for i, item in enumerate(raw)]
            return _MISSING if any(i is _MISSING for i in items) else items
        if origin is dict:
            if not isinstance(raw, dict):
                self.problem(path, f"must be a table, not {type(raw).__name__}")
                return _MISSING
            _, val_tp = get_args(tp)
            table = {k: self.value(val_tp, v, _join(path, k), meta) for k, v in raw.items()}
            return _MISSING if any(v is _MISSING for v in table.values()) else table
        if dataclasses.is_dataclass(tp):
            return self.section(typing.cast(type, tp), raw, path)
        return self.scalar(tp, raw, path, meta)

    def scalar(self, tp: Any, raw: Any, path: str, meta: dict[str, Any]) -> Any:
        if tp is bool:
            ok = isinstance(raw, bool)
        elif tp is int:
            ok = isinstance(raw, int) and not isinstance(raw, bool)
        elif tp is float:
            ok = isinstance(raw, int | float) and not isinstance(raw, bool)
            raw = float(raw) if ok else raw
        elif tp is str:
            ok = isinstance(raw, str)
        else:  # pragma: no cover - a schema bug, not a user error
            raise TypeError(f"unsupported setting type {tp!r} at {path}")
        if not ok:
            self.problem(path, f"must be a {_type_name(tp)}, not {type(raw).__name__} {raw!r}")
            return _MISSING
        if tp is float and not math.isfinite(raw):
            self.problem(path, f"must be a finite number, not {raw}")
            return _MISSING
        if tp is str:
            bad = unsafe_character(raw)
            if bad is not None:
                self.problem(path, f"contains {bad}: no control characters or bidi overrides")
        lo, hi, pattern = meta.get("minimum"), meta.get("maximum"), meta.get("pattern")
        if lo is not None and raw < lo:
            self.problem(path, f"must be at least {lo}, not {raw}")
        if hi is not None and raw > hi:
            self.problem(path, f"must be at most {hi}, not {raw}")
        if pattern is not None and isinstance(raw, str) and not re.fullmatch(pattern, raw):
            self.problem(path, f"{raw!r} does not match the pattern {pattern}")
        return raw

    def section(self, cls: type, raw: Any, path: str) -> Any:
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table, not {type(raw).__name__}")
            return _MISSING
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        former = {old: f.name for f in fields.values() for old in f.metadata.get("aliases", ())}
        for key in raw:
            if key not in fields and key not in former:
                near = difflib.get_close_matches(key, list(fields), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.problem(_join(path, key), f"unknown setting{hint}")
        values: dict[str, Any] = {}
        before = len(self.problems)
        usable = True
        for name, f in fields.items():
            keys = [k for k in (name, *f.metadata.get("aliases", ())) if k in raw]
            if len(keys) > 1:
                self.problem(_join(path, keys[1]), f"former name of {name!r}: set only one")
            if keys:
                v = self.value(hints[name], raw[keys[0]], _join(path, keys[0]), dict(f.metadata))
                if v is _MISSING:
                    usable = False
                else:
                    values[name] = v
            elif f.default is _MISSING and f.default_factory is _MISSING:
                self.problem(_join(path, name), "is required")
                usable = False
        if not usable:
            return _MISSING
        # Values out of range still make a section of the right shape: its own
        # rules and those of the sections around it are checked too, so one
        # run lists every problem (they must not trip over such values).
        obj = cls(**values)
        check = getattr(obj, "check", None)
        if check is not None:
            try:
                found = list(check())
            except Exception:
                if len(self.problems) == before:
                    raise
                found = []  # a rule tripped over a value already reported
            for rel, message in found:
                self.problem(_join(path, rel) if rel else path, message)
        return obj


def load(cls: type[T], raw: Any, *, source: str = "") -> T:
    """Build ``cls`` from parsed data, or raise :class:`ConfigError` listing
    every problem with its path."""
    loader = _Loader()
    result = loader.section(cls, raw, "")
    if loader.problems:
        raise ConfigError(loader.problems, source)
    return typing.cast(T, result)


def duplicates(values: Iterable[Any]) -> Iterator[Any]:
    """Yield every value that occurs more than once (once each)."""
    seen: set[Any] = set()
    reported: set[Any] = set()
    for v in values:
        if v in seen and v not in reported:
            reported.add(v)
            yield v
        seen.add(v)


def reference(cls: type, title: str, *, path: str = "", level: int = 2) -> str:
    """Render the settings of ``cls`` (and its nested sections) as Markdown."""
    hints = typing.get_type_hints(cls)
    out = [f"{'#' * level} {title}", ""]
    doc = (cls.__doc__ or "").strip()
    if doc:
        out += [" ".join(doc.split()), ""]
    rows = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    nested: list[tuple[str, type]] = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        inner = tp
        while get_origin(inner) in (list, dict, Union, types.UnionType):
            inner = [a for a in get_args(inner) if a is not type(None)][-1]
        if dataclasses.is_dataclass(inner):
            suffix = "[]" if get_origin(tp) is list else ""
            nested.append((_join(path, f.name) + suffix, typing.cast(type, inner)))
        if f.default is not _MISSING:
            default = f"`{f.default!r}`" if f.default is not None else "none"
        elif f.default_factory is not _MISSING:
            made = typing.cast(typing.Callable[[], Any], f.default_factory)()
            default = "see below" if dataclasses.is_dataclass(made) else f"`{made!r}`"
        else:
            default = "**required**"
        meta = f.metadata
        limits = []
        if meta.get("minimum") is not None:
            limits.append(f"≥ {meta['minimum']}")
        if meta.get("maximum") is not None:
            limits.append(f"≤ {meta['maximum']}")
        if meta.get("pattern"):
            limits.append(f"pattern `{meta['pattern']}`")
        if meta.get("aliases"):
            limits.append("formerly " + ", ".join(f"`{a}`" for a in meta["aliases"]))
        text = meta.get("doc", "")
        if limits:
            text += f" ({', '.join(limits)})"
        text = text.replace("|", "\\|")
        kind = _type_name(tp).replace("|", "\\|")
        rows.append(f"| `{f.name}` | {kind} | {default} | {text} |")
    out += [*rows, ""]
    for sub_path, sub_cls in nested:
        out.append(reference(sub_cls, f"`{sub_path}`", path=sub_path, level=level + 1))
    return "\n".join(out)
