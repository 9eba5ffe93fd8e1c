"""Turn compact Procurify records into the spec's JSON shapes (reference §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from . import procurify_files as files
from .procurify_data import CENT, Site, day, money, stamp


def currency(site: Site, cid: int, full: bool = False) -> dict[str, Any]:
    row = site.currencies[cid]
    return dict(row) if full else {"id": row["id"], "name": row["name"], "rate": row["rate"]}


def location(site: Site, lid: int) -> dict[str, Any]:
    return dict(site.locations[lid])


def department(site: Site, did: int) -> dict[str, Any]:
    dept = site.departments[did]
    branch = site.locations[dept["branch_id"]]
    out = {k: v for k, v in dept.items() if k != "branch_id"}
    out["branch"] = {"id": branch["id"], "name": branch["name"], "headquarter": branch["headquarter"]}
    return out


def account_code(site: Site, aid: int) -> dict[str, Any]:
    return dict(site.account_codes[aid])


def budget(site: Site, code_id: int, dept_id: int) -> dict[str, Any]:
    """A Procurify "Account" is one account code in one department."""
    code = site.account_codes[code_id]
    return {
        "id": code_id * 1000 + dept_id,
        "active": code["active"],
        "account_code": {
            k: code[k] for k in ("id", "code", "description", "account_type", "active", "parent")
        },
        "department": department(site, dept_id),
    }


def bill_totals(bill: dict[str, Any]) -> dict[str, Decimal]:
    """What the bill owes, as Procurify sums it: items + item tax + item shipping + bill shipping + costs."""
    subtotal = tax = inclusive = item_shipping = Decimal(0)
    for item in bill["items"]:
        line = _line_total(item)
        subtotal += line
        if item.get("tax_inclusive"):
            inclusive += _line_tax(item, line)  # already inside the line's price
        else:
            tax += _line_tax(item, line)
        item_shipping += item.get("shipping", Decimal(0))
    shipping = bill.get("shipping", Decimal(0))
    costs = sum((c["amount"] for c in bill.get("costs", [])), Decimal(0))
    total = subtotal + tax + item_shipping + shipping + costs
    return {
        "subtotal": subtotal,
        "tax": tax,
        "inclusive_tax": inclusive,
        "shipping": shipping,
        "costs": costs,
        "total": total,
    }


def _line_total(item: dict[str, Any]) -> Decimal:
    return (item["quantity"] * item["unit_cost"]).quantize(CENT)


def _line_tax(item: dict[str, Any], line: Decimal) -> Decimal:
    pct = item.get("tax_percentage", Decimal(0))
    if item.get("tax_inclusive"):  # the price includes the tax: take out the tax part
        return (line * pct / (100 + pct)).quantize(CENT)
    return (line * pct / 100).quantize(CENT)


def bill_row(site: Site, bill: dict[str, Any], today: date) -> dict[str, Any]:
    totals = bill_totals(bill)
    vendor = site.vendors[bill["vendor_id"]]
    due = bill.get("due_date")
    return {
        "id": bill["id"],
        "uuid": bill["uuid"],
        "version": bill["version"],
        "status": bill["status"],
        "type": bill["type"],
        "locked": bill["status"] in (4, 6, 7),
        "invoice_number": bill["invoice_number"],
        "invoice_date": day(bill.get("invoice_date")),
        "due_date": day(due),
        "submitted_date": stamp(bill.get("submitted")),
        "gl_post_date": day(bill.get("gl_post_date")),
        "last_modified_datetime": stamp(bill["last_modified"]),
        "last_export_date": None,
        "last_export_user": None,
        "vendor": {"id": vendor["id"], "name": vendor["name"]},
        "currency": currency(site, bill["currency_id"]),
        "total_cost_with_tax": float(totals["total"]),
        "items": [item["id"] for item in bill["items"]],
        "group": bill.get("group"),  # bill group: what payments name in bill_groups
        "past_due": bool(due and due < today and bill["status"] not in (4, 6)),
        "payment_uuid": None,
        "invoice_uuid": None,
        "user": bill.get("user", 1),
        "creator": bill.get("user", 1),
        "approver": bill.get("user", 1) if bill["status"] >= 2 else None,
        "next_approver_choices": [],
    }


def bill_detail(
    site: Site, bill: dict[str, Any], today: date, files_base: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """files_base: the site URL the request came to (download links point there)."""
    out = bill_row(site, bill, today)
    totals = bill_totals(bill)
    vendor = site.vendors[bill["vendor_id"]]
    # `currency.rate` is today's rate; the conversion used the bill's own rate (§3, issue 10 g).
    rate = Decimal(bill.get("rate") or site.currencies[bill["currency_id"]]["rate"])
    out.update(
        {
            "vendor": dict(vendor),
            "vendor_name": vendor["name"],
            "vendor_address_one": vendor.get("addressLineOne"),
            "vendor_address_two": vendor.get("addressLineTwo"),
            "vendor_city": vendor.get("city"),
            "vendor_state_province": vendor.get("state_province"),
            "vendor_postal_code": vendor.get("postalCode"),
            "vendor_country": vendor.get("country"),
            "vendor_contact": vendor.get("contact"),
            "currency": currency(site, bill["currency_id"], full=True),
            "items": [_bill_item(site, bill, item) for item in bill["items"]],
            "costs": [_cost(site, bill, cost) for cost in bill.get("costs", [])],
            "bill_statuses": [],
            "bill_payment": {"payment_date": day(bill["paid_on"])} if bill.get("paid_on") else None,
            "payment_terms": bill.get("payment_terms", ""),
            "payment_method": None,
            "payment_method_name": None,
            "note": bill.get("note", ""),
            "active": bill.get("active", True),
            "subtotal_cost": float(totals["subtotal"]),
            "shipping_amount": float(totals["shipping"]),
            "tax_amount": float(totals["tax"] + totals["inclusive_tax"]),
            "inclusive_tax_amount": float(totals["inclusive_tax"]),
            "exclusive_tax_amount": float(totals["tax"]),
            "total_cost": float(totals["subtotal"]),
            "total_cost_with_tax": float(totals["total"]),
            "converted_total_cost": float((totals["total"] * rate).quantize(CENT)),
            "added_purchase_orders": _added_pos(site, bill),
            "invoice_attachments": files.render(
                site,
                bill,
                files_base or f"http://sandbox.test/procurify/{site.domain}",
                now or datetime.combine(today, time(), UTC),
            ),
            "comments": [],
        }
    )
    return out


def _cost(site: Site, bill: dict[str, Any], cost: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cost["id"],
        "name": cost["name"],
        "amount": money(cost["amount"]),
        "cost_allocation": None,
        "currency": currency(site, bill["currency_id"]),
    }


def _bill_item(site: Site, bill: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    line = _line_total(item)
    pct = item.get("tax_percentage", Decimal(0))
    tax = _line_tax(item, line)
    po = site.pos.get(item["po_id"]) if item.get("po_id") else None
    cur = currency(site, bill["currency_id"])
    return {
        "id": item["id"],
        "bill": bill["id"],
        "description": item["description"],
        "sku": item.get("sku", ""),
        "unit": item.get("unit", "ea"),
        "quantity": money(item["quantity"]),
        "unit_cost": float(item["unit_cost"]),
        "total_cost": float(line),
        "tax_name": item.get("tax_name") or None,
        # Two places, unless the rate has more (Quebec's QST is 9.975%).
        "tax_percentage": money(pct) if pct == pct.quantize(CENT) else str(pct),
        "tax_amount": float(tax),
        "tax_is_inclusive": bool(item.get("tax_inclusive")),
        # Some rows carry null here although total_cost and allocations are set (issue 10 d).
        "total_cost_with_tax": None
        if item.get("null_total_with_tax")
        else float(line if item.get("tax_inclusive") else line + tax),
        "shipping_amount": float(item.get("shipping", Decimal(0))),
        "po": {"id": po["id"], "number": po["number"], "uuid": po["uuid"]} if po else None,
        "orderitem": item.get("po_line_id"),
        "vendor": bill["vendor_id"],
        "currency": cur,
        "custom_fields": [],
        "received_on": None,
        "cost_allocations": [
            {
                "id": alloc["id"],
                "amount": money(alloc["amount"]),
                "currency": cur,
                "budget": budget(site, alloc["code_id"], alloc["dept_id"]),
            }
            for alloc in item["allocs"]
        ],
    }


def _added_pos(site: Site, bill: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for item in bill["items"]:
        po = site.pos.get(item.get("po_id") or 0)
        if po and po["id"] not in seen:
            cur = site.currencies[po["currency_id"]]["name"]
            seen[po["id"]] = {
                "id": po["id"],
                "number": po["number"],
                "currency": cur,
                "total_amount": po_total(po),
            }
    return list(seen.values())


def po_total(po: dict[str, Any]) -> str:
    return money(sum((ln["quantity"] * ln["price"] for ln in po["lines"]), Decimal(0)) + po.get("freight", 0))


def po_row(site: Site, po: dict[str, Any]) -> dict[str, Any]:
    subtotal = sum((ln["quantity"] * ln["price"] for ln in po["lines"]), Decimal(0))
    vendor = site.vendors[po["vendor_id"]]
    cur = site.currencies[po["currency_id"]]
    return {
        "uuid": po["uuid"],
        "number": po["number"],
        "procurify_PO": po["id"],
        "PO_Num": None,
        "version": po["version"],
        "state": po["state"],
        "fulfilment_status": po["fulfilment_status"],
        "date": stamp(po["created"]),
        "last_modified": stamp(po["last_modified"]),
        "recorded_date": stamp(po["created"]),
        "closed_date": None,
        "promise_date": day(po.get("promise_date")),
        "expiry_date": None,
        "pref_vendor": dict(vendor),
        "vendor_name": vendor["name"],
        "payment_terms": po.get("payment_terms", ""),
        "shipping_terms": "",
        "shipping_method": "",
        "subtotal": money(subtotal),
        "freight": money(po.get("freight", Decimal(0))),
        "tax": {"type": "amount", "value": 0.0},
        "discount": {"type": "amount", "value": 0.0},
        "other": "0.00",
        "total": po_total(po),
        "purchased_currency": {
            "id": cur["id"],
            "name": cur["name"],
            "rate": cur["rate"],
            "base": cur["base"],
        },
        "purchased_currency_rate": po.get("rate") or cur["rate"],  # the rate when it was purchased
        "purchaser": 1,
        "item_count": len(po["lines"]),
        "staged_for_export": False,
        "comment": "",
    }


def po_detail(site: Site, po: dict[str, Any]) -> dict[str, Any]:
    out = po_row(site, po)
    cur = currency(site, po["currency_id"])
    out["order_items"] = [
        {
            "id": ln["id"],
            "PO_line_num": index + 1,
            "name": ln["name"],
            "sku": ln.get("sku", ""),
            "unit": ln.get("unit", "ea"),
            "quantity": money(ln["quantity"]),
            "price": money(ln["price"]),
            # What the approver allowed; may differ from what was asked ("0" = line declined).
            "approved_quantity": money(Decimal(str(ln.get("approved_quantity", ln["quantity"])))),
            "approved_price": money(Decimal(str(ln.get("approved_price", ln["price"])))),
            "total_cost": money(ln["quantity"] * ln["price"]),
            "tax_amount": "0.00",
            "shipping_amount": "0.00",
            "currency": cur,
            "account": budget(site, ln["code_id"], ln["dept_id"]),
            "accountCode": site.account_codes[ln["code_id"]]["code"],
            "receivedPassQty": money(ln.get("received", Decimal(0))),
            "receivedFailQty": "0.00",
            "last_modified": stamp(po["last_modified"]),
            "purchase_order_number": po["number"],
            "external_id": None,
        }
        for index, ln in enumerate(po["lines"])
    ]
    out.update({"payment_term": None, "shipping_term": None, "custom_fields": [], "creditcard": None})
    return out
