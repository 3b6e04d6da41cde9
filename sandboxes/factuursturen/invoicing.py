"""Building invoices and drafts from a client and lines, and booking payments on them (no locking, no HTTP)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sandboxes.factuursturen.records import (
    CLIENT_SNAPSHOT,
    ZERO,
    Client,
    Draft,
    HistoryItem,
    Invoice,
    Line,
    Snapshot,
    compute_totals,
    round2,
)

__all__ = ["PAYMENT_CONDITION", "PAYMENT_TEXT", "SENT_TEXT", "add_payment", "build_draft", "build_invoice",
           "number_for", "snapshot"]

PAYMENT_TEXT = "Betaling ontvangen"
SENT_TEXT = {"email": "Factuur verstuurd via e-mail", "mail": "Factuur verstuurd",
             "printcenter": "Factuur verstuurd via printcenter"}
PAYMENT_CONDITION = ("U wordt vriendelijk verzocht de betaling te voldoen binnen %PAYMENT_PERIOD% dagen "
                     "o.v.v. het factuurnummer %INVOICE_NUMBER%.")


def number_for(year: int, seq: int) -> tuple[int, str]:
    """(id, invoicenr) for a year's sequence number: (20250001, "F20250001")."""
    digits = f"{year}{seq:04d}"
    return int(digits), f"F{digits}"


def snapshot(client: Client) -> Snapshot:
    """The client fields an invoice keeps as they were when it was made (as wire strings)."""
    return Snapshot(*(str(getattr(client, name)) for name in CLIENT_SNAPSHOT))


def _payment_url(invoice_id: int) -> str:
    """A stable, opaque-looking payment link (a multiplicative hash of the id, cheap to make)."""
    return f"https://www.factuursturen.nl/pay?{invoice_id * 0x9E3779B97F4A7C15 % (1 << 64):016x}"


def build_invoice(*, number: tuple[int, str], seq: int, client: Client, lines: list[Line], sent: str,
                  time: str, sendmethod: str, snap: Snapshot | None = None, paymentperiod: int | None = None,
                  profile: int = 1,
                  discounttype: str | None = None, discount: Decimal | None = None,
                  paymentcondition: str | None = None, reference: dict[str, str] | None = None,
                  invoicenote: str = "") -> Invoice:
    """A freshly sent invoice: totals computed, client snapshot taken, one "sent" history item.

    The client's standard discount applies when the invoice names no discount of its own.
    """
    period = client.top if paymentperiod is None else paymentperiod
    if discount is None:
        discount, discounttype = client.stddiscount, "percentage"
    kind = discounttype or "percentage"
    taxes, tax, total = compute_totals(lines, kind, discount)
    due = (date.fromisoformat(sent) + timedelta(days=period)).isoformat()
    return Invoice(
        id=number[0], invoicenr=number[1], seq=seq, clientnr=client.clientnr,
        snapshot=snap if snap is not None else snapshot(client), lines=lines, sent=sent, duedate=due,
        paymentperiod=period, taxes=taxes, tax=tax, totalintax=total,
        open=total, profile=profile, discounttype=kind, discount=discount,
        paymentcondition=PAYMENT_CONDITION if paymentcondition is None else paymentcondition,
        collection=client.paymentmethod == "autocollect", invoicenote=invoicenote,
        reference=dict(reference) if reference else client.reference, payment_url=_payment_url(number[0]),
        tax_type=client.tax_type, language=client.default_doclang or "nl", tax_shifted=client.tax_shifted,
        sendmethod=sendmethod, history=[HistoryItem(sent, time, SENT_TEXT.get(sendmethod, "Factuur verstuurd"))],
    )


def add_payment(invoice: Invoice, amount: Decimal | str, on: str, time: str) -> Decimal:
    """Book a payment ("full" = the invoice total including tax); returns the amount booked.

    `open` may go negative (over-payment); `paiddate` becomes this payment's date.
    """
    value = invoice.totalintax if amount == "full" else round2(Decimal(amount))
    invoice.paid += value
    invoice.open = invoice.totalintax - invoice.paid
    invoice.paiddate = on
    invoice.history.append(HistoryItem(on, time, PAYMENT_TEXT, value))
    return value


def build_draft(*, kind: str, draft_id: int, name: str, client: Client, lines: list[Line], today: str,
                profile: int = 1, discounttype: str | None = None, discount: Decimal | None = None,
                paymentcondition: str | None = None, paymentperiod: int | None = None,
                reference: dict[str, str] | None = None, sendmethod: str = "",
                alreadypaid: Decimal = ZERO, alreadypaidmethod: str = "",
                repeat: dict[str, str] | None = None) -> Draft:
    """A saved (``kind="saved"``) or repeating (``kind="repeated"``) invoice."""
    if discount is None:
        discount, discounttype = client.stddiscount, "percentage"
    kind_of_discount = discounttype or "percentage"
    taxes, _, total = compute_totals(lines, kind_of_discount, discount)
    gross = sum((line.linetotal for line in lines if line.amount is not None), ZERO)
    base = sum((t.sum_of for t in taxes), ZERO)
    draft = Draft(
        id=draft_id, kind=kind, name=name, clientnr=client.clientnr, snapshot=snapshot(client), lines=lines,
        totalintax=total, totaldiscount=gross - base, datesaved=today,
        profile=profile, discounttype=kind_of_discount, discount=discount,
        paymentcondition=PAYMENT_CONDITION if paymentcondition is None else paymentcondition,
        paymentperiod=client.top if paymentperiod is None else paymentperiod,
        reference=dict(reference) if reference else dict(client.reference), sendmethod=sendmethod,
        alreadypaid=alreadypaid, alreadypaidmethod=alreadypaidmethod,
    )
    if repeat:
        draft.initialdate = repeat["initialdate"]
        draft.nextsenddate = max(repeat["initialdate"], today)
        draft.finalsenddate = repeat.get("finalsenddate", "")
        draft.frequency = repeat["frequency"]
        draft.repeattype = repeat["repeattype"]
    return draft
