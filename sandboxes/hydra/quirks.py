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

from sandboxes._quirks import Quirk, flag, whole_number

__all__ = ["QUIRKS"]

QUIRKS = (
    Quirk("max_items_per_page", 100, "itemsPerPage above this is silently clamped to it",
          "maximum_items_per_page is an app setting; API Platform clamps silently [D APC3]; decision 31",
          whole_number(1, 1000)),
    Quirk("absolute_links", False, "hydra:view links (first, last, previous, next) as absolute URLs",
          "API Platform's url_generation_strategy can make IRIs absolute URLs [D APdoc]", flag),
)
