"""hydra's quirk switches: API Platform's documented variations the connector reads (PROVIDERS.md section 4).

| quirk | default | evidence |
|---|---|---|
| `flavour=3,4` | 3 | API Platform 3.x defaults (``hydra:`` prefixed keys, legacy errors) or 4.x (unprefixed keys, |
| | | problem+json errors); the seed does not say which; decision 29 |
| `max_items_per_page=N` | 100 | `itemsPerPage` is clamped silently to `maximum_items_per_page`, an app |
| | | setting [D APC3 Pagination.php]; decision 31 |
| `absolute_links` | off | view links are IRIs; API Platform can make them absolute URLs |
| | | (`url_generation_strategy`) [D APdoc] |

The flavour is also set by ``--flavour``, ``POST /_sandbox/flavour`` and the constructor's ``flavour``.
"""

from __future__ import annotations

from sandboxes._quirks import Quirk, choice, flag, whole_number

__all__ = ["QUIRKS"]

QUIRKS = (
    Quirk("flavour", "3", "API Platform 3 (hydra: prefixed keys, legacy errors) or 4 (unprefixed, problem+json)",
          "the seed does not say which version; the connector must accept both; decision 29", choice("3", "4")),
    Quirk("max_items_per_page", 100, "itemsPerPage above this is silently clamped to it",
          "maximum_items_per_page is an app setting; API Platform clamps silently [D APC3]; decision 31",
          whole_number(1, 1000), trials=(10, 30)),
    Quirk("absolute_links", False, "hydra:view links (first, last, previous, next) as absolute URLs",
          "API Platform's url_generation_strategy can make IRIs absolute URLs [D APdoc]", flag),
)
