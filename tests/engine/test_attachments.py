"""Invoice files follow their bill into QuickBooks (issue 15): streamed, exactly once, held on their own.

Against the sandbox: the distributor seeds PDFs and an image on approved bills, an `.exe`, and a 150 MB
scan (generated, never held whole); QBO's fake parses the multipart upload as it arrives and keeps each
file's size and sha256 (connector/sync/attachments.py, docs/qbo-facts.md "Invoice files").
"""

from __future__ import annotations

import hashlib
import tracemalloc

import httpx
import pytest

from connector import netguard
from connector.http import build_client
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.procurify.auth import MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.sync import attachments, runs
from sandbox import procurify_files
from tests.engine.conftest import DOMAIN, Harness, no_sleep

MB = 1024 * 1024


def _file(harness: Harness, invoice_number: str, name: str) -> dict:
    bill = harness.procurify_bill(invoice_number)
    return next(a for a in bill["attachments"] if a["name"] == name)


def _qbo_bill_id(org, harness: Harness, invoice_number: str) -> str:
    uuid = harness.procurify_bill(invoice_number)["uuid"]
    return ExternalRecord.objects.get(organisation=org, object_type="bill", procurify_id=uuid).qbo_id


def _uploads(harness: Harness) -> int:
    return int(harness.sb.qbo.stats(harness.realm_id)["uploads"])


def test_each_file_is_attached_to_its_bill_in_quickbooks_with_identical_bytes(harness, org_a):
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    bill_id = _qbo_bill_id(org_a, harness, "NOP-88120")
    stored = harness.sb.qbo.attachables(harness.realm_id, bill_id)
    assert sorted(a["FileName"] for a in stored) == ["NOP-88120.pdf", "delivery-note.png"]
    for attachable in stored:
        source = _file(harness, "NOP-88120", attachable["FileName"])
        assert attachable["_file"]["data"] == source["data"]  # byte for byte
        assert attachable["_file"]["sha256"] == hashlib.sha256(source["data"]).hexdigest()
        assert attachable["Size"] == len(source["data"])
        assert attachable["AttachableRef"] == [
            {"EntityRef": {"type": "Bill", "value": bill_id}, "IncludeOnSend": False}
        ]
        assert attachable["ContentType"] == source["content_type"]
    # Queryable the way the lookup reads them (sandbox strict query parser).
    found = list(harness.qbo.query_all("Attachable", f"AttachableRef.EntityRef.value = '{bill_id}'"))
    assert {a.FileName for a in found} == {"NOP-88120.pdf", "delivery-note.png"}
    assert all("procurify:attachment:" in (a.Note or "") for a in found)
    assert run.counts["by_type"]["attachments"]["uploaded"] == 4


def test_a_second_run_uploads_nothing_again(harness, org_a):
    harness.run(org_a)
    uploads, stored = _uploads(harness), len(harness.sb.qbo.objects(harness.realm_id, "Attachable"))
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    harness.sb.procurify.edit_bill(DOMAIN, uuid, note="re-saved")  # the bill is read again

    harness.sb.clock.advance(minutes=30)
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert _uploads(harness) == uploads
    assert len(harness.sb.qbo.objects(harness.realm_id, "Attachable")) == stored == 4


def test_a_disallowed_type_holds_the_file_not_the_bill(harness, org_a):
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    bill = harness.procurify_bill("OB-7850")
    exe = _file(harness, "OB-7850", "invoice.exe")
    held = HeldRecord.objects.get(organisation=org_a, reason_code="attachment_type_not_allowed")
    assert held.procurify_id == f"{bill['uuid']}:{exe['id']}" and held.object_type == "attachment"
    assert held.message.startswith("The invoice file invoice.exe was not attached to ")
    assert "QuickBooks accepts PDF, images" in held.message
    assert not HeldRecord.objects.filter(
        organisation=org_a, object_type="bill", procurify_id=bill["uuid"]
    ).exists()
    assert _qbo_bill_id(org_a, harness, "OB-7850")  # the bill itself is in QuickBooks
    bill_id = _qbo_bill_id(org_a, harness, "INV-2026-000123-ABCDEFGHI")
    assert [a["FileName"] for a in harness.sb.qbo.attachables(harness.realm_id, bill_id)] == [
        "INV-2026-000123.pdf"
    ]


