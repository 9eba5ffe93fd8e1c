"""Sales tax outside the US (pure): tax codes on bill lines, and QuickBooks' total proven before writing.

QuickBooks Canada, UK and Australia need a TaxCode on every bill line and work the tax out
themselves (docs/qbo-facts.md, "Sales tax outside the US"): per tax rate, on the sum of the lines
carrying it, rounded once. Procurify rounds each line's tax. So we predict QuickBooks' figure the
same way and hold the bill unless its total and its tax equal Procurify's to the cent.

A US company is untouched: its lines keep the tax folded into the amount (transform._allocated).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.procurify.schemas import Bill, BillItem, CostAllocation
from connector.sync.shapes import CENT, Books, Held, Mappings, bill_label
from mappings.dimension_models import tax_label

HUNDRED = Decimal(100)
UNTAXED: tuple[str | None, Decimal | None] = ("", Decimal(0))  # shipping, costs: Procurify puts no tax on
EXCLUDED, INCLUSIVE = "TaxExcluded", "TaxInclusive"
DETAIL = "AccountBasedExpenseLineDetail"


@dataclass(frozen=True)
class TaxCode:
    """A mapped QuickBooks TaxCode: Id, name, active, and its purchase rates (TaxRate Id, percent)."""

    qbo_id: str
    name: str
    active: bool = True
    rates: tuple[tuple[str, Decimal], ...] = ()


def applies(books: Books) -> bool:
    return books.line_tax


def tax_key(name: str | None, percentage: Decimal | str | int | None) -> str:
    """What a tax mapping is keyed by (and a hold waits on): the folded name and the percentage."""
    pct = Decimal(str(percentage or 0)).normalize()
    text = " ".join((name or "").split()).casefold()[:40]
    return f"{text}|{pct:f}"


def item_tax(item: BillItem) -> tuple[str | None, Decimal | None]:
    return item.tax_name, item.tax_percentage


def bill_mode(bill: Bill) -> str:
    """TaxInclusive when every taxed line's price includes its tax, else TaxExcluded (inclusive lines
    are then written net of their tax, so one bill can mix both)."""
    taxed = [i for i in bill.items if _tax(i)]
    return INCLUSIVE if taxed and all(i.tax_is_inclusive for i in taxed) else EXCLUDED


def allocated(item: BillItem, mode: str) -> list[tuple[CostAllocation, Decimal]]:
    """Each allocation's amount as the bill's mode wants it: net of tax for TaxExcluded (an inclusive
    line gives up its tax, the last allocation taking the rounding remainder), as is otherwise."""
    allocations = list(item.cost_allocations)
    if not allocations:
        owed = item.total_cost_with_tax if item.total_cost_with_tax is not None else item.total_cost
        if owed:
            raise Held("account_unmapped", account=f"(no account code on '{item.description or item.id}')")
        return []
    inside = _tax(item) if (mode == EXCLUDED and item.tax_is_inclusive) else Decimal(0)
    base = sum((a.amount for a in allocations), Decimal(0))
    out, given = [], Decimal(0)
    for index, allocation in enumerate(allocations):
        if index == len(allocations) - 1:
            share = inside - given
        else:
            share = _money(inside * allocation.amount / base) if base else Decimal(0)
            given += share
        out.append((allocation, _money(allocation.amount - share)))
    return out


def code_line(
    line: dict[str, Any], tax: tuple[str | None, Decimal | None], mappings: Mappings, record: str
) -> dict[str, Any]:
    """Put the mapped TaxCode on a line (non-US companies), or hold naming the tax."""
    if not applies(mappings.books):
        return line
    code = _code(*tax, mappings, record)
    line[DETAIL]["TaxCodeRef"] = {"value": code.qbo_id}
    return line


def bill_fields(bill: Bill, lines: list[dict[str, Any]], mappings: Mappings) -> dict[str, Any]:
    """GlobalTaxCalculation, after proving QuickBooks' total and tax equal Procurify's to the cent
    ("_total": that total, for the writer's comparison with what the books show; not sent)."""
    label = bill_label(bill)
    if bill.total_cost_with_tax is None:
        raise Held("bill_total_missing", bill=label)
    mode = bill_mode(bill)
    lines_total = sum((Decimal(line["Amount"]) for line in lines), Decimal(0))
    tax = predicted_tax(lines, mode, mappings, label)
    total = lines_total + tax if mode == EXCLUDED else lines_total
    owed = _money(bill.total_cost_with_tax)
    procurify_tax = _money(bill.tax_amount) if bill.tax_amount is not None else tax
    if total != owed or tax != procurify_tax:
        raise Held(
            "tax_total_mismatch",
            bill=label,
            qbo_total=total,
            qbo_tax=tax,
            total=owed,
            tax=procurify_tax,
        )
    return {"GlobalTaxCalculation": mode, "_total": total}


def predicted_tax(lines: list[dict[str, Any]], mode: str, mappings: Mappings, record: str) -> Decimal:
    """QuickBooks' tax for these lines: per rate, on the sum of the lines carrying it, rounded once."""
    by_code = {code.qbo_id: code for code in mappings.tax_codes.values()}
    bases: dict[str, list[Decimal]] = {}
    for line in lines:
        code = by_code[line[DETAIL]["TaxCodeRef"]["value"]]
        amount = Decimal(line["Amount"])
        combined = sum((pct for _rid, pct in code.rates), Decimal(0))
        for rate_id, pct in code.rates:
            base = amount if mode == EXCLUDED else amount * HUNDRED / (HUNDRED + combined)
            bases.setdefault(rate_id, [Decimal(0), pct])[0] += base
    return sum((_money(base * pct / HUNDRED) for base, pct in bases.values()), Decimal(0))


def _code(name: str | None, pct: Decimal | None, mappings: Mappings, record: str) -> TaxCode:
    key, label = tax_key(name, pct), tax_label(name, pct)
    # The name and percentage as Procurify spells them, so the mapping row can be made from the hold.
    given = {"tax": label, "bill": record, "tax_name": (name or "").strip(), "tax_percentage": pct or 0}
    waiting = ("tax_mapping", key)
    code = mappings.tax_codes.get(key)
    if code is None:
        raise Held("tax_unmapped", waiting_on=waiting, **given)
    if not code.active or not code.rates:
        raise Held("tax_code_unusable", waiting_on=waiting, code=code.name, **given)
    return code


def _tax(item: BillItem) -> Decimal:
    return _money(item.tax_amount or Decimal(0))


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
