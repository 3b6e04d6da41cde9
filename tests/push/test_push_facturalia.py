"""Push, end to end: invoices pulled from FactuurSturen reach Facturalia exactly once, over real sockets."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from connector.app import App
from connector.store.tables import Invoice, Link, Outbox
from tests.facturalia.harness import FacturaliaHarness
from tests.support import FsSandbox, make_app, seed_until_yesterday


def _app(database_url: str, fs: FsSandbox, fac: FacturaliaHarness) -> App:
    return make_app(database_url, fs.connection("fs"), fac.connection("fa", receives=["invoice"]))


def _outbox(app: App) -> list[dict[str, object]]:
    with app.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(Outbox.__table__)).mappings()]  # type: ignore[attr-defined]


def test_invoices_reach_facturalia_once_and_a_rerun_pushes_nothing(
    database_url: str, fs: FsSandbox, fac: FacturaliaHarness
) -> None:
    seed_until_yesterday(fs, days=60, seed=5, clients=6, invoices=14)
    app = _app(database_url, fs, fac)
    app.sync("fs")

    fs.clear_requests()
    plan = app.push_plan("fa")["fa"]
    assert fac.requests() == [] and fs.requests() == [], "a dry run calls no service"
    assert {line.plan.operation for line in plan} == {"create"}
    assert len(plan) == 14
    assert _outbox(app) == [], "a dry run writes nothing"

    [result] = app.push("fa")
    drained = result.drain
    assert drained is not None
    assert drained.done + drained.failed == 14
    created = fac.state()["invoices"]
    assert len(created) == drained.done
    failed = [r for r in _outbox(app) if r["status"] == "failed"]
    assert len(failed) == drained.failed
    for row in failed:  # NL 9 % VAT or a line discount: Facturalia cannot take them, refused before sending
        assert "vat_rate" in str(row["last_error"]) or "discount_percent" in str(row["last_error"])
    assert drained.failed > 0 and len(fac.requests()) == drained.done, "refusals cost no request"

    # Net totals at Facturalia equal the canonical subtotals exactly. VAT may differ by rounding: FactuurSturen
    # rounds per rate, Facturalia per line, so at most half a cent per line either way.
    with app.engine.connect() as conn:
        pushed = {
            remote_id: (subtotal, total)
            for remote_id, subtotal, total in conn.execute(
                select(Link.remote_id, Invoice.subtotal_minor, Invoice.total_minor)  # type: ignore[call-overload]
                .join(Invoice, Invoice.id == Link.entity_id)
                .where(Link.connection == "fa", Link.entity_kind == "invoice")
            )
        }
    assert len(pushed) == drained.done
    for invoice in created:
        subtotal, total = pushed[str(invoice["response"]["id"])]
        totals = invoice["response"]["totals"]
        assert int(Decimal(str(totals["excl"])) * 100) == subtotal
        assert abs(int(Decimal(str(totals["incl"])) * 100) - total) <= len(invoice["request"]["lines"])

    before = len(fac.requests())
    [again] = app.push("fa")
    assert again.queued == 0, "the failed versions stay failed until `connector outbox retry`"
    assert again.planned == drained.failed
    assert len(fac.requests()) == before, "nothing left to push"
    assert len(fac.state()["invoices"]) == drained.done


def test_a_change_facturalia_cannot_take_is_unsupported_and_never_sent(
    database_url: str, fs: FsSandbox, fac: FacturaliaHarness
) -> None:
    seed_until_yesterday(fs, days=30, seed=8, clients=3, invoices=4)
    app = _app(database_url, fs, fac)
    app.sync("fs")
    app.push("fa")
    pushed_ids = {r["entity_id"] for r in _outbox(app) if r["status"] == "done"}
    assert pushed_ids
    open_one = next(
        i for i in fs.state()["invoices"] if Decimal(str(i["open"])) > 0 and _entity_of(app, str(i["id"])) in pushed_ids
    )
    requests_before = len(fac.requests())
    fs.act("register_payment", invoice=open_one["id"], amount="1.00")
    app.sync("fs")
    [paid] = app.push("fa")
    assert paid.queued == 0, "a payment changes nothing Facturalia has a field for"
    # The invoice's due date changes at FactuurSturen (shown on the wire as if edited in its web app).
    fs.act("corrupt_invoice", invoice=open_one["id"], field="duedate", value="2031-01-31")
    app.sync("fs")
    app.push("fa")
    unsupported = [r for r in _outbox(app) if r["status"] == "unsupported"]
    assert len(unsupported) == 1
    assert "cannot update" in str(unsupported[0]["last_error"])
    assert len(fac.requests()) == requests_before
    app.push("fa")
    assert len([r for r in _outbox(app) if r["status"] == "unsupported"]) == 1, "never queued twice"


def _entity_of(app: App, remote_id: str) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(
                select(Link.entity_id).where(  # type: ignore[call-overload]
                    Link.connection == "fs", Link.entity_kind == "invoice", Link.remote_id == remote_id
                )
            ).scalar_one()
        )
