"""What a quirk says a client must cope with (`Quirk.alternatives`): the contract suite runs each value."""

from __future__ import annotations

import pytest

from sandboxes import SERVICES, sandbox_class
from sandboxes._quirks import Quirk, choice, flag, positive_int_or_off


def test_a_switch_offers_its_other_value_and_a_choice_its_other_options() -> None:
    assert Quirk("x", False, "", "", flag).alternatives == (True,)
    assert Quirk("x", True, "", "", flag).alternatives == (False,)
    assert Quirk("x", "b", "", "", choice("a", "b", "c")).alternatives == ("a", "c")


def test_declared_trials_win_and_are_parsed() -> None:
    assert Quirk("cap", None, "", "", positive_int_or_off, trials=("100", 250)).alternatives == (100, 250)
    with pytest.raises(ValueError, match="whole number"):
        _ = Quirk("cap", None, "", "", positive_int_or_off, trials=("lots",)).alternatives


def test_a_number_without_trials_offers_nothing() -> None:
    assert Quirk("cap", None, "", "", positive_int_or_off).alternatives == ()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_sandbox_quirk_offers_values_other_than_its_default(service: str) -> None:
    for quirk in sandbox_class(service).declared_quirks:
        assert quirk.alternatives, f"{service} {quirk.name}: declare trials="
        assert quirk.default not in quirk.alternatives
        for value in quirk.alternatives:
            assert quirk.parse(value) == value
