"""The QBO query endpoint (reference §6)."""

from __future__ import annotations

from sandbox_support import QBO, fault_code

from sandbox import Sandbox


def _rows(qbo: QBO, text: str, entity: str) -> list[dict]:
    response = qbo.query(text)
    assert response.status_code == 200, response.text
    return response.json()["QueryResponse"].get(entity, [])


def test_it_matches_a_name_with_a_backslash_escaped_apostrophe(qbo: QBO) -> None:
    rows = _rows(qbo, "SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien Industrial Supply'", "Vendor")
    assert [r["DisplayName"] for r in rows] == ["O'Brien Industrial Supply"]


def test_it_fails_with_4000_on_an_unescaped_apostrophe(qbo: QBO) -> None:
    response = qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'O'Brien Industrial Supply'")
    assert response.status_code == 400 and fault_code(response) == "4000"


def test_it_fails_with_4000_on_a_trailing_backslash_or_curly_quote(qbo: QBO) -> None:
    assert fault_code(qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'abc\\'")) == "4000"
    assert fault_code(qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'O\u2019Brien'")) == "4000"


def test_it_fails_with_4000_on_or(qbo: QBO) -> None:
    response = qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'a' OR DisplayName = 'b'")
    assert fault_code(response) == "4000"


def test_it_fails_with_4001_on_an_unqueryable_property_or_entity(qbo: QBO) -> None:
    assert fault_code(qbo.query("SELECT * FROM Vendor WHERE Nickname = 'a'")) == "4001"
    assert fault_code(qbo.query("SELECT * FROM vendor")) == "4001"


def test_it_supports_in_like_and_and(qbo: QBO) -> None:
    rows = _rows(qbo, "SELECT * FROM Account WHERE AcctNum IN ('6100', '6200', '9999')", "Account")
    assert sorted(r["AcctNum"] for r in rows) == ["6100", "6200"]
    rows = _rows(qbo, "SELECT * FROM Vendor WHERE DisplayName LIKE 'north%' AND Active = true", "Vendor")
    assert [r["DisplayName"] for r in rows] == ["Northstar Office Products"]
    rows = _rows(qbo, "SELECT * FROM Vendor WHERE DisplayName LIKE '%Supplies%'", "Vendor")
    assert [r["DisplayName"] for r in rows] == ["ACME Supplies Limited"]


def test_it_excludes_inactive_name_list_rows_unless_active_is_filtered(qbo: QBO) -> None:
    default = _rows(qbo, "SELECT * FROM Account WHERE AcctNum = '6500'", "Account")
    both = _rows(qbo, "SELECT * FROM Account WHERE AcctNum = '6500' AND Active IN (true, false)", "Account")
    inactive = _rows(qbo, "SELECT * FROM Account WHERE Active = false", "Account")
    assert default == [] and len(both) == 1 and both[0] in inactive


def test_it_counts_with_count_star(sb: Sandbox, qbo: QBO) -> None:
    vendors = sb.qbo.objects(qbo.realm_id, "Vendor")
    body = qbo.query("SELECT COUNT(*) FROM Vendor WHERE Active IN (true, false)").json()
    assert body["QueryResponse"] == {"totalCount": len(vendors)}
    active = qbo.query("SELECT COUNT(*) FROM Vendor").json()["QueryResponse"]["totalCount"]
    assert active == sum(1 for v in vendors if v["Active"]) < len(vendors)


def test_it_pages_with_startposition_and_maxresults(qbo: QBO) -> None:
    everything = _rows(qbo, "SELECT * FROM Account ORDERBY Id MAXRESULTS 1000", "Account")
    page = qbo.query("SELECT * FROM Account ORDERBY Id STARTPOSITION 3 MAXRESULTS 4").json()["QueryResponse"]
    assert page["startPosition"] == 3 and page["maxResults"] == 4
    assert page["Account"] == everything[2:6]


def test_it_caps_maxresults_at_1000(sb: Sandbox, client) -> None:
    from sandbox_support import connect

    large = Sandbox.create(seed="large", n_bills=10, n_vendors=2400, n_pos=0)
    with large.client() as c:
        conn = connect(large, c)
        body = conn.query("SELECT * FROM Vendor WHERE Active IN (true, false) MAXRESULTS 5000").json()
    assert body["QueryResponse"]["maxResults"] == 1000


def test_it_orders_descending_with_order_by(qbo: QBO) -> None:
    rows = _rows(qbo, "SELECT * FROM Vendor ORDER BY DisplayName DESC", "Vendor")
    names = [r["DisplayName"].casefold() for r in rows]
    assert names == sorted(names, reverse=True)


def test_it_filters_on_last_updated_time(sb: Sandbox, qbo: QBO) -> None:
    sb.clock.advance(seconds=120)
    vendor = qbo.ok("vendor", {"DisplayName": "Fresh Vendor"})["Vendor"]
    stamp = vendor["MetaData"]["LastUpdatedTime"]
    rows = _rows(qbo, f"SELECT * FROM Vendor WHERE MetaData.LastUpdatedTime >= '{stamp}'", "Vendor")
    assert [r["Id"] for r in rows] == [vendor["Id"]]
    utc = sb.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _rows(qbo, f"SELECT * FROM Vendor WHERE MetaData.LastUpdatedTime > '{utc}'", "Vendor") == []


def test_it_filters_bills_by_vendor_ref_doc_number_and_private_note(qbo: QBO) -> None:
    from sandbox_support import expense_line

    vendor = qbo.one("Vendor", "DisplayName = 'Great Lakes Fasteners'")
    account = qbo.one("Account", "AcctNum = '6100'")
    body = {
        "VendorRef": {"value": vendor["Id"]},
        "DocNumber": "Q-1",
        "PrivateNote": "procurify:bill:abc",
        "Line": [expense_line(account["Id"], 5)],
    }
    bill = qbo.ok("bill", body)["Bill"]
    where = f"VendorRef = '{vendor['Id']}' AND DocNumber = 'Q-1' AND PrivateNote = 'procurify:bill:abc'"
    assert qbo.one("Bill", where)["Id"] == bill["Id"]


def test_it_returns_an_empty_query_response_when_nothing_matches(qbo: QBO) -> None:
    assert qbo.query("SELECT * FROM Bill WHERE DocNumber = 'nope'").json()["QueryResponse"] == {}


def test_it_accepts_the_query_as_an_application_text_post(qbo: QBO) -> None:
    response = qbo.client.post(
        f"{qbo.base}/query",
        content="SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien Industrial Supply'",
        headers={**qbo.headers(), "Content-Type": "application/text"},
    )
    assert response.json()["QueryResponse"]["Vendor"][0]["DisplayName"] == "O'Brien Industrial Supply"
