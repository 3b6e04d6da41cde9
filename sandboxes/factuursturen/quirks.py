"""FactuurSturen's quirk switches: behaviours the evidence allows that the default sandbox does not show.

| quirk | default | evidence (PROVIDERS.md section 3 and section 5) |
|---|---|---|
| `unknown_id_answers_list` | off | fs_api commit 53a9f38 (2015): "when nothing is found all clients |
| | | are returned", a spec stubbing `invoices/bogus` [C rb]; decision 21 |
| `count_cap=N` | off | the maximum `count` is undocumented; production clients stop on an empty |
| | | page only [C hub]; decision 18 |
| `client_timestamp=absent,date,datetime` | absent | the seed types `timestamp` as a date; the recorded |
| | | clients of 2015 and 2017 have no such key [C rb]; py parses `%Y-%m-%d` [C py]; decision 23 |
"""

from __future__ import annotations

from sandboxes._quirks import Quirk, choice, flag, positive_int_or_off

__all__ = ["QUIRKS"]

QUIRKS = (
    Quirk(
        "unknown_id_answers_list",
        False,
        "a single GET of a client or invoice id that does not exist answers 200 with the whole list (bare array)",
        "fs_api commit 53a9f38 (2015): 'when nothing is found all clients are returned' [C rb]; decision 21",
        flag,
    ),
    Quirk(
        "count_cap",
        None,
        "list pages hold at most N records whatever `count` asks (off: no maximum)",
        "the maximum count is undocumented; production clients stop on an empty page only [C hub]; decision 18",
        positive_int_or_off,
        trials=(100, 250),  # below the connector's 500, one a divisor of it and one not
    ),
    Quirk(
        "client_timestamp",
        "absent",
        "client `timestamp`: absent, 'YYYY-MM-DD' (date) or 'YYYY-MM-DD HH:MM:SS' (datetime)",
        "the seed types it date; recorded clients of 2015 and 2017 have no timestamp key [C rb, py]; decision 23",
        choice("absent", "date", "datetime"),
    ),
)
