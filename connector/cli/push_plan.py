"""`connector push --dry-run`: the plan printed line by line, summarised (`--summary`), or as JSON (`--json`).

Each planned push is classified by what it would do: create, update, archive, unsupported (the target cannot
take it; the reason says why) or "would fail" (mapping it for the target fails; the reason is the mapping
error). A push that would fail is counted as such, never as the create or update it was planned as.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from connector.domain import PushOperation

__all__ = [
    "WOULD_FAIL",
    "PlanLine",
    "PlanSummary",
    "PlannedPush",
    "classify",
    "plan_json",
    "print_plan",
    "print_summary",
    "summarise",
]

class PlannedPush(Protocol):
    """What a planned push says of itself (the planner's `PlannedPush`)."""

    @property
    def kind(self) -> str: ...
    @property
    def entity_id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def operation(self) -> str: ...
    @property
    def remote_id(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...


class PlanLine(Protocol):
    """One line of the dry run (the push runner's `PlanLine`): the push, its field diff, a note."""

    @property
    def plan(self) -> PlannedPush: ...
    @property
    def diff(self) -> dict[str, tuple[Any, Any]]: ...
    @property
    def note(self) -> str | None: ...


WOULD_FAIL = "would fail"
_FAIL_NOTE = "would fail: "
SHOWN_REASONS = 10


def classify(line: PlanLine) -> tuple[str, str | None]:
    """The operation a planned push would end as, and its reason when it would fail or is unsupported."""
    if line.note and line.note.startswith(_FAIL_NOTE):
        return WOULD_FAIL, line.note.removeprefix(_FAIL_NOTE)
    if line.plan.operation == PushOperation.UNSUPPORTED:
        return PushOperation.UNSUPPORTED, line.plan.reason or line.note or "unsupported"
    return line.plan.operation, None


@dataclass
class PlanSummary:
    """One target's plan in counts: per kind and operation, and the reasons per failing operation."""

    target: str
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # kind -> operation -> pushes
    reasons: dict[str, Counter[str]] = field(default_factory=dict)  # operation -> reason -> pushes

    @property
    def totals(self) -> Counter[str]:
        """Pushes per operation over every kind."""
        total: Counter[str] = Counter()
        for per_kind in self.counts.values():
            total.update(per_kind)
        return total


def summarise(target: str, lines: Sequence[PlanLine]) -> PlanSummary:
    """Count a target's planned pushes by kind and operation (failures as "would fail", with their reasons)."""
    summary = PlanSummary(target)
    for line in lines:
        operation, reason = classify(line)
        summary.counts.setdefault(line.plan.kind, Counter())[operation] += 1
        if reason is not None:
            summary.reasons.setdefault(operation, Counter())[reason] += 1
    return summary


def _counts_text(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {operation}" for operation, n in sorted(counts.items())) or "nothing to push"


def print_summary(plans: Mapping[str, Sequence[PlanLine]], out: TextIO) -> None:
    """Per target: the totals, a line per kind, and the most frequent reasons of failing and unsupported pushes."""
    for target, lines in plans.items():
        summary = summarise(target, lines)
        print(f"{target}: {_counts_text(summary.totals)} (dry run: no service was called)", file=out)
        for kind, counts in sorted(summary.counts.items()):
            print(f"  {kind:<8} {_counts_text(counts)}", file=out)
        for operation, reasons in sorted(summary.reasons.items()):
            print(f"  {operation} ({sum(reasons.values())}):", file=out)
            for reason, n in reasons.most_common(SHOWN_REASONS):
                print(f"    {n:>6}  {reason}", file=out)
            if len(reasons) > SHOWN_REASONS:
                print(f"    ... and {len(reasons) - SHOWN_REASONS} more reasons (--json lists them all)", file=out)


def print_plan(plans: Mapping[str, Sequence[PlanLine]], out: TextIO, short: Any) -> None:
    """Every planned push with its field diff, under its target's totals."""
    for target, lines in plans.items():
        print(f"{target}: {_counts_text(summarise(target, lines).totals)} (dry run: no service was called)",
              file=out)
        for line in lines:
            plan = line.plan
            operation, _reason = classify(line)
            where = f" -> {plan.remote_id}" if plan.remote_id else ""
            print(f"  {operation:<11} {plan.kind} {plan.entity_id} v{plan.version}{where}", file=out)
            if line.note:
                print(f"      {line.note}", file=out)
            for key, (before, after) in line.diff.items():
                print(f"      {key}: {short(before)} -> {short(after)}", file=out)


def plan_json(plans: Mapping[str, Sequence[PlanLine]], *, summary: bool) -> dict[str, Any]:
    """The dry run as JSON: per target its totals, counts per kind, reasons, and (unless `summary`) each push."""
    targets: dict[str, Any] = {}
    for target, lines in plans.items():
        digest = summarise(target, lines)
        item: dict[str, Any] = {
            "totals": dict(sorted(digest.totals.items())),
            "counts": {kind: dict(sorted(c.items())) for kind, c in sorted(digest.counts.items())},
            "reasons": {
                operation: [{"reason": reason, "count": n} for reason, n in reasons.most_common()]
                for operation, reasons in sorted(digest.reasons.items())
            },
        }
        if not summary:
            item["pushes"] = [_push_json(line) for line in lines]
        targets[target] = item
    return {"dry_run": True, "targets": targets}


def _push_json(line: PlanLine) -> dict[str, Any]:
    operation, reason = classify(line)
    plan = line.plan
    return {
        "operation": operation,
        "planned": plan.operation,
        "kind": plan.kind,
        "entity_id": plan.entity_id,
        "version": plan.version,
        "remote_id": plan.remote_id,
        "reason": reason,
        "note": line.note,
        "diff": {key: {"now": before, "sent": after} for key, (before, after) in line.diff.items()},
    }