def test_the_sandbox_refuses_a_disallowed_type_with_6041(harness, org_a):
    harness.run(org_a)
    bill_id = _qbo_bill_id(org_a, harness, "GLF-21007")

    from connector.errors import QBOFault

    with pytest.raises(QBOFault) as refused:
        harness.qbo.upload(
            file_name="setup.exe",
            content_type="application/x-msdownload",
            entity="Bill",
            entity_id=bill_id,
            note="test",
            chunks=[b"MZ" * 100],
        )
    assert "6041" in refused.value.codes()
    with pytest.raises(QBOFault) as unknown:
        harness.qbo.upload(
            file_name="a.pdf",
            content_type="application/pdf",
            entity="Bill",
            entity_id="999999",
            note="",
            chunks=[b"%PDF"],
        )
    assert "2500" in unknown.value.codes()


def test_a_file_too_large_is_held_without_being_downloaded(harness, org_a):
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    held = HeldRecord.objects.get(organisation=org_a, reason_code="attachment_too_large")
    assert held.message.startswith("The invoice file OB-7850-full-scan.pdf (150.0 MB) was not attached to ")
    stats = harness.sb.procurify.stats(DOMAIN)["by_endpoint"]
    assert stats.get("GET files/attachments/{id}", 0) == 4  # the four files that were attached, not the scan


def test_a_size_procurify_understates_is_caught_while_streaming(harness, org_a):
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    harness.sb.procurify.add_attachment(
        DOMAIN, uuid, "statement.pdf", "application/pdf", size=3 * MB, declared_size=1000
    )
    limit = attachments.MAX_BYTES
    attachments.MAX_BYTES = 2 * MB  # a smaller ceiling keeps the test fast; the logic is the same
    try:
        run = harness.run(org_a)
    finally:
        attachments.MAX_BYTES = limit

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    statement = HeldRecord.objects.get(organisation=org_a, label__startswith="statement.pdf")
    assert statement.reason_code == "attachment_too_large"
    assert statement.message.startswith("The invoice file statement.pdf (3.0 MB) was not attached")
    names = [a["FileName"] for a in harness.sb.qbo.objects(harness.realm_id, "Attachable")]
    assert "statement.pdf" not in names


def test_a_file_added_after_the_bill_was_synced_follows_on_the_next_run(harness, org_a):
    harness.run(org_a)
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    data = procurify_files.pdf_bytes("credit-note", pages=2)
    harness.sb.procurify.add_attachment(DOMAIN, uuid, "GLF-21007-corrected.pdf", "application/pdf", data=data)

    harness.sb.clock.advance(minutes=30)
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    bill_id = _qbo_bill_id(org_a, harness, "GLF-21007")
    stored = {a["FileName"]: a for a in harness.sb.qbo.attachables(harness.realm_id, bill_id)}
    assert set(stored) == {"GLF-21007.pdf", "GLF-21007-corrected.pdf"}
    assert stored["GLF-21007-corrected.pdf"]["_file"]["data"] == data
    assert run.counts["by_type"]["attachments"] == {"uploaded": 1}


def test_a_crash_after_the_upload_does_not_attach_the_file_twice(harness, org_a):
    upload = harness.qbo.upload

    def upload_then_die(**kwargs):
        upload(**kwargs)
        raise KeyboardInterrupt

    harness.qbo.upload = upload_then_die  # type: ignore[method-assign]
    try:
        with pytest.raises(KeyboardInterrupt):
            harness.run(org_a)
    finally:
        harness.qbo.upload = upload  # type: ignore[method-assign]
    stuck = ExternalRecord.objects.get(
        organisation=org_a, object_type="attachment", state="creating", extra__sent=True
    )
    harness.sb.clock.advance(hours=1)
    assert runs.reap_abandoned(harness.sb.clock.now()) == 1

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    stuck.refresh_from_db()
    assert stuck.state == "synced" and stuck.qbo_id
    notes = [a.get("Note", "") for a in harness.sb.qbo.objects(harness.realm_id, "Attachable")]
    marker = attachments.marker(stuck.procurify_id)
    assert sum(marker in n for n in notes) == 1
    assert len(notes) == 4
    assert run.counts["by_type"]["attachments"]["found"] == 1


