"""Issue 11 item 5: switching an organisation to another QuickBooks company never touches the new
company's own objects; the new company starts fresh, and every bill lands there once."""

from __future__ import annotations

from collections import Counter

from connector.models import AuditEvent, ExternalRecord, SyncRun
from connector.sync.company import switch_preview
from sandbox import Sandbox
from tests.engine.conftest import NOW, build_harness


def _markers(bills: list[dict]) -> Counter[str]:
    return Counter((b.get("PrivateNote") or "").split(" ")[0] for b in bills if b.get("PrivateNote"))


def _hand_entered_bills(harness, n: int) -> dict[str, str]:
    """Bills a bookkeeper typed into the company: {Id: SyncToken}. Ids come from the same counter
    our first company used, so our old links name these unrelated bills."""
    vendor = next(
        v
        for v in harness.sb.qbo.objects(harness.realm_id, "Vendor")
        if v["DisplayName"] == "Comcast Business"
    )
    account = next(
        a for a in harness.sb.qbo.objects(harness.realm_id, "Account") if a.get("AcctNum") == "6300"
    )
    out = {}
    for i in range(n):
        line = {
            "Amount": "99.00",
            "DetailType": "AccountBasedExpenseLineDetail",
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account["Id"]}},
        }
        bill = harness.qbo.create(
            "Bill", {"VendorRef": {"value": vendor["Id"]}, "DocNumber": f"HAND-{i}", "Line": [line]}
        )
        out[str(bill.Id)] = str(bill.SyncToken)
    return out


def test_switching_companies_writes_each_bill_once_into_the_new_one_and_changes_none_of_its_own(org_a):
    sb = Sandbox.create(seed="distributor", tenants=2, now=NOW)
    first = build_harness(sb, realm_index=0)
    second = build_harness(sb, realm_index=1)
    try:
        theirs = _hand_entered_bills(second, 60)
        assert first.run(org_a).status == SyncRun.Status.SUCCEEDED
        old_ids = set(ExternalRecord.objects.filter(organisation=org_a).values_list("qbo_id", flat=True))
        assert old_ids & set(theirs), "the scenario needs links whose Ids exist in the new company"
        assert switch_preview(org_a, second.realm_id)["record links"] > 0

        run = second.run(org_a)

        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        for bill in second.bills():
            if bill["Id"] in theirs:
                assert bill["SyncToken"] == theirs[bill["Id"]], (
                    f"hand-entered bill {bill['Id']} was overwritten"
                )
        assert max(_markers(second.bills()).values()) == 1
        assert len(_markers(second.bills())) == len(_markers(first.bills()))
        realms = set(ExternalRecord.objects.filter(organisation=org_a).values_list("realm_id", flat=True))
        assert realms == {second.realm_id}
        assert AuditEvent.objects.filter(organisation=org_a, message__contains="company changed").exists()
    finally:
        first.http.close()
        second.http.close()
