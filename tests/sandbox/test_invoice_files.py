"""Invoice files in the fakes: Procurify's streamed, pre-signed downloads and QBO's strict multipart upload
(procurify.md §3/§7; quickbooks-online.md §14 "Attachments")."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from sandbox_support import QBO, Procurify, expense_line, fault_code

from sandbox import Sandbox, qbo_upload


def _bill_id(qbo: QBO) -> str:
    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners' AND Active IN (true, false)")
    account = qbo.one("Account", "AcctNum = '6100' AND Active IN (true, false)")
    body = {
        "VendorRef": {"value": vendor["Id"]},
        "Line": [expense_line(account["Id"], 10.0)],
        "TxnDate": "2026-02-20",
    }
    return qbo.ok("bill", body)["Bill"]["Id"]


def _upload(qbo: QBO, files: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    return qbo.client.post(
        f"{qbo.base}/upload",
        params={"minorversion": 75},
        files=files,
        headers={**qbo.headers(), **(headers or {})},
    )


def _pair(
    meta: dict[str, Any], name: str, data: bytes, content_type: str = "application/pdf"
) -> dict[str, Any]:
    return {
        "file_metadata_01": ("meta.json", json.dumps(meta).encode(), "application/json"),
        "file_content_01": (name, data, content_type),
    }


def _meta(bill_id: str, name: str = "invoice.pdf", **extra: Any) -> dict[str, Any]:
    ref = [{"EntityRef": {"type": "Bill", "value": bill_id}}]
    return {"FileName": name, "ContentType": "application/pdf", "AttachableRef": ref, **extra}


def _entry_fault(response: httpx.Response) -> str:
    entry = response.json()["AttachableResponse"][0]
    return entry["Fault"]["Error"][0]["code"]


def test_an_upload_is_stored_linked_and_queryable_by_its_bill(sb: Sandbox, qbo: QBO) -> None:
    bill_id = _bill_id(qbo)
    data = b"%PDF-1.4 " + b"x" * 5000

    response = _upload(qbo, _pair(_meta(bill_id, Note="ours"), "invoice.pdf", data))

    assert response.status_code == 200, response.text
    stored = response.json()["AttachableResponse"][0]["Attachable"]
    assert stored["FileName"] == "invoice.pdf" and stored["Size"] == len(data) and stored["Note"] == "ours"
    assert stored["AttachableRef"][0]["EntityRef"] == {"type": "Bill", "value": bill_id}
    kept = sb.qbo.realm(qbo.realm_id).files[stored["Id"]]
    assert kept["data"] == data and kept["sha256"] == hashlib.sha256(data).hexdigest()
    rows = qbo.query(f"select * from Attachable where AttachableRef.EntityRef.value = '{bill_id}'").json()
    assert [r["Id"] for r in rows["QueryResponse"]["Attachable"]] == [stored["Id"]]
    assert sb.qbo.stats(qbo.realm_id)["uploads"] == 1


@pytest.mark.parametrize("name", ["invoice.exe", "archive.zip", "no-extension", "notes.pages"])
def test_a_type_outside_the_17_is_refused_with_6041(qbo: QBO, name: str) -> None:
    bill_id = _bill_id(qbo)
    response = _upload(qbo, _pair(_meta(bill_id, name), name, b"MZ..."))
    assert response.status_code == 200 and _entry_fault(response) == "6041"
    assert qbo.query("select * from Attachable").json()["QueryResponse"] == {}


def test_a_reference_to_no_such_bill_is_refused(qbo: QBO) -> None:
    response = _upload(qbo, _pair(_meta("999999"), "invoice.pdf", b"%PDF"))
    assert _entry_fault(response) == "2500"


def test_missing_parts_and_names_are_refused(qbo: QBO) -> None:
    bill_id = _bill_id(qbo)
    only_content = {"file_content_01": ("invoice.pdf", b"%PDF", "application/pdf")}
    assert _entry_fault(_upload(qbo, only_content)) == "2020"
    only_meta = {"file_metadata_01": ("meta.json", json.dumps(_meta(bill_id)).encode(), "application/json")}
    assert _entry_fault(_upload(qbo, only_meta)) == "2020"
    nameless = _pair({"AttachableRef": _meta(bill_id)["AttachableRef"]}, "", b"%PDF")
    assert _entry_fault(_upload(qbo, nameless)) == "2020"


def test_a_body_that_is_not_multipart_is_refused(qbo: QBO) -> None:
    response = qbo.post("upload", {"FileName": "invoice.pdf"})
    assert response.status_code == 400 and fault_code(response) == "2010"


def test_the_parser_refuses_a_body_past_the_limit_without_holding_it() -> None:
    boundary = "b0undary"
    chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="file_content_01"\r\n\r\n'.encode()]
    chunks += [b"x" * 1024] * 2048  # 2 MB body against a 1 MB limit
    with pytest.raises(qbo_upload.TooLarge):
        qbo_upload.read_parts(iter(chunks), boundary, limit=1024 * 1024)


def test_the_parser_finds_a_boundary_split_across_chunks() -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file_content_01"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-data\r\n--B--\r\n"
    )
    parts = qbo_upload.read_parts((body[i : i + 3] for i in range(0, len(body), 3)), "B")
    assert [(p.name, p.filename, bytes(p.kept or b"")) for p in parts] == [
        ("file_content_01", "a.pdf", b"%PDF-data")
    ]


def test_a_procurify_download_link_streams_and_expires(sb: Sandbox, procurify: Procurify) -> None:
    bill = next(b for b in sb.procurify.bills("northwind") if b["invoice_number"] == "GLF-21007")
    listed = procurify.get(f"/api/v2/ap/bills/{bill['uuid']}/").json()["data"]["invoice_attachments"]
    assert [(a["name"], a["content_type"]) for a in listed] == [("GLF-21007.pdf", "application/pdf")]
    url = listed[0]["url"]
    assert url.startswith(sb.procurify_site_url("northwind") + "/files/attachments/")

    fetched = procurify.client.get(url)  # pre-signed: no bearer needed
    assert fetched.status_code == 200 and fetched.content.startswith(b"%PDF-1.4")
    assert int(fetched.headers["Content-Length"]) == listed[0]["size"] == len(fetched.content)

    forged = procurify.client.get(url.replace("signature=", "signature=0"))
    assert forged.status_code == 403
    sb.clock.advance(seconds=3601)
    assert procurify.client.get(url).status_code == 403


def test_a_huge_seeded_file_is_declared_not_held(sb: Sandbox) -> None:
    scan = next(
        a
        for b in sb.procurify.site("northwind").bills.values()
        for a in b.get("attachments", [])
        if a["name"] == "OB-7850-full-scan.pdf"
    )
    assert scan["data"] is None and scan["size"] == 150 * 1024 * 1024


def test_adding_a_file_bumps_the_bill(sb: Sandbox) -> None:
    bill = next(b for b in sb.procurify.bills("northwind") if b["invoice_number"] == "GLF-20931")
    sb.clock.advance(minutes=5)
    sb.procurify.add_attachment("northwind", bill["uuid"], "late.pdf", "application/pdf", data=b"%PDF late")
    after = next(b for b in sb.procurify.bills("northwind") if b["uuid"] == bill["uuid"])
    assert after["version"] == bill["version"] + 1
    assert after["last_modified_datetime"] > bill["last_modified_datetime"]
    assert [a["name"] for a in after["invoice_attachments"]] == ["late.pdf"]
