"""The reconciliation (issue 14): Procurify's approved total, what we wrote, what QuickBooks holds now,
per vendor, month and currency, to the cent; one document of each difference kind explains its row;
the CSV says the same in exact cents. Expected figures come from the sandbox's own data, not from us."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from decimal import Decimal

import pytest
from recon_support import DOMAIN, procurify_bill, sync

from connector.clients import qbo_client_for
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.reconcile import CHANGED_IN_QBO, DELETED_IN_QBO, HELD, NOT_SYNCED
from connector.sync.transform import SYNC_STATUSES
from sandbox import Sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.fixture
def four_differences(org_a, wired, sb: Sandbox) -> dict[str, dict]:
    """After a first sync: a bill held (seeded: account 6550 has no QuickBooks account), a bill approved
    since, a bill whose amount someone changed in QuickBooks, and a bill someone deleted there."""
    assert sync(org_a, sb).status == SyncRun.Status.SUCCEEDED
    held = procurify_bill(sb, "GLF-20931")
    assert (
        HeldRecord.objects.get(organisation=org_a, procurify_id=held["uuid"]).reason_code
        == "account_unmapped"
    )

    new = sb.procurify.add_bill(
        DOMAIN,
        vendor="Great Lakes Fasteners",
        invoice_number="GLF-NEW-1",
        invoice_date="2025-11-14",
        lines=[{"description": "Lock washers", "amount": "1234.56", "account_code": "6100"}],
    )

    changed = procurify_bill(sb, "OB-7781")
    link = ExternalRecord.objects.get(organisation=org_a, procurify_id=changed["uuid"])
    qbo_bill = next(b for b in sb.qbo.objects(wired, "Bill") if b["Id"] == link.qbo_id)
    lines = qbo_bill["Line"]
    lines[0] = {**lines[0], "Amount": float(Decimal(str(lines[0]["Amount"])) + Decimal("10.01"))}
    sb.qbo.edit_as_user(wired, "bill", link.qbo_id, Line=lines)

    deleted = procurify_bill(sb, "GLF-21007")
    gone = ExternalRecord.objects.get(organisation=org_a, procurify_id=deleted["uuid"])
    current = next(b for b in sb.qbo.objects(wired, "Bill") if b["Id"] == gone.qbo_id)
    qbo_client_for(org_a).delete("Bill", gone.qbo_id, current["SyncToken"])  # as a person would, in QBO
    return {HELD: held, NOT_SYNCED: new, CHANGED_IN_QBO: changed, DELETED_IN_QBO: deleted}


def _expected(org_a, sb: Sandbox, realm: str) -> tuple[dict, dict]:
    """Per (vendor, month, currency) and per currency: Procurify's approved total and QuickBooks' total of
    the bills we linked, straight from the sandbox's stores."""
    rows: dict[tuple, dict[str, Decimal]] = defaultdict(
        lambda: {"approved": Decimal(0), "in_qbo": Decimal(0)}
    )
    links = {
        r.procurify_id: r.qbo_id
        for r in ExternalRecord.objects.filter(organisation=org_a, object_type="bill").exclude(qbo_id="")
    }
    qbo = {b["Id"]: _money(b["TotalAmt"]) for b in sb.qbo.objects(realm, "Bill")}
    for bill in sb.procurify.bills(DOMAIN):
        approved = bill["status"] in SYNC_STATUSES
        if not approved and bill["uuid"] not in links:
            continue
        key = (bill["vendor"]["name"], bill["invoice_date"][:7], bill["currency"]["name"])
        if approved:
            rows[key]["approved"] += _money(bill["total_cost_with_tax"])
        rows[key]["in_qbo"] += qbo.get(links.get(bill["uuid"], ""), Decimal(0))
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"approved": Decimal(0), "in_qbo": Decimal(0)}
    )
    for (_, _, currency), row in rows.items():
        totals[currency]["approved"] += row["approved"]
        totals[currency]["in_qbo"] += row["in_qbo"]
    return rows, totals


