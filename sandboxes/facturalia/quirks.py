"""Facturalia's quirk switches: how a replayed create answers, which the sources leave open (PROVIDERS.md
decision 13: "201 (or 200) + `Idempotency-Status: replayed`", a guess).

| quirk | default | evidence |
|---|---|---|
| `replay_status=201,200` | 201 | decision 13 (invented): the kennisbank says a replay returns the original answer |
| `replay_header` | on | decision 13 (invented): the `Idempotency-Status: replayed` header is a guess |
"""

from __future__ import annotations

from sandboxes._quirks import Quirk, choice, flag

__all__ = ["QUIRKS"]

QUIRKS = (
    Quirk("replay_status", "201", "the status of a replayed create (the original body either way)",
          "decision 13 (invented): 201 or 200 on a replay", choice("201", "200")),
    Quirk("replay_header", True, "a replayed create carries Idempotency-Status: replayed",
          "decision 13 (invented): the header is a guess", flag),
)
