"""Issue 17, mapping before writing: connecting the second system reads both sides' vendors and
account codes at once and proposes mappings before any sync; the account picker offers only accounts
a bill line accepts (QuickBooks refuses others with 6430), with number, type and the code's description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from recon_support import RequestLog
from sandbox_wiring import connect_qbo, point_settings_at

from connector.clients import use_transport
from connector.models import SyncRun
from mappings.models import AccountMapping, QBOAccount, VendorMapping
from sandbox import Sandbox
from tenants.models import Organisation

pytestmark = pytest.mark.django_db(transaction=True)


def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def qbo_only(settings: Any, sb: Sandbox, log: RequestLog, org_a: Organisation, owner: Any) -> Iterator[None]:
    """QuickBooks connected, Procurify not yet: the next connection is the second system."""
    point_settings_at(sb)
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's task, inline
    with use_transport(log, clock=sb.clock.now, sleep=no_sleep):
        connect_qbo(org_a, owner.user, sb)
        yield


def _save_procurify(owner: Any, org: Organisation, sb: Sandbox) -> str:
    creds = sb.credentials["procurify"]["northwind"]
    response = owner.client.post(
        f"/o/{org.public_id}/connections/procurify/",
        {
            "site_url": sb.procurify_site_url("northwind", "http://sandbox.test"),
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
        follow=True,
    )
    return response.content.decode()


def test_connecting_the_second_system_proposes_mappings_before_any_sync(
    org_a, owner, sb: Sandbox, log: RequestLog, qbo_only, django_capture_on_commit_callbacks
) -> None:
    assert not VendorMapping.objects.filter(organisation=org_a).exists()
    with django_capture_on_commit_callbacks(execute=True):
        page = _save_procurify(owner, org_a, sb)

    assert "propose mappings" in page
    assert not SyncRun.objects.filter(organisation=org_a).exists()
    assert log.qbo_writes() == []  # reading only: nothing reached QuickBooks' books
    code = AccountMapping.objects.get(organisation=org_a, code="6100")
    assert code.description == "Office Supplies" and code.qbo_account_id  # auto-matched by number
    assert VendorMapping.objects.filter(organisation=org_a).exclude(qbo_vendor_id="").exists()
    listing = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/").content.decode()
    assert "6100" in listing and "Office Supplies" in listing


def test_the_account_picker_offers_only_bill_line_accounts_with_number_type_and_description(
    org_a, owner, sb: Sandbox, qbo_only, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _save_procurify(owner, org_a, sb)
    unmapped = AccountMapping.objects.get(organisation=org_a, code="6550")
    page = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/{unmapped.public_id}/")
    html = page.content.decode()
    labels = [label for _, label in page.context["options"]]

    assert "6100 Office Supplies · Expense" in labels and "5100 Freight In · Cost of Goods Sold" in labels
    types = set(QBOAccount.objects.filter(organisation=org_a).values_list("account_type", flat=True))
    assert {"Fixed Asset", "Bank"} <= types  # the sandbox holds them; the picker leaves them out
    assert not any("Shop Equipment" in label or "Checking" in label for label in labels)
    assert "Procurify: <strong>6550</strong> — Safety Equipment" in html

    fixed_asset = QBOAccount.objects.get(organisation=org_a, account_type="Fixed Asset")
    refused = owner.client.post(
        f"/o/{org_a.public_id}/mappings/accounts/{unmapped.public_id}/", {"qbo_id": fixed_asset.qbo_id}
    )
    assert refused.status_code == 400
    assert "is a Fixed Asset; a bill line needs an Expense, Other Expense or Cost of Goods Sold" in (
        refused.content.decode()
    )
    unmapped.refresh_from_db()
    assert unmapped.qbo_account_id == ""
