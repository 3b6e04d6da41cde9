"""hydra's quirk switches: API Platform's documented variations the connector reads (PROVIDERS.md section 4).

| quirk | default | evidence |
|---|---|---|
| `max_items_per_page=N` | 100 | `itemsPerPage` is clamped silently to `maximum_items_per_page`, an app |
| | | setting [D APC3 Pagination.php]; decision 31 |
| `absolute_links` | off | view links are IRIs; API Platform can make them absolute URLs |
| | | (`url_generation_strategy`) [D APdoc] |

The API flavour (3.x prefixed keys, 4.x unprefixed, decision 29) stays its own switch: ``POST /_sandbox/flavour``
or the constructor's ``flavour``.
"""

from __future__ import annotations

from typing import Any

from sandboxes._quirks import Quirk, flag

__all__ = ["QUIRKS"]


def _maximum(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a whole number 1..1000, got {value!r}") from None
    if not 1 <= number <= 1000:
        raise ValueError(f"expected a whole number 1..1000, got {value!r}")
    return number


QUIRKS = (
    Quirk("max_items_per_page", 100, "itemsPerPage above this is silently clamped to it",
          "maximum_items_per_page is an app setting; API Platform clamps silently [D APC3]; decision 31", _maximum),
    Quirk("absolute_links", False, "hydra:view links (first, last, previous, next) as absolute URLs",
          "API Platform's url_generation_strategy can make IRIs absolute URLs [D APdoc]", flag),
)
