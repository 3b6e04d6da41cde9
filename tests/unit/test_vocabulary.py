"""One vocabulary: the domain's enums are the only spelling of outcomes, run statuses and outbox statuses."""

from __future__ import annotations

from connector.domain import PushOutcome, RunStatus
from connector.observability import metrics


def test_the_metrics_closed_sets_are_the_domain_vocabulary() -> None:
    # metrics.py imports nothing from the connector, so it spells these out; they must not drift.
    assert {o.value for o in PushOutcome if o is o.counted} == metrics.PUSH_OUTCOMES
    assert {s.value for s in RunStatus if s is not RunStatus.RUNNING} == metrics.RUN_STATUSES
    assert {s.value for s in RunStatus if s.succeeded} == metrics._SUCCEEDED


def test_a_deferral_that_stops_the_drain_counts_as_a_deferral() -> None:
    assert PushOutcome.DEFERRED_STOP.counted is PushOutcome.DEFERRED
    assert PushOutcome.DONE.counted is PushOutcome.DONE
    assert f"{PushOutcome.DEFERRED_STOP}" == "deferred-stop"  # StrEnum: the wire and database spelling