def test_a_lost_upload_answer_is_found_not_resent(harness, org_a):
    harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders", "bills"))
    uploads = _uploads(harness)
    harness.sb.faults.lose_next(1)

    first = harness.run(org_a, steps=("attachments",))
    second = harness.run(org_a, steps=("attachments",))

    assert first.counts["by_type"]["attachments"]["upload_failed"] == 1
    assert second.counts["by_type"]["attachments"] == {"found": 1}
    assert _uploads(harness) == uploads + 4  # the lost one was stored once, and not sent again
    assert len(harness.sb.qbo.objects(harness.realm_id, "Attachable")) == 4


def test_a_download_link_pointing_inside_our_network_is_never_fetched(sb, org_a):
    guarded = build_client(transport=sb.transport(), guard=netguard.Policy(allow_loopback=True))
    harness = _harness_with(sb, guarded)
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    record = _file(harness, "GLF-21007", "GLF-21007.pdf")
    seen: list[str] = []
    render = procurify_files.render

    def metadata_link(site, bill, base, now):
        rows = render(site, bill, base, now)
        for row in rows:
            if row["id"] == record["id"]:
                row["url"] = "http://169.254.169.254/latest/meta-data/iam/"
        return rows

    procurify_files.render = metadata_link
    try:
        with netguard.use_resolver(lambda host, port: seen.append(host) or ["169.254.169.254"]):
            run = harness.run(org_a)
    finally:
        procurify_files.render = render
        guarded.close()

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    held = HeldRecord.objects.get(organisation=org_a, reason_code="attachment_address_refused")
    assert held.procurify_id == f"{uuid}:{record['id']}"
    assert "we do not contact" in held.message
    assert "169.254.169.254" not in str(sb.procurify.stats(DOMAIN))


def _harness_with(sb, http: httpx.Client) -> Harness:
    from tests.engine.conftest import build_harness

    base = build_harness(sb)
    creds = sb.credentials["procurify"][DOMAIN]
    base.procurify = ProcurifyClient(
        sb.procurify_site_url(DOMAIN),
        creds["client_id"],
        creds["client_secret"],
        MemoryTokenStore(),
        http=http,
        clock=sb.clock.now,
        sleep=no_sleep,
    )
    return base


def test_the_bill_page_lists_its_files_and_their_state(harness, org_a, owner):
    harness.run(org_a)
    pages = {
        number: owner.client.get(
            f"/o/{org_a.public_id}/records/bill/{harness.procurify_bill(number)['uuid']}/"
        )
        for number in ("INV-2026-000123-ABCDEFGHI", "OB-7850")
    }

    assert {p.status_code for p in pages.values()} == {200}
    attached, held = (p.content.decode() for p in pages.values())
    assert "Invoice files" in attached
    assert "INV-2026-000123.pdf" in attached and "Attached in QuickBooks (Attachable" in attached
    assert "invoice.exe" in held and "QuickBooks accepts PDF, images" in held
    assert "OB-7850-full-scan.pdf" in held and "QuickBooks takes files up to 99.9 MB" in held
    key = HeldRecord.objects.get(organisation=org_a, reason_code="attachment_type_not_allowed").procurify_id
    assert owner.client.get(f"/o/{org_a.public_id}/records/attachment/{key}/").status_code == 200


def test_streaming_a_50_mb_file_keeps_memory_far_below_its_size(harness, org_a):
    """The benchmark-style check of docs/benchmarks.md: tracemalloc's peak while one 50 MB file goes
    from Procurify's download to QuickBooks' upload (both fakes stream; no file is held whole)."""
    harness.run(org_a)
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    size = 50 * MB
    added = harness.sb.procurify.add_attachment(DOMAIN, uuid, "scan-50mb.pdf", "application/pdf", size=size)
    harness.run(org_a, steps=("token_check", "bills"))  # notes the new file

    tracemalloc.start()
    try:
        run = harness.run(org_a, steps=("attachments",))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert run.counts["by_type"]["attachments"] == {"uploaded": 1}, run.counts
    stored = next(
        a for a in harness.sb.qbo.objects(harness.realm_id, "Attachable") if a["FileName"] == "scan-50mb.pdf"
    )
    kept = harness.sb.qbo.realm(harness.realm_id).files[stored["Id"]]
    assert kept["size"] == size and kept["data"] is None
    assert kept["sha256"] == procurify_files.content_digest(
        harness.sb.procurify.attachment(DOMAIN, added["id"])
    )
    print(f"\nstreamed {size / MB:.0f} MB; tracemalloc peak {peak / MB:.2f} MB")
    assert peak < size / 10  # far below the file's size (recorded in docs/benchmarks.md)


