"""quiet_gc: fewer collections while stream runs are in progress, and the collector as it was afterwards."""

from __future__ import annotations

import gc
import threading

from connector.sync.heap import YOUNG_THRESHOLD, quiet_gc


def test_thresholds_come_back_when_the_last_of_overlapping_runs_ends() -> None:
    before = gc.get_threshold()
    first = quiet_gc()
    first.__enter__()
    assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    assert gc.get_freeze_count() > 0  # what existed when the run started is left out of collections
    with quiet_gc():  # a second run overlaps the first and ends before it
        pass
    assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
    first.__exit__(None, None, None)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_runs_in_threads_restore_the_thresholds_and_unfreeze() -> None:
    before = gc.get_threshold()
    inside = threading.Barrier(4)

    def run() -> None:
        with quiet_gc():
            inside.wait(timeout=60)  # all four are in their block at once (generous: a loaded machine)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_disabled_automatic_collection_stays_disabled() -> None:
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with quiet_gc():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_an_exception_in_the_block_still_restores_everything() -> None:
    before = gc.get_threshold()
    try:
        with quiet_gc():
            raise RuntimeError("page failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


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
