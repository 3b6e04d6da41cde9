"""Seeded push trials: killed pushes and answers dropped after the target committed leave every source record
at the target exactly once (one trial per target here; bench/chaos.py --push runs campaigns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.push import push_trial
from tests.chaos.services import Service


@pytest.mark.parametrize(("target", "seed"), [("fastfaktura", 2), ("facturalia", 1), ("hydra", 1)])
def test_killed_pushes_through_dropped_answers_make_each_record_once(target: str, seed: int,
                                                                   services: dict[str, Service],
                                                                   tmp_path: Path) -> None:
    result = push_trial(services["source"], services[target], seed, f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    assert result.ok, result.report()
