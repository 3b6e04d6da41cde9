"""Read mapping files (YAML -> spec), merge a user's override file field by field, and compile a Mapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connector.errors import MappingSpecError
from connector.mapping.mapper import Mapper
from connector.mapping.plan import compile_entity
from connector.mapping.spec import (
    ENTITY_NAMES,
    EntitySpec,
    ExtraSpec,
    ItemsSpec,
    MappingFile,
    describe_validation_error,
)
from connector.plugins import plugins

__all__ = ["check_mappings", "load_mapping", "read_spec"]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML would silently keep the last one)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_spec(path: Path) -> MappingFile:
    """Read and validate one mapping file.

    Raises:
        MappingSpecError: unreadable file, bad YAML, or a spec that does not validate.
    """
    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except OSError as exc:
        raise MappingSpecError(name, "", "", f"cannot read the file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingSpecError(name, "", "", f"not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise MappingSpecError(name, "", "", f"expected a mapping at the top, got {type(data).__name__}")
    try:
        return MappingFile.model_validate(data)
    except ValidationError as exc:
        entity, field, problem = describe_validation_error(exc)
        raise MappingSpecError(name, entity, field, problem) from None


def _merge_extra(base: ExtraSpec | None, user: ExtraSpec | None) -> ExtraSpec | None:
    if base is None or user is None:
        return user or base
    unmapped = user.include_unmapped if "include_unmapped" in user.model_fields_set else base.include_unmapped
    return ExtraSpec(fields={**base.fields, **user.fields}, include_unmapped=unmapped)


def _merge_items(base: ItemsSpec, user: ItemsSpec) -> ItemsSpec:
    update: dict[str, Any] = {
        k: getattr(user, k) for k in ("from_", "to", "transform", "readonly") if k in user.model_fields_set
    }
    update["fields"] = {**base.fields, **user.fields}
    update["extra"] = _merge_extra(base.extra, user.extra)
    return base.model_copy(update=update)


def _merge(base: EntitySpec | None, user: EntitySpec, origin: str, origins: dict[str, str]) -> EntitySpec:
    """Overlay a user's entity spec on the base one, field by field, recording which file said what."""
    for name in user.fields:
        origins[name] = origin
    for name in user.extra.fields if user.extra else {}:
        origins[f"extra.{name}"] = origin
    for item, spec in user.items.items():
        origins[item] = origin
        origins.update({f"{item}.{n}": origin for n in spec.fields})
        origins.update({f"{item}.extra.{n}": origin for n in (spec.extra.fields if spec.extra else {})})
    if base is None:
        return user
    items = dict(base.items)
    for item, spec in user.items.items():
        items[item] = _merge_items(items[item], spec) if item in items else spec
    return EntitySpec(
        fields={**base.fields, **user.fields}, items=items, extra=_merge_extra(base.extra, user.extra)
    )


def shipped_mappings(base_dir: Path) -> dict[str, Path]:
    """Provider id -> its base mapping file: ``base_dir/<id>.yaml``, or for an installed provider without one
    there, the ``<id>.yaml`` its own package ships (a plug-in brings its mapping along)."""
    found = {p.stem: p for p in Path(base_dir).glob("*.yaml")} if Path(base_dir).is_dir() else {}
    for name, plugin in plugins().items():
        folder = plugin.package_dir()
        if name not in found and folder is not None and (folder / f"{name}.yaml").is_file():
            found[name] = folder / f"{name}.yaml"
    return dict(sorted(found.items()))


def load_mapping(provider: str, base_dir: Path, user_dir: Path | None = None) -> Mapper:
    """Load, validate and compile the mapping of `provider`.

    Reads ``base_dir/<provider>.yaml`` (or the file an installed provider's package ships), then, if it
    exists, ``user_dir/<provider>.yaml``, whose fields override or add to the base ones entity by entity and
    field by field (including `extra` fields).

    Args:
        provider: the provider id, also the file's stem.
        base_dir: the shipped mapping files.
        user_dir: the user's override files, if any.

    Returns:
        The compiled mapper; `bind` it to the service's reference data before use.

    Raises:
        MappingSpecError: a missing or invalid file, naming the file, the entity and the field.
    """
    shipped = shipped_mappings(base_dir)
    if provider not in shipped:
        known = list(shipped)
        raise MappingSpecError(
            str(Path(base_dir) / f"{provider}.yaml"),
            "",
            "",
            f"no mapping file for provider {provider!r}; known: {', '.join(known) or 'none'}",
        )
    base_path = shipped[provider]
    base = read_spec(base_path)
    if base.provider is None:
        raise MappingSpecError(str(base_path), "", "provider", "a base mapping file must name its `provider`")
    files = [str(base_path)]
    user_path = Path(user_dir) / f"{provider}.yaml" if user_dir is not None else None
    user = read_spec(user_path) if user_path is not None and user_path.is_file() else None
    for path, spec in ((base_path, base), (user_path, user)):
        if spec is not None and spec.provider not in (None, provider):
            raise MappingSpecError(
                str(path),
                "",
                "provider",
                f"names provider {spec.provider!r}, but the file is for {provider!r}",
            )
    plans = {}
    for entity in ENTITY_NAMES:
        origins: dict[str, str] = {}
        merged = base.entity(entity)
        if user is not None and (override := user.entity(entity)) is not None:
            merged = _merge(merged, override, str(user_path), origins)
        if merged is not None:
            plans[entity] = compile_entity(entity, merged, origins, str(base_path))
    if user is not None:
        files.append(str(user_path))
    return Mapper(provider, tuple(files), plans)


def check_mappings(base_dir: Path, user_dir: Path | None) -> list[str]:
    """Load every mapping file (with the user's overrides) and describe each; for `connector mappings check`.

    Args:
        base_dir: the shipped mapping files (every ``*.yaml`` in it is loaded).
        user_dir: the user's override files; one without a base file of the same name is an error.

    Returns:
        One human-readable line per provider.

    Raises:
        MappingSpecError: the first file that does not load.
    """
    base_dir = Path(base_dir)
    providers = list(shipped_mappings(base_dir))
    if user_dir is not None and Path(user_dir).is_dir():
        for orphan in sorted(p for p in Path(user_dir).glob("*.yaml") if p.stem not in providers):
            raise MappingSpecError(
                str(orphan),
                "",
                "",
                f"overrides provider {orphan.stem!r}, which has no base mapping in {base_dir}",
            )
    lines = []
    for provider in providers:
        mapper = load_mapping(provider, base_dir, user_dir)
        lines.append(f"ok  {mapper.summary()}  ({' + '.join(mapper.files)})")
    if not lines:
        lines.append(f"no mapping files in {base_dir}")
    return lines
