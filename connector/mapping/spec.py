"""The typed model of a mapping file (pydantic, extra="forbid"): the closed vocabulary, nothing executable."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connector.domain import ENTITY_KINDS

__all__ = [
    "ENTITY_NAMES",
    "EntitySpec",
    "ExtraSpec",
    "FieldSpec",
    "ItemsSpec",
    "MappingFile",
    "TransformRef",
    "describe_validation_error",
]

ENTITY_NAMES: tuple[str, ...] = ENTITY_KINDS
_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_path(value: str) -> str:
    if not _PATH.match(value):
        raise ValueError(f"{value!r} is not a dotted path (keys joined by '.', no blanks)")
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TransformRef(_Spec):
    """A transform by registry name with its parameters: ``date`` or ``{name: datetime_local, zone: UTC}``."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError("expected a transform name, or {name: <transform>, <parameter>: <value>, ...}")
        if "params" not in data:  # parameters sit beside `name`
            return {"name": data["name"], "params": {k: v for k, v in data.items() if k != "name"}}
        return data


class FieldSpec(_Spec):
    """How one canonical field is read from (and written back to) the wire.

    `from` is a dotted path, or a list of paths for transforms that read several values; `to` is the
    outbound path when it differs from `from`; `map` is a one-to-one table wire -> canonical whose
    inverse is used outbound unless `reverse` (canonical -> wire) is given; `default` is the canonical
    value used when the wire value is missing or empty; `readonly` fields are never pushed.
    """

    from_: str | list[str] | None = Field(default=None, alias="from")
    to: str | None = None
    transform: TransformRef | None = None
    map: dict[str, str] | None = None
    reverse: dict[str, str] | None = None
    default: Any = None
    readonly: bool = False

    @field_validator("from_")
    @classmethod
    def _paths(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("a list of paths needs at least one path")
            return [_check_path(v) for v in value]
        return None if value is None else _check_path(value)

    @field_validator("to")
    @classmethod
    def _to_path(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)

    @model_validator(mode="after")
    def _source(self) -> FieldSpec:
        if self.from_ is None and "default" not in self.model_fields_set:
            raise ValueError("needs `from` (a wire path) or a constant `default`")
        if self.reverse is not None and self.map is None:
            raise ValueError("`reverse` only makes sense together with `map`")
        return self


class ExtraSpec(_Spec):
    """Custom or unmapped service fields kept in the record's `extra` dict."""

    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    include_unmapped: bool = False

    @field_validator("fields")
    @classmethod
    def _names(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"extra field name {name!r} must be an identifier (letters, digits, _)")
        return value


class ItemsSpec(_Spec):
    """A nested list (invoice lines): where it sits on the wire and how each item maps.

    `from` may be left out only in a user override file that changes the fields of a base list.
    """

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    transform: TransformRef | None = None
    readonly: bool = False
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    extra: ExtraSpec | None = None

    @field_validator("from_", "to")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)


class EntitySpec(_Spec):
    """The mapping of one canonical entity."""

    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    items: dict[str, ItemsSpec] = Field(default_factory=dict)
    extra: ExtraSpec | None = None


class MappingFile(_Spec):
    """A whole mapping file; a user override file has the same shape and may leave out anything."""

    provider: str | None = None
    version: int = 1
    client: EntitySpec | None = None
    invoice: EntitySpec | None = None
    payment: EntitySpec | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"version {value} is not supported; this connector reads version 1")
        return value

    def entity(self, name: str) -> EntitySpec | None:
        """Return the spec of entity `name`, if the file maps it."""
        spec: EntitySpec | None = getattr(self, name)
        return spec


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """Walk the spec models along a validation location to the model that holds its last key."""
    current: Any = MappingFile
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            current = None if field is None else field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
        while typing.get_origin(current) in (Union, types.UnionType):  # X | None -> the model or dict part
            current = next(a for a in typing.get_args(current) if a is not type(None) and a is not str)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _where(loc: tuple[str | int, ...]) -> tuple[str, str, str]:
    """Split a location into (entity, field, rest) for MappingSpecError."""
    parts = [str(p) for p in loc]
    if not parts or parts[0] not in ENTITY_NAMES:
        return "", "", ".".join(parts)
    entity, rest = parts[0], parts[1:]
    if rest[:1] == ["fields"] and len(rest) > 1:
        return entity, rest[1], ".".join(rest[2:])
    if rest[:1] == ["items"] and len(rest) > 1:
        item, sub = rest[1], rest[2:]
        if sub[:1] == ["fields"] and len(sub) > 1:
            return entity, f"{item}.{sub[1]}", ".".join(sub[2:])
        return entity, item, ".".join(sub)
    if rest[:1] == ["extra"]:
        if rest[1:2] == ["fields"] and len(rest) > 2:
            return entity, f"extra.{rest[2]}", ".".join(rest[3:])
        return entity, "extra", ".".join(rest[1:])
    return entity, "", ".".join(rest)


def describe_validation_error(exc: ValidationError) -> tuple[str, str, str]:
    """Turn pydantic's first error into the parts of a MappingSpecError.

    Args:
        exc: the error from validating a whole mapping file.

    Returns:
        (entity, field, problem); an unknown key's problem lists the keys allowed at that place, and
        more than one error is summed up as "(and N more problems)".
    """
    errors = exc.errors()
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    entity, field, rest = _where(loc)
    if first["type"] == "extra_forbidden":
        model = _model_at(loc)
        allowed = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        problem = f"unknown key {str(loc[-1])!r}; allowed keys: {', '.join(allowed)}"
    else:
        message = first["msg"].removeprefix("Value error, ")
        if rest.endswith(".[key]"):  # YAML read an unquoted 1 or yes as a number or boolean
            table, _, key = rest.removesuffix(".[key]").rpartition(".")
            rest, message = table, f"key {key}: {message} (quote numbers and yes/no in YAML)"
        problem = f"{rest}: {message}" if rest else message
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return entity, field, problem