def test_each_difference_is_explained_and_totals_agree_to_the_cent(
    org_a, owner, wired, sb, four_differences
) -> None:
    response = owner.client.get(f"/o/{org_a.public_id}/reconciliation/")
    assert response.status_code == 200
    result = response.context["result"]
    assert result is not None, response.context["error"]

    docs = {d.procurify_id: d for d in result.documents}
    for kind, bill in four_differences.items():
        assert docs[bill["uuid"]].kind == kind, bill["invoice_number"]

    held = docs[four_differences[HELD]["uuid"]]
    assert (held.approved, held.in_qbo) == (_money(four_differences[HELD]["total_cost_with_tax"]), 0)
    assert "6550" in held.reason
    new = docs[four_differences[NOT_SYNCED]["uuid"]]
    assert (new.approved, new.written, new.in_qbo, new.difference) == (
        Decimal("1234.56"),
        0,
        0,
        Decimal("1234.56"),
    )
    assert new.month == "2025-11"
    changed = docs[four_differences[CHANGED_IN_QBO]["uuid"]]
    assert changed.in_qbo - changed.written == Decimal("10.01")
    assert (
        changed.written == changed.approved == _money(four_differences[CHANGED_IN_QBO]["total_cost_with_tax"])
    )
    assert changed.difference == Decimal("-10.01")
    deleted = docs[four_differences[DELETED_IN_QBO]["uuid"]]
    assert deleted.in_qbo == 0 and deleted.written == deleted.approved == Decimal("953.00")

    # Every row and the grand totals, against the sandbox's own figures.
    rows, totals = _expected(org_a, sb, wired)
    got = {(r.vendor, r.month, r.currency): r for r in result.rows}
    assert set(got) == set(rows)
    for key, expected in rows.items():
        assert (got[key].approved, got[key].in_qbo) == (expected["approved"], expected["in_qbo"]), key
        explained = sum((d.difference for d in got[key].documents), Decimal(0))
        assert got[key].difference == explained, f"row {key} is not explained by its documents"
    assert {t.currency: (t.approved, t.in_qbo) for t in result.totals} == {
        c: (t["approved"], t["in_qbo"]) for c, t in totals.items()
    }
    usd = next(t for t in result.totals if t.currency == "USD")
    assert usd.difference == totals["USD"]["approved"] - totals["USD"]["in_qbo"] != 0

    # Approved but not in QuickBooks: the held, the new and the deleted bill, with their amounts.
    missing = {d.procurify_id: d.approved for d in result.not_in_qbo}
    for kind in (HELD, NOT_SYNCED, DELETED_IN_QBO):
        bill = four_differences[kind]
        assert missing[bill["uuid"]] == _money(bill["total_cost_with_tax"])
    assert four_differences[CHANGED_IN_QBO]["uuid"] not in missing

    links = ExternalRecord.objects.filter(organisation=org_a, object_type="bill").exclude(qbo_id="").count()
    assert result.qbo_reads == math.ceil(links / 100)
    page = response.content.decode()
    assert "GLF-NEW-1" in page and "1,234.56 USD" in page and "Deleted in QuickBooks" in page


def test_the_csv_says_the_same_in_exact_cents(org_a, owner, wired, sb, four_differences) -> None:
    page = owner.client.get(f"/o/{org_a.public_id}/reconciliation/").context["result"]
    response = owner.client.get(f"/o/{org_a.public_id}/reconciliation/csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    lines = list(csv.DictReader(io.StringIO(text)))

    amounts = ("approved_in_procurify", "written_to_quickbooks", "in_quickbooks_now", "difference")
    for line in lines:
        for column in amounts:
            whole, _, cents = line[column].lstrip("-").partition(".")
            assert whole.isdigit() and len(cents) == 2, (column, line[column])
    rows = [line for line in lines if line["section"] == "row"]
    assert [(r["vendor"], r["month"], r["currency"]) for r in rows] == [
        (r.vendor, r.month, r.currency) for r in page.rows
    ]
    for line, row in zip(rows, page.rows, strict=True):
        assert [Decimal(line[c]) for c in amounts] == [row.approved, row.written, row.in_qbo, row.difference]
    totals = {line["currency"]: line for line in lines if line["section"] == "total"}
    for total in page.totals:
        assert Decimal(totals[total.currency]["difference"]) == total.difference
    changed = next(line for line in lines if line["procurify_id"] == four_differences[CHANGED_IN_QBO]["uuid"])
    assert changed["difference"] == "-10.01" and changed["explanation"] == "Changed in QuickBooks"
    missing = [line for line in lines if line["section"] == "approved_not_in_quickbooks"]
    assert {line["procurify_id"] for line in missing} >= {
        four_differences[k]["uuid"] for k in (HELD, NOT_SYNCED, DELETED_IN_QBO)
    }


def test_the_printable_page_shows_every_row_with_its_currency(
    org_a, owner, wired, sb, four_differences
) -> None:
    response = owner.client.get(f"/o/{org_a.public_id}/reconciliation/?print=1")
    page = response.content.decode()
    assert response.status_code == 200 and "print.css" in page and "mainnav" not in page
    for row in response.context["result"].rows:
        assert f"{row.difference:,.2f} {row.currency}" in page


def test_links_written_before_amounts_were_kept_take_them_from_the_audit_trail(
    org_a, owner, wired, sb, four_differences
) -> None:
    url = f"/o/{org_a.public_id}/reconciliation/"
    before = {d.procurify_id: d.written for d in owner.client.get(url).context["result"].documents}
    for link in ExternalRecord.objects.filter(organisation=org_a, object_type="bill").exclude(qbo_id=""):
        link.extra = {k: v for k, v in link.extra.items() if not k.startswith("written_")}
        link.save(update_fields=["extra"])

    after = {d.procurify_id: d.written for d in owner.client.get(url).context["result"].documents}

    assert after == before and sum(after.values()) > 0
