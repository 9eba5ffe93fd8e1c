"""The tenant wall behind the pages: Celery tasks, engine entry points and mapping services.

Two organisations connected to two sandbox tenants (own Procurify site, own QBO realm). Acting for
organisation B — running its sync task, replaying a record, picking holds to retry, saving mappings,
or naming A's objects in B's URLs — must never read or write A's rows or A's QuickBooks company.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model
from security_support import TwoTenants, Wired, run_sync

from connector import tasks
from connector.clients import CLIENTS
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.sync import holds
from connector.sync.engine import replay_record
from mappings import services
from mappings.models import AccountMapping, QBOAccount, QBOVendor, VendorMapping
from tenants import tasks as tenant_tasks
from tenants.models import Connection, Organisation

TENANT_MODELS: list[type[Model]] = [
    ExternalRecord,
    HeldRecord,
    AuditEvent,
    SyncRun,
    SyncCursor,
    VendorMapping,
    AccountMapping,
    QBOVendor,
    QBOAccount,
]
QBO_ENTITIES = ("Bill", "Vendor", "PurchaseOrder", "Account")


def rows_of(organisation: Organisation) -> dict[str, list[dict[str, Any]]]:
    """Every tenant row of the organisation, as stored (connections minus volatile token columns)."""
    snapshot = {
        model.__name__: list(model._default_manager.filter(organisation=organisation).order_by("pk").values())
        for model in TENANT_MODELS
    }
    snapshot["Connection"] = list(
        Connection.objects.filter(organisation=organisation)
        .order_by("pk")
        .values("pk", "realm_id", "site_url")
    )
    return snapshot


def realm_of(wired: Wired) -> dict[str, Any]:
    """A's QuickBooks company: every object with its SyncToken, and the request counters."""
    objects = {
        entity: sorted((o["Id"], o.get("SyncToken")) for o in wired.sb.qbo.objects(wired.realm_id, entity))
        for entity in QBO_ENTITIES
    }
    stats = wired.sb.qbo.stats(wired.realm_id)
    return {"objects": objects, "writes": stats["writes"], "reads": stats.get("reads")}


@pytest.fixture
def synced(two_tenants: TwoTenants) -> TwoTenants:
    """Both organisations after a first sync, each through the Celery task entry point."""
    for wired in (two_tenants.a, two_tenants.b):
        run = run_sync(wired.organisation)
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return two_tenants


