"""FastFaktura's quirk switches: the list details the seed leaves open (PROVIDERS.md decisions 3 and 4 are
invented), so the connector is proven not to lean on the sandbox's guess.

| quirk | default | evidence |
|---|---|---|
| `per_page=N` | 25 | decision 3 (invented): the seed states no page size and takes no per_page parameter |
| `order=newest_first,oldest_first` | newest_first | decision 4 (invented): the seed states no ordering |
| `envelope=data_meta,data,bare` | data_meta | decision 3 (invented): the seed shows no list envelope |
"""

from __future__ import annotations

from sandboxes._quirks import Quirk, choice, whole_number

__all__ = ["QUIRKS"]

QUIRKS = (
    Quirk("per_page", 25, "records per list page (the service takes no per_page parameter)",
          "decision 3 (invented): the seed states no page size", whole_number(1, 500), trials=(10, 40)),
    Quirk("order", "newest_first", "list order: newest_first or oldest_first by creation",
          "decision 4 (invented): the seed states no ordering", choice("newest_first", "oldest_first")),
    Quirk("envelope", "data_meta", "list envelope: {data, meta} (data_meta), {data} alone (data), or a bare array",
          "decision 3 (invented): the seed shows no list envelope", choice("data_meta", "data", "bare")),
)
