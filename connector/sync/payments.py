"""Payments made in Procurify become QuickBooks BillPayments (issue 15).

Procurify's public payments list is polled by `updated_at` (keyset, overlap, de-duplicated). A
`paid` payment of bills we wrote becomes one BillPayment, exactly once (ExternalRecord "payment"
keyed on the payment uuid, the writer's request id and PrivateNote marker lookup). A payment that
leaves `paid` (failed or denied: a reversal) has its BillPayment deleted, audited, so the bill is
open again. A payment we cannot record yet is held with a sentence and what it waits on: the bill
(written on a later run), or an account for its payment method (saving that mapping releases it).
Facts relied on: docs/procurify-facts.md "Payments", docs/qbo-facts.md "Bill payments".
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.errors import ConnectorError, Permanent, RecordHeld
from connector.hold_reasons import QBO_SIDE, ReasonCode
from connector.kinds import RecordKind
from connector.models import ExternalRecord, HeldRecord
from connector.money import format_money
from connector.procurify.schemas import BillSummary, MalformedRecord, Payment
from connector.sync import cursors, holds
from connector.sync.audit import RecordAudit
from connector.sync.context import FAILED, HELD, SKIPPED, Context, hold_record
from connector.sync.cursor_store import load_cursor, save_cursor
from connector.sync.transform import Held, Plan
from mappings import payment_accounts
from mappings.models import PaymentAccountMapping, QBOAccount

log = logging.getLogger(__name__)
STREAM = "payments"
PAID = "paid"
DELETED = "deleted"
PAY_TYPES = {"Bank": ("Check", "CheckPayment", "BankAccountRef"),
             "Credit Card": ("CreditCard", "CreditCardPayment", "CCAccountRef")}  # fmt: skip


def marker(uuid: str) -> str:
    return f"procurify:payment:{uuid}"


def method_of(payment: Payment) -> str:
    """The mapping key: the rail (ACH, PAPER_CHECK, …), or the source type when there is none
    (a payment made outside Procurify has no rail)."""
    raw = payment.vendor_payment_method_rail or payment.payment_source_type or "unknown"
    return raw.strip().upper().replace(" ", "_")[:40]


def money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)  # the one money format of every page and e-mail


# ---- the step ------------------------------------------------------------------------------------


def sync_payments(ctx: Context) -> None:
    """Poll payments updated since the cursor; then retry held payments the poll did not list."""
    cursor = load_cursor(ctx.organisation, STREAM)
    start = cursors.read_start(cursor.value, signpost=ctx.signpost)
    waiting = _held_payment_ids(ctx)
    poll = cursors.Keyset(
        lambda low, high, number, _by_id: ctx.procurify.payments_page(low, high, page=number),
        low=start,
        high=cursors.read_end(ctx.signpost),
        stamp=lambda row: row.updated_at if isinstance(row, Payment) else None,
        identity=_identity,
        after=cursors.next_microsecond,
    )
    for row in poll:
        if isinstance(row, cursors.Mark):
            # Each payment is handled synchronously before the next: everything before the mark is durable.
            save_cursor(cursor, cursors.advance(cursor.value, [row.value], ctx.signpost))
            continue
        if isinstance(row, MalformedRecord):
            key = row.record_id or "malformed"
            ctx.count(
                RecordKind.PAYMENT,
                hold_record(ctx, RecordKind.PAYMENT, key, row.held("Procurify payment"), f"Payment {key}"),
            )
            continue
        waiting.pop(row.uuid, None)
        ctx.count(RecordKind.PAYMENT, _isolated(ctx, row))
    ids = sorted(int(i) for i in waiting.values() if i.isdigit())
    if ids:
        for row in ctx.procurify.payments_by_id(ids):
            if isinstance(row, Payment):
                ctx.count(RecordKind.PAYMENT, _isolated(ctx, row))


def _identity(row: Payment | MalformedRecord) -> Hashable:
    if isinstance(row, MalformedRecord):
        return ("malformed", row.record_id, str(row.raw)[:200])
    return (row.uuid, row.updated_at, row.status)


def _held_payment_ids(ctx: Context) -> dict[str, str]:
    """uuid → Procurify payment id of the open payment holds worth re-reading now, without HTTP: released
    ones (a mapping was saved), those whose bills are now written or whose account is now chosen, and
    QuickBooks-side refusals after their cooldown. The rest change only when the payment does."""
    rows = HeldRecord.objects.filter(organisation=ctx.organisation, object_type=RecordKind.PAYMENT).exclude(
        state=HeldRecord.State.RESOLVED
    )
    return {
        r.procurify_id: str((r.detail or {}).get("payment_id", "")) for r in rows if _worth_retrying(ctx, r)
    }


def _worth_retrying(ctx: Context, row: HeldRecord) -> bool:
    if row.state == HeldRecord.State.RELEASED:
        return True
    if row.reason_code in QBO_SIDE:
        return row.last_held_at <= timezone.now() - holds.QBO_SIDE_COOLDOWN
    if row.reason_code == ReasonCode.PAYMENT_WAITING_FOR_BILL:
        bills = [u for u in (row.detail or {}).get("bills", "").split(",") if u]
        written = ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type=RecordKind.BILL, procurify_id__in=bills
        ).exclude(qbo_id="")
        return not bills or written.count() == len(bills)
    if row.waiting_on_type == payment_accounts.WAITING_ON:
        return PaymentAccountMapping.objects.filter(
            organisation=ctx.organisation,
            method=row.waiting_on_key,
            qbo_account_id__gt="",
            decided_at__gt=row.last_held_at,
        ).exists()
    return False


def _hold(ctx: Context, uuid: str, exc: RecordHeld, label: str) -> str:
    """Hold a payment; the same hold re-read unchanged (the poll's overlap) is left alone: no new
    audit event, no new "newly held" alert."""
    same = HeldRecord.objects.filter(
        organisation=ctx.organisation,
        object_type=RecordKind.PAYMENT,
        procurify_id=uuid,
        state=HeldRecord.State.HELD,
        reason_code=exc.reason_code,
        message=exc.message,
    )
    if same.exists():
        return HELD
    return hold_record(ctx, RecordKind.PAYMENT, uuid, exc, label)


def _isolated(ctx: Context, payment: Payment) -> str:
    """One payment's unexpected failure holds that payment; the run goes on."""
    try:
        return process_payment(ctx, payment)
    except ConnectorError:
        raise
    except Exception as exc:
        log.exception("payment %s failed", payment.uuid)
        detail = f"An unexpected error ({type(exc).__name__}) stopped this payment; we have been notified."
        hold_record(
            ctx, RecordKind.PAYMENT, payment.uuid, Held("sync_failed", detail=detail), f"Payment {payment.id}"
        )
        return FAILED


# ---- one payment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidBill:
    uuid: str
    label: str
    qbo_id: str
    currency: str
    total: Decimal | None
    exchange_rate: str | None


def process_payment(ctx: Context, payment: Payment) -> str:
    audit = ctx.audit.for_record(RecordKind.PAYMENT, payment.uuid)
    audit("read", f"Read Procurify payment {payment.id} ({payment.status}, {payment.amount}).", payment)
    record = ExternalRecord.objects.filter(
        organisation=ctx.organisation, object_type=RecordKind.PAYMENT, procurify_id=payment.uuid
    ).first()
    if payment.status != PAID:
        if record is not None:
            return _reverse(ctx, payment, record, audit)
        holds.resolve(
            ctx.organisation, RecordKind.PAYMENT, payment.uuid
        )  # nothing to record (failed, processing, …)
        return SKIPPED
    try:
        plan, bills = _plan(ctx, payment)
        result = ctx.writer.write(RecordKind.PAYMENT, payment.uuid, plan, audit)
    except RecordHeld as exc:
        label = getattr(exc, "params", {}).get("bill", f"payment {payment.id}")
        return _hold(ctx, payment.uuid, exc, f"Payment {payment.id} for {label}")
    record = result.record
    record.extra = {**(record.extra or {}), "bills": [b.uuid for b in bills], "payment_id": payment.id}
    record.save(update_fields=["extra", "updated_at"])
    holds.resolve(ctx.organisation, RecordKind.PAYMENT, payment.uuid)
    return result.outcome


def _plan(ctx: Context, payment: Payment) -> tuple[Plan, list[PaidBill]]:
    currency = payment.currency.name
    bills = _bills(ctx, payment)
    what = ", ".join(b.label for b in bills) or f"bill group {', '.join(map(str, payment.bill_groups))}"
    base: dict[str, Any]  # Held(**base): Any, or mypy matches these against Held's own keywords
    base = {"amount": money(payment.amount, currency), "bill": what, "payment_id": str(payment.id),
            "bills": ",".join(b.uuid for b in bills)}  # fmt: skip
    unwritten = [b for b in bills if not b.qbo_id]
    if not bills or unwritten:
        key = unwritten[0].uuid if unwritten else ""
        raise Held("payment_waiting_for_bill", waiting_on=("bill", key), **base)
    for bill in bills:
        if bill.currency != currency:
            raise Held(
                "payment_currency_mismatch", payment_currency=currency, bill_currency=bill.currency, **base
            )
    when = _payment_date(payment)
    if when is None:
        raise Held("payment_date_missing", **base)
    method = method_of(payment)
    account = _account(ctx, method, base)
    amounts = _amounts(payment, bills, base)
    vendor_id = _vendor(ctx, bills[0], base)
    pay_type, detail, ref = PAY_TYPES[account.account_type]
    note = (
        f"Procurify payment {payment.id} by {payment_accounts.method_label(method)}. {marker(payment.uuid)}"
    )
    payload: dict[str, Any] = {
        "VendorRef": {"value": vendor_id},
        "PayType": pay_type,
        detail: {ref: {"value": account.qbo_id}},
        "TxnDate": when.isoformat(),
        "CurrencyRef": {"value": currency},
        "TotalAmt": payment.amount,
        "Line": [
            {"Amount": amounts[b.uuid], "LinkedTxn": [{"TxnId": b.qbo_id, "TxnType": "Bill"}]} for b in bills
        ],
        "PrivateNote": note,
    }
    home = ctx.mappings.books.home_currency
    if home and currency != home and bills[0].exchange_rate:
        payload["ExchangeRate"] = Decimal(bills[0].exchange_rate)  # the bill's own rate, never a guess
    label = f"Payment {payment.id} for {what}"
    return Plan("BillPayment", payload, label, marker(payment.uuid), vendor_id, None), bills


def _bills(ctx: Context, payment: Payment) -> list[PaidBill]:
    summaries: dict[str, BillSummary] = {}
    for group in payment.bill_groups:
        for row in ctx.procurify.bills_in_group(group):
            if isinstance(row, BillSummary):
                summaries[row.uuid] = row
    records = {
        r.procurify_id: r
        for r in ExternalRecord.objects.filter(
            organisation=ctx.organisation, object_type=RecordKind.BILL, procurify_id__in=list(summaries)
        ).exclude(qbo_id="")
    }
    out = []
    for uuid, row in sorted(summaries.items(), key=lambda item: item[1].id):
        record = records.get(uuid)
        out.append(
            PaidBill(
                uuid=uuid,
                label=f"bill {row.invoice_number or row.id}",
                qbo_id=record.qbo_id if record else "",
                currency=row.currency.name if row.currency else "",
                total=row.total_cost_with_tax,
                exchange_rate=(record.extra or {}).get("exchange_rate") if record else None,
            )
        )
    return out


def _payment_date(payment: Payment) -> date | None:
    if payment.posted_date:
        return payment.posted_date
    try:
        return date.fromisoformat(payment.processing_date[:10]) if payment.processing_date else None
    except ValueError:
        return None


def _account(ctx: Context, method: str, base: dict[str, Any]) -> QBOAccount:
    row = payment_accounts.seen_method(ctx.organisation, method)
    PaymentAccountMapping.objects.filter(pk=row.pk).update(seen_at=timezone.now())
    kind = "bank or credit card account" if method == "EXTERNAL" else "bank account"
    params = {**base, "method": payment_accounts.method_label(method), "account_kind": kind}
    if not row.qbo_account_id:
        raise Held("payment_account_unmapped", waiting_on=(payment_accounts.WAITING_ON, method), **params)
    account = QBOAccount.objects.filter(organisation=ctx.organisation, qbo_id=row.qbo_account_id).first()
    if account is None or not account.active or account.account_type not in PAY_TYPES:
        params["account"] = row.qbo_account_name
        raise Held("payment_account_unusable", waiting_on=(payment_accounts.WAITING_ON, method), **params)
    return account


def _amounts(payment: Payment, bills: list[PaidBill], base: dict[str, Any]) -> dict[str, Decimal]:
    """One bill takes the whole amount (a partial payment applies only its amount). Several bills are
    paid in full only when the amount is their total: Procurify does not say how a payment splits."""
    if len(bills) == 1:
        return {bills[0].uuid: payment.amount}
    totals = [b.total for b in bills]
    if any(t is None for t in totals) or sum(t for t in totals if t is not None) != payment.amount:
        total = sum((t for t in totals if t is not None), Decimal(0))
        raise Held(
            "payment_split_unknown", count=str(len(bills)), total=money(total, payment.currency.name), **base
        )
    return {b.uuid: b.total for b in bills if b.total is not None}


def _vendor(ctx: Context, bill: PaidBill, base: dict[str, Any]) -> str:
    row = ExternalRecord.objects.get(
        organisation=ctx.organisation, object_type=RecordKind.BILL, procurify_id=bill.uuid
    )
    vendor = (row.extra or {}).get("attempt", {}).get("vendor")
    if not vendor:
        raise Held("payment_waiting_for_bill", waiting_on=("bill", bill.uuid), **base)
    return str(vendor)


# ---- reversal ------------------------------------------------------------------------------------


def _reverse(ctx: Context, payment: Payment, record: ExternalRecord, audit: RecordAudit) -> str:
    """The payment left `paid` after we recorded it: delete the BillPayment so the bill is open again."""
    if not record.qbo_id:
        # A create that did not finish (the worker died, the answer was lost): it may have landed.
        found = _find_unconfirmed(ctx, record, audit)
        if found:
            record.qbo_id = found
    if record.qbo_id:
        try:
            current = ctx.qbo.read("BillPayment", record.qbo_id)
            audit("request", f"Delete BillPayment {record.qbo_id}", {"SyncToken": str(current.SyncToken)})
            ctx.qbo.delete("BillPayment", record.qbo_id, str(current.SyncToken))
        except Permanent as exc:
            if not _gone(exc):
                held = Held("qbo_validation", detail=exc.message, payment_id=str(payment.id))
                return hold_record(ctx, RecordKind.PAYMENT, payment.uuid, held, record.label)
    with transaction.atomic():
        audit(
            "decision",
            f"Payment {payment.id} was {payment.status} in Procurify after it was recorded; deleted "
            f"BillPayment {record.qbo_id or '(never confirmed)'} in QuickBooks so the bill is open again.",
            {"action": "deleted_in_qbo", "qbo_id": record.qbo_id, "status": payment.status},
        )
        record.delete()  # paid again later, it is written afresh
        holds.resolve(ctx.organisation, RecordKind.PAYMENT, payment.uuid)
    return DELETED


def _find_unconfirmed(ctx: Context, record: ExternalRecord, audit: RecordAudit) -> str:
    """The writer's lookup by our PrivateNote marker among the vendor's BillPayments (docs/qbo-facts.md)."""
    vendor = str((record.extra or {}).get("attempt", {}).get("vendor") or "")
    if not vendor:
        return ""
    plan = Plan("BillPayment", {}, record.label, marker(record.procurify_id), vendor, None)
    found = ctx.writer._lookup(plan, audit, record)
    return str(found.Id) if found is not None else ""


def _gone(exc: Permanent) -> bool:
    # Deleted in QuickBooks already (by a person, or by us before a crash): 610 / 404 Object Not Found.
    return exc.status == 404 or exc.code in ("610",) or "not found" in exc.message.lower()


# ---- what the bill page shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class BillPaymentState:
    recorded: list[ExternalRecord]
    waiting: list[HeldRecord]


def payments_of_bill(organisation: Any, bill_uuid: str) -> BillPaymentState:
    recorded = [
        r
        for r in ExternalRecord.objects.filter(organisation=organisation, object_type=RecordKind.PAYMENT)
        if bill_uuid in (r.extra or {}).get("bills", [])
    ]
    waiting = list(
        HeldRecord.objects.for_org(organisation)
        .open()
        .filter(object_type=RecordKind.PAYMENT, detail__bills__contains=bill_uuid)
    )
    return BillPaymentState(recorded, waiting)