def test_it_connects_the_two_organisations_to_different_tenants(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    assert a.realm_id != b.realm_id and a.domain != b.domain
    assert Connection.objects.get(organisation=a.organisation, provider="qbo").realm_id == a.realm_id
    assert Connection.objects.get(organisation=b.organisation, provider="qbo").realm_id == b.realm_id
    for wired in (a, b):
        records = ExternalRecord.objects.filter(organisation=wired.organisation, object_type="bill")
        assert records.exists()
        in_realm = {o["Id"] for o in wired.sb.qbo.objects(wired.realm_id, "Bill")}
        assert {r.qbo_id for r in records if r.qbo_id} <= in_realm


def test_it_leaves_organisation_a_untouched_when_the_sync_task_runs_for_b(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    before, realm_before = rows_of(a.organisation), realm_of(a)
    synced.sb.procurify.add_bill(b.domain, vendor_id=_any_vendor(synced, b), invoice_number="B-ONLY-1")

    run = run_sync(b.organisation)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert rows_of(a.organisation) == before
    assert realm_of(a) == realm_before, "B's run touched A's QuickBooks company"
    assert [x for x in b.qbo_bills() if x.get("DocNumber") == "B-ONLY-1"]
    assert not [x for x in a.qbo_bills() if x.get("DocNumber") == "B-ONLY-1"]
    assert not AuditEvent.objects.filter(run=run).exclude(organisation=b.organisation).exists()
    assert not HeldRecord.objects.filter(run=run).exclude(organisation=b.organisation).exists()


def test_it_replays_only_within_b_when_b_names_a_record_of_a(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    a_bill = ExternalRecord.objects.filter(organisation=a.organisation, object_type="bill").first()
    assert a_bill is not None
    before, realm_before = rows_of(a.organisation), realm_of(a)
    b_writes = b.sb.qbo.stats(b.realm_id)["writes"]

    outcome = replay_record(b.organisation.pk, "bill", a_bill.procurify_id, clients=CLIENTS)

    # B's Procurify site has no such bill, so nothing happens anywhere.
    assert outcome == "skipped"
    assert rows_of(a.organisation) == before
    assert realm_of(a) == realm_before
    assert b.sb.qbo.stats(b.realm_id)["writes"] == b_writes
    assert not ExternalRecord.objects.filter(organisation=b.organisation, procurify_id=a_bill.procurify_id)


def test_it_never_offers_releases_or_resolves_a_hold_of_a_when_acting_for_b(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    for code, state in (
        ("sync_failed", HeldRecord.State.RELEASED),
        ("vendor_unmapped", HeldRecord.State.HELD),
    ):
        HeldRecord.objects.create(
            organisation=a.organisation,
            object_type="bill",
            procurify_id=f"a-only-{code}",
            reason_code=code,
            message="A's hold.",
            state=state,
            waiting_on_type="vendor_mapping",
            waiting_on_key="1",
        )
    a_ids = set(HeldRecord.objects.filter(organisation=a.organisation).values_list("procurify_id", flat=True))
    before = rows_of(a.organisation)

    for object_type in ("bill", "purchase_order", "vendor"):
        offered = holds.retry_ids(b.organisation, object_type, resolvable=lambda *_: True)
        assert not set(offered) & a_ids
    holds.release_waiting(b.organisation, "vendor_mapping", "1")
    for procurify_id in a_ids:
        assert not holds.resolve(b.organisation, "bill", procurify_id)
    assert not set(h.procurify_id for h in holds.open_holds(b.organisation)) & a_ids

    assert rows_of(a.organisation) == before
    # The same calls for A do see them: the wall, not an empty query, is what kept B out.
    assert "a-only-sync_failed" in holds.retry_ids(a.organisation, "bill", resolvable=lambda *_: True)


def test_it_refuses_a_mapping_save_naming_a_qbo_vendor_of_another_organisation(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    foreign = QBOVendor.objects.create(
        organisation=a.organisation,
        qbo_id="A-ONLY-900",
        display_name="A's vendor",
        normalised_name="a s vendor",
    )
    mapping = VendorMapping.objects.filter(organisation=b.organisation).first()
    assert mapping is not None
    before_a, before_b = rows_of(a.organisation), rows_of(b.organisation)

    with pytest.raises(QBOVendor.DoesNotExist):
        services.save_vendor_mapping(b.organisation, mapping.procurify_vendor_id, foreign.qbo_id)

    assert rows_of(a.organisation) == before_a and rows_of(b.organisation) == before_b


def test_it_refuses_a_mapping_save_naming_a_qbo_account_of_another_organisation(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    foreign = QBOAccount.objects.create(
        organisation=a.organisation, qbo_id="A-ONLY-901", acct_num="9999", name="A"
    )
    mapping = AccountMapping.objects.filter(organisation=b.organisation).first()
    assert mapping is not None
    before_a, before_b = rows_of(a.organisation), rows_of(b.organisation)

    with pytest.raises(QBOAccount.DoesNotExist):
        services.save_account_mapping(b.organisation, mapping.procurify_account_code_id, foreign.qbo_id)

    assert rows_of(a.organisation) == before_a and rows_of(b.organisation) == before_b


def test_it_refuses_a_mapping_save_for_a_procurify_vendor_only_a_has(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    only_a = VendorMapping.objects.create(
        organisation=a.organisation,
        procurify_vendor_id=987_654,
        procurify_name="A only",
        normalised_name="a only",
    )
    b_vendor = QBOVendor.objects.filter(organisation=b.organisation).first()
    assert b_vendor is not None
    before_a = rows_of(a.organisation)

    with pytest.raises(VendorMapping.DoesNotExist):
        services.save_vendor_mapping(b.organisation, only_a.procurify_vendor_id, b_vendor.qbo_id)

    assert rows_of(a.organisation) == before_a


def test_it_refuses_a_foreign_qbo_id_posted_to_the_mapping_page(synced: TwoTenants, outsider: Any) -> None:
    a, b = synced.a, synced.b
    QBOVendor.objects.create(
        organisation=a.organisation,
        qbo_id="A-ONLY-902",
        display_name="A's other",
        normalised_name="a s other",
    )
    mapping = VendorMapping.objects.filter(organisation=b.organisation).first()
    assert mapping is not None
    before_a, before_b = rows_of(a.organisation), rows_of(b.organisation)

    path = f"/o/{b.organisation.public_id}/mappings/vendors/{mapping.public_id}/"
    response = outsider.client.post(path, {"qbo_id": "A-ONLY-902"})

    assert response.status_code == 400
    assert rows_of(a.organisation) == before_a and rows_of(b.organisation) == before_b


def test_it_answers_404_when_b_names_objects_of_a_in_its_own_urls(synced: TwoTenants, outsider: Any) -> None:
    a, b = synced.a, synced.b
    held = HeldRecord.objects.create(
        organisation=a.organisation,
        object_type="bill",
        procurify_id="a-held",
        reason_code="sync_failed",
        message="x",
    )
    a_run = SyncRun.objects.filter(organisation=a.organisation).first()
    a_record = ExternalRecord.objects.filter(organisation=a.organisation, object_type="bill").first()
    a_vendor = VendorMapping.objects.filter(organisation=a.organisation).first()
    a_account = AccountMapping.objects.filter(organisation=a.organisation).first()
    assert a_run and a_record and a_vendor and a_account
    org = b.organisation.public_id
    before_a = rows_of(a.organisation)

    gets = [
        f"/o/{org}/runs/{a_run.public_id}/",
        f"/o/{org}/records/bill/{a_record.procurify_id}/",
        f"/o/{org}/records/bill/a-held/",
        f"/o/{org}/mappings/vendors/{a_vendor.public_id}/",
        f"/o/{org}/mappings/accounts/{a_account.public_id}/",
    ]
    for path in gets:
        assert outsider.client.get(path).status_code == 404, path
    posts = [
        (f"/o/{org}/held/{held.public_id}/retry/", {}),
        (f"/o/{org}/held/{held.public_id}/ignore/", {}),
        (f"/o/{org}/mappings/vendors/{a_vendor.public_id}/", {"qbo_id": a_vendor.qbo_vendor_id or "1"}),
        (f"/o/{org}/mappings/accounts/{a_account.public_id}/", {"qbo_id": a_account.qbo_account_id or "1"}),
    ]
    for path, data in posts:
        assert outsider.client.post(path, data).status_code == 404, path
    held.refresh_from_db()
    assert held.state == HeldRecord.State.HELD
    assert rows_of(a.organisation) == before_a


def test_it_lists_only_b_rows_on_b_pages_when_a_has_rows(synced: TwoTenants, outsider: Any) -> None:
    a, b = synced.a, synced.b
    marker = "A-PRIVATE-LABEL-7731"
    HeldRecord.objects.create(
        organisation=a.organisation,
        object_type="bill",
        procurify_id="a-private",
        label=marker,
        reason_code="sync_failed",
        message=marker,
    )
    org = b.organisation.public_id
    for path in (f"/o/{org}/", f"/o/{org}/held/", f"/o/{org}/runs/", f"/o/{org}/mappings/vendors/"):
        response = outsider.client.get(path)
        assert response.status_code == 200, path
        assert marker not in response.content.decode(), path
        assert a.organisation.name not in response.content.decode(), path


def test_it_knows_every_task_that_takes_an_id_when_tasks_are_added() -> None:
    """The id-taking tasks are listed here; a new one must be added to this file's tests."""
    id_tasks = {
        name
        for module in (tasks, tenant_tasks)
        for name, obj in vars(module).items()
        if hasattr(obj, "delay") and obj.__module__ == module.__name__ and _takes_ids(obj)
    }
    assert id_tasks <= {"sync_organisation", "replay_record", "preview_sync", "read_reference"}, id_tasks


def test_reading_b_reference_data_touches_only_b_and_writes_nothing_to_quickbooks(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    before_a, realm_a, realm_b = rows_of(a.organisation), realm_of(a), realm_of(b)

    assert tasks.read_reference(b.organisation.pk) == "read"

    assert rows_of(a.organisation) == before_a and realm_of(a) == realm_a
    assert realm_of(b)["objects"] == realm_b["objects"] and realm_of(b)["writes"] == realm_b["writes"]


def test_a_preview_for_b_reads_only_b_and_writes_nothing_anywhere(synced: TwoTenants) -> None:
    a, b = synced.a, synced.b
    synced.sb.procurify.add_bill(b.domain, vendor_id=_any_vendor(synced, b), invoice_number="B-PREVIEW-1")
    before = {"a": rows_of(a.organisation), "b": rows_of(b.organisation)}
    realms = {"a": realm_of(a), "b": realm_of(b)}

    assert tasks.preview_sync(b.organisation.pk) == "done"

    from connector.sync.preview import stored

    _, preview = stored(b.organisation)
    assert preview is not None and [i for i in preview.items if i.document == "B-PREVIEW-1"]
    assert stored(a.organisation) == (None, None)
    assert {"a": rows_of(a.organisation), "b": rows_of(b.organisation)} == before
    assert realm_of(a) == realms["a"]
    assert realm_of(b)["objects"] == realms["b"]["objects"] and realm_of(b)["writes"] == realms["b"]["writes"]


def test_it_replays_through_the_task_only_within_b_when_the_task_exists(synced: TwoTenants) -> None:
    task = getattr(tasks, "replay_record", None)
    if task is None:
        pytest.skip("connector.tasks has no replay_record task; the engine entry point is tested above")
    a, b = synced.a, synced.b
    a_bill = ExternalRecord.objects.filter(organisation=a.organisation, object_type="bill").first()
    assert a_bill is not None
    before, realm_before = rows_of(a.organisation), realm_of(a)
    task(b.organisation.pk, "bill", a_bill.procurify_id)
    assert rows_of(a.organisation) == before and realm_of(a) == realm_before


def _takes_ids(task: Any) -> bool:
    import inspect

    return bool(inspect.signature(task.run).parameters)


def _any_vendor(synced: TwoTenants, wired: Wired) -> int:
    site = synced.sb.procurify.site(wired.domain)
    mapped = set(
        VendorMapping.objects.filter(organisation=wired.organisation)
        .exclude(qbo_vendor_id="")
        .values_list("procurify_vendor_id", flat=True)
    )
    return next(vid for vid in site.vendors if vid in mapped)
