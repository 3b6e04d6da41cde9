"""Declarative field mappings: ``mappings/<provider>.yaml`` <-> canonical records, compiled at start-up.

The chain is YAML -> pydantic spec (extra="forbid") -> plans checked against the canonical dataclasses
-> closures bound to the service's reference data. Pure: no I/O except reading the mapping files.

    mapper = load_mapping("factuursturen", base_dir, user_dir)
    bound = mapper.bind({"countrylist": [...]})   # mapper.references_needed says which lists
    invoice = bound.inbound("invoice", raw)       # MappingError(entity, field, problem) if unreadable
    wire = bound.outbound("client", client)       # readonly fields left out
"""

from __future__ import annotations

from connector.mapping.loader import check_mappings, load_mapping, read_spec
from connector.mapping.mapper import BoundMapper, Mapper
from connector.mapping.registry import Transform
from connector.mapping.transforms import get_transform, known_transforms

__all__ = [
    "BoundMapper",
    "Mapper",
    "Transform",
    "check_mappings",
    "get_transform",
    "known_transforms",
    "load_mapping",
    "read_spec",
]