BILLS_ONLY = ("token_check", "reference", "vendors", "purchase_orders", "bills")


def test_a_file_noted_earlier_is_downloaded_from_a_fresh_link(harness, org_a):
    harness.run(org_a, steps=BILLS_ONLY)
    harness.sb.clock.advance(hours=3)  # every link read by that run has expired (sandbox: 1 h)

    run = harness.run(org_a, steps=("attachments",))

    assert run.counts["by_type"]["attachments"]["uploaded"] == 4, run.counts
    assert not HeldRecord.objects.filter(organisation=org_a, reason_code="attachment_unreachable").exists()


def test_a_file_removed_in_procurify_before_its_upload_is_forgotten(harness, org_a):
    harness.run(org_a, steps=BILLS_ONLY)
    bill = harness.procurify_bill("GLF-21007")
    removed = bill["attachments"].pop()
    key = f"{bill['uuid']}:{removed['id']}"
    assert ExternalRecord.objects.filter(organisation=org_a, procurify_id=key).exists()

    run = harness.run(org_a, steps=("attachments",))

    assert run.counts["by_type"]["attachments"]["removed"] == 1
    assert not ExternalRecord.objects.filter(organisation=org_a, procurify_id=key).exists()
    names = [a["FileName"] for a in harness.sb.qbo.objects(harness.realm_id, "Attachable")]
    assert "GLF-21007.pdf" not in names


def test_an_unreachable_file_is_held_and_retried_next_run(harness, org_a):
    harness.run(org_a, steps=BILLS_ONLY)
    saved = _file(harness, "GLF-21007", "GLF-21007.pdf")["id"]
    find = procurify_files.find
    procurify_files.find = lambda site, attachment_id: None  # Procurify answers 404 for every file
    try:
        first = harness.run(org_a, steps=("attachments",))
    finally:
        procurify_files.find = find
    held = HeldRecord.objects.get(organisation=org_a, procurify_id__endswith=f":{saved}")
    assert held.reason_code == "attachment_unreachable" and "HTTP 404" in held.message

    second = harness.run(org_a, steps=("attachments",))

    assert first.counts["by_type"]["attachments"]["not_attached"] == 6  # 4 unreachable, the .exe, the scan
    unreachable = HeldRecord.objects.filter(organisation=org_a, reason_code="attachment_unreachable")
    assert unreachable.count() == 4
    held.refresh_from_db()
    assert held.state == HeldRecord.State.RESOLVED  # the second run attached it
    assert second.counts["by_type"]["attachments"]["uploaded"] == 4


def test_download_links_are_logged_without_their_signature(harness, org_a, caplog):
    caplog.set_level("INFO", logger="connector.http")

    harness.run(org_a)

    downloads = [r.getMessage() for r in caplog.records if "/files/attachments/" in r.getMessage()]
    assert len(downloads) == 4
    assert all("signature=%5Bredacted%5D" in line or "signature=[redacted]" in line for line in downloads)
    signatures = [
        a["url"].split("signature=")[1]
        for b in harness.sb.procurify.bills(DOMAIN)
        for a in b["invoice_attachments"]
    ]
    assert not any(sig in caplog.text for sig in signatures)


def test_a_file_whose_bill_left_procurify_before_its_upload_does_not_stop_the_run(harness, org_a):
    harness.run(org_a, steps=BILLS_ONLY)
    uuid = harness.procurify_bill("GLF-21007")["uuid"]
    harness.sb.procurify.remove_bill(DOMAIN, uuid)

    run = harness.run(org_a, steps=("attachments",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.counts["by_type"]["attachments"] == {"removed": 1, "uploaded": 3, "not_attached": 2}
    assert not ExternalRecord.objects.filter(organisation=org_a, procurify_id__startswith=f"{uuid}:").exists()
