"""One vocabulary: the domain's enums are the only spelling of outcomes, run statuses and outbox statuses.

The checker reads every module under connector/ (AST, nothing imported) and reports a bare literal of that
vocabulary where code decides or records something with it: compared (``==``, ``!=``, ``in``), assigned to a
``status``/``outcome`` name or attribute, passed as a ``status=``/``outcome=`` argument, put under a ``"status"``
key, returned from a function that returns a `PushOutcome`, `RunStatus` or `JobStatus`, or listed in a
tuple, list or set of nothing but such words. Docstrings, log
messages and dictionary keys of counters are not decisions and are not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

from connector.domain import JobStatus, OutboxStatus, PushOutcome, RunStatus
from connector.observability import metrics

ROOT = Path(__file__).resolve().parents[2] / "connector"

VOCABULARY = frozenset(
    m.value for enum in (PushOutcome, RunStatus, OutboxStatus, JobStatus) for m in enum
) - {"ok"}  # "ok" is also the health endpoint's word (`observability.health`): checked where it is a run status
"""Every spelling the enums own. ``ok`` is checked only in assignments to a run/job ``status``."""

# Where the vocabulary may be spelled out: its definition, the migrations that created the columns, and the
# metrics module, which imports nothing from the connector (its closed sets are held equal to the enums below).
# Providers speak their service's words (a resume cursor's ``"done"`` part is Hydra's, not the drain's).
EXEMPT = ("domain.py", "store/migrations/", "observability/metrics.py", "providers/")

_NAMES = ("status", "outcome")


def _vocab(node: ast.AST | None, *, with_ok: bool = False) -> list[str]:
    """The vocabulary literals `node` is, or holds as a tuple/list/set element or an if-expression branch."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in VOCABULARY or (with_ok and node.value == "ok") else []
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for elt in node.elts for v in _vocab(elt, with_ok=with_ok)]
    if isinstance(node, ast.IfExp):
        return _vocab(node.body, with_ok=with_ok) + _vocab(node.orelse, with_ok=with_ok)
    return []


def _named(target: ast.AST) -> bool:
    name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
    return any(name == n or name.endswith("_" + n) for n in _NAMES)


def _returns_vocabulary(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    annotation = ast.unparse(func.returns) if func.returns is not None else ""
    return any(name in annotation for name in ("PushOutcome", "RunStatus", "JobStatus"))


def bare_literals(source: str) -> list[tuple[int, str]]:
    """(line, literal) for each bare vocabulary literal `source` decides or records something with."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        hits: list[str] = []
        if isinstance(node, ast.Compare):
            hits = [v for side in (node.left, *node.comparators) for v in _vocab(side)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    hits += [v for t, value in zip(target.elts, node.value.elts, strict=False) if _named(t)
                             for v in _vocab(value, with_ok=True)]
                elif _named(target):
                    hits += _vocab(node.value, with_ok=True)
        elif isinstance(node, ast.keyword) and node.arg in _NAMES:
            hits = _vocab(node.value, with_ok=True)
        elif isinstance(node, ast.Dict):
            hits = [v for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant) and key.value in _NAMES for v in _vocab(value)]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) > 1 and all(
            isinstance(elt, ast.Constant) and isinstance(elt.value, str) for elt in node.elts
        ):  # a collection of nothing but vocabulary words: a set of statuses spelled out
            words = _vocab(node, with_ok=True)
            hits = words if len(words) == len(node.elts) else []
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _returns_vocabulary(node):
            found += [(inner.lineno, v) for inner in ast.walk(node) if isinstance(inner, ast.Return)
                      for v in _vocab(inner.value, with_ok=True)]
        found += [(getattr(node, "lineno", 0), v) for v in hits]
    return sorted(set(found))


def _checked_modules() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py"))
            if not any(part in p.relative_to(ROOT).as_posix() for part in EXEMPT)]


def test_no_bare_outcome_or_status_literal_outside_the_domain() -> None:
    bad = [f"{path.relative_to(ROOT)}:{line}: {value!r}"
           for path in _checked_modules() for line, value in bare_literals(path.read_text(encoding="utf-8"))]
    assert bad == [], "use the enums in connector.domain:\n" + "\n".join(bad)


def test_the_vocabulary_checker_can_fail() -> None:
    source = '''
def drain(row, report) -> PushOutcome:
    """Returns "done" (a docstring is not code)."""
    if row["status"] == "pending":
        report.status = "running"
    set_row(row, status="superseded")
    totals = {"failed": 0}
    status, error = "ok", None
    result = {"status": "interrupted"}
    log.info("done")
    if outcome in ("deferred-stop", "x"):
        return "done"
    shown = reports.outbox_rows(conn, ("pending", "failed"))
    return PushOutcome.DONE
'''
    assert bare_literals(source) == [
        (4, "pending"), (5, "running"), (6, "superseded"), (8, "ok"), (9, "interrupted"),
        (11, "deferred-stop"), (12, "done"), (13, "failed"), (13, "pending"),
    ]
    assert bare_literals('status = RunStatus.OK\nif health["state"] == "ok":\n    pass\n') == []


def test_the_metrics_closed_sets_are_the_domain_vocabulary() -> None:
    # metrics.py imports nothing from the connector, so it spells these out; they must not drift.
    assert {o.value for o in PushOutcome if o is o.counted} == metrics.PUSH_OUTCOMES
    assert {s.value for s in RunStatus if s is not RunStatus.RUNNING} == metrics.RUN_STATUSES
    assert {s.value for s in RunStatus if s.succeeded} == metrics._SUCCEEDED


def test_a_deferral_that_stops_the_drain_counts_as_a_deferral() -> None:
    assert PushOutcome.DEFERRED_STOP.counted is PushOutcome.DEFERRED
    assert PushOutcome.DONE.counted is PushOutcome.DONE
    assert f"{PushOutcome.DEFERRED_STOP}" == "deferred-stop"  # StrEnum: the wire and database spelling
