"""`split_json_array`: each element of a JSON array with its exact source text."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.http import split_json_array


def test_elements_keep_their_exact_source_text() -> None:
    text = ' [ {"a":"1","url":"https:\\/\\/x"} ,\n{"lines":{"line1":{"price":5.952}}} ,[],"s",3 ] \n'
    pairs = split_json_array(text)
    assert [t for _, t in pairs] == [
        '{"a":"1","url":"https:\\/\\/x"}',
        '{"lines":{"line1":{"price":5.952}}}',
        "[]",
        '"s"',
        "3",
    ]
    assert pairs[0][0] == {"a": "1", "url": "https://x"}
    assert pairs[1][0]["lines"]["line1"]["price"] == Decimal("5.952")
    for value, source in pairs:
        assert json.loads(source, parse_float=Decimal) == value


@pytest.mark.parametrize("text", ["[]", " [ ] ", "[\n]"])
def test_empty_arrays(text: str) -> None:
    assert split_json_array(text) == []


@pytest.mark.parametrize(
    "text",
    ['{"a":1}', "", "   ", '[{"a":1}', '[{"a":1},', '[{"a":1} {"b":2}]', '[{"a":1}] x', "<html>", "[NaN]", "[1,]"],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        split_json_array(text)
