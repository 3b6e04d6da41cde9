"""quiet_gc: what exists when a stream run starts is left out of collections until the run ends."""

from __future__ import annotations

import gc

from connector.sync.heap import quiet_gc


def test_objects_are_frozen_inside_and_collectable_again_after() -> None:
    before = gc.get_threshold()
    with quiet_gc():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_an_exception_in_the_block_still_unfreezes() -> None:
    try:
        with quiet_gc():
            raise RuntimeError("page failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0


def test_a_cycle_that_existed_before_and_died_during_the_run_is_collected_after() -> None:
    class Node:
        partner: object = None

    a, b = Node(), Node()
    a.partner, b.partner = b, a
    gc.collect()
    with quiet_gc():
        del a, b  # garbage now, but frozen: no collection inside the run can free it
        assert gc.collect() == 0
    assert gc.collect() >= 2  # unfrozen when the run ended
