"""Classes and locations on bills (pure): Procurify department → QuickBooks class, Procurify location
(the department's branch) → QuickBooks location (the API's Department).

Only what the QuickBooks company switched on is sent (docs/qbo-facts.md, "Classes and locations"):
a class goes on each line (ClassRef) — per line from the line's department, or one class for the
whole bill when the organisation chose that or the company tracks one class per transaction — and
the location goes on the bill (DepartmentRef), since QuickBooks takes one location per bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.procurify.schemas import Bill, CostAllocation
from connector.sync.shapes import Books, Held, Mappings, Ref, bill_label

DETAIL = "AccountBasedExpenseLineDetail"
LINE, BILL = "line", "bill"


@dataclass(frozen=True)
class Dimensions:
    """The organisation's choice (class placement, location on the bill) and its mappings."""

    class_placement: str = ""  # "", "line", "bill"
    location_on_bill: bool = False
    classes: Mapping[int, Ref] = field(default_factory=dict)  # Procurify department id → QBO class
    locations: Mapping[int, Ref] = field(default_factory=dict)  # Procurify location id → QBO location


def class_mode(dims: Dimensions | None, books: Books) -> str:
    """Where classes go for this company now: "" when the organisation or the company has them off."""
    if dims is None or not dims.class_placement or not books.class_tracking:
        return ""
    if books.class_tracking == "transaction":
        return BILL  # the company takes one class per transaction, whatever was chosen
    return dims.class_placement


def locations_on(dims: Dimensions | None, books: Books) -> bool:
    return bool(dims and dims.location_on_bill and books.track_locations)


def class_line(
    line: dict[str, Any], allocation: CostAllocation | None, mappings: Mappings, record: str
) -> dict[str, Any]:
    """A class per line, from the department of the allocation the line comes from."""
    if class_mode(mappings.dimensions, mappings.books) != LINE or allocation is None:
        return line
    ref = _class(allocation, mappings.dimensions, record)
    if ref is not None:
        line[DETAIL]["ClassRef"] = {"value": ref.qbo_id}
    return line


def bill_fields(bill: Bill, lines: list[dict[str, Any]], mappings: Mappings) -> dict[str, Any]:
    """DepartmentRef for the bill, and the one class of a one-class-per-bill company on every line."""
    dims, books, label = mappings.dimensions, mappings.books, bill_label(bill)
    allocations = [a for item in bill.items for a in item.cost_allocations]
    fields: dict[str, Any] = {}
    if class_mode(dims, books) == BILL:
        refs = {r.qbo_id: r for a in allocations if (r := _class(a, dims, label)) is not None}
        if len(refs) > 1:
            why = (
                "QuickBooks tracks one class per bill in this company"
                if books.class_tracking == "transaction"
                else "this organisation puts one class on each bill"
            )
            raise Held("one_class_per_bill", bill=label, classes=_names(refs.values()), why=why)
        for ref in refs.values():
            for line in lines:
                line[DETAIL]["ClassRef"] = {"value": ref.qbo_id}
    if locations_on(dims, books):
        refs = {r.qbo_id: r for a in allocations if (r := _location(a, dims, label)) is not None}
        if len(refs) > 1:
            raise Held("one_location_per_bill", bill=label, locations=_names(refs.values()))
        for ref in refs.values():
            fields["DepartmentRef"] = {"value": ref.qbo_id}
    return fields


def _class(allocation: CostAllocation, dims: Any, record: str) -> Ref | None:
    department = allocation.budget.department if allocation.budget else None
    if department is None:
        return None  # no department in Procurify: the line goes without a class
    ref = dims.classes.get(department.id)
    waiting = ("class_mapping", str(department.id))
    if ref is None:
        raise Held("class_unmapped", waiting_on=waiting, department=department.name, bill=record)
    if not ref.active:
        raise Held(
            "class_inactive", waiting_on=waiting, department=department.name, name=ref.name, bill=record
        )
    return ref


def _location(allocation: CostAllocation, dims: Any, record: str) -> Ref | None:
    department = allocation.budget.department if allocation.budget else None
    branch = department.branch if department else None
    if branch is None:
        return None
    ref = dims.locations.get(branch.id)
    waiting = ("location_mapping", str(branch.id))
    if ref is None:
        raise Held("location_unmapped", waiting_on=waiting, location=branch.name, bill=record)
    if not ref.active:
        raise Held("location_inactive", waiting_on=waiting, location=branch.name, name=ref.name, bill=record)
    return ref


def _names(refs: Any) -> str:
    return ", ".join(sorted(f"'{r.name}'" for r in refs))
