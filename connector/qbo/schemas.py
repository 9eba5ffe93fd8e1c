"""Pydantic models for QBO entities and Fault bodies (quickbooks-online.md §3, §5).

Entities use ``extra="allow"`` so a read → edit → full update round trip keeps every field we
do not model. Field names are QBO's own (PascalCase) so ``model_dump(exclude_unset=True)``
produces a body QBO accepts. Amounts are Decimal (the client decodes JSON with parse_float).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import FaultError

Money = Annotated[Decimal, Field(allow_inf_nan=False)]


class QBOModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Ref(QBOModel):
    """``{"value": "<Id>", "name": "<display>"}``; only ``value`` is needed on write."""

    value: str
    name: str | None = None


class TxnMetaData(QBOModel):
    CreateTime: datetime | None = None
    LastUpdatedTime: datetime | None = None


class Entity(QBOModel):
    """Any QBO entity: Id, SyncToken and MetaData are common to all (§3 general rules)."""

    Id: str | None = None
    SyncToken: str | None = None
    MetaData: TxnMetaData | None = None
    domain: str | None = None
    sparse: bool | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body to send back: only the fields that were present, with QBO's names."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class EmailAddress(QBOModel):
    Address: str | None = None


class Vendor(Entity):
    DisplayName: str | None = None
    CompanyName: str | None = None
    PrintOnCheckName: str | None = None
    Active: bool | None = None
    AcctNum: str | None = None
    PrimaryEmailAddr: EmailAddress | None = None
    TermRef: Ref | None = None
    CurrencyRef: Ref | None = None
    Balance: Money | None = None


class Account(Entity):
    Name: str | None = None
    AcctNum: str | None = None
    FullyQualifiedName: str | None = None
    AccountType: str | None = None
    AccountSubType: str | None = None
    Classification: str | None = None
    Active: bool | None = None
    SubAccount: bool | None = None
    ParentRef: Ref | None = None
    CurrencyRef: Ref | None = None
    Description: str | None = None
    CurrentBalance: Money | None = None


class Term(Entity):
    Name: str | None = None
    Active: bool | None = None
    Type: str | None = None
    DueDays: int | None = None


class TxnLink(QBOModel):
    TxnId: str
    TxnType: str
    TxnLineId: str | None = None


class AccountLineDetail(QBOModel):
    AccountRef: Ref
    ClassRef: Ref | None = None
    CustomerRef: Ref | None = None
    BillableStatus: str | None = None
    TaxCodeRef: Ref | None = None


class ItemLineDetail(QBOModel):
    ItemRef: Ref
    Qty: Decimal | None = None
    UnitPrice: Decimal | None = None
    ClassRef: Ref | None = None


class ExpenseLine(QBOModel):
    Id: str | None = None
    LineNum: int | None = None
    Description: str | None = None
    Amount: Money
    DetailType: str
    AccountBasedExpenseLineDetail: AccountLineDetail | None = None
    ItemBasedExpenseLineDetail: ItemLineDetail | None = None
    LinkedTxn: list[TxnLink] | None = None


class PayablesTxn(Entity):
    """What a Bill and a VendorCredit share: the header and lines that land in accounts payable."""

    VendorRef: Ref | None = None
    APAccountRef: Ref | None = None
    TxnDate: date | None = None
    DocNumber: str | None = None
    PrivateNote: str | None = None
    CurrencyRef: Ref | None = None
    ExchangeRate: Decimal | None = None
    Line: list[ExpenseLine] | None = None
    LinkedTxn: list[TxnLink] | None = None
    TotalAmt: Money | None = None
    Balance: Money | None = None
    status: str | None = None  # "Deleted" on delete responses


class Bill(PayablesTxn):
    DueDate: date | None = None
    SalesTermRef: Ref | None = None


class PurchaseOrder(Entity):
    VendorRef: Ref | None = None
    APAccountRef: Ref | None = None
    POStatus: str | None = None
    DocNumber: str | None = None
    TxnDate: date | None = None
    DueDate: date | None = None
    CurrencyRef: Ref | None = None
    Line: list[ExpenseLine] | None = None
    LinkedTxn: list[TxnLink] | None = None
    TotalAmt: Money | None = None


class VendorCredit(PayablesTxn):
    """A credit a vendor owes back: a Bill without due date or terms (docs/qbo-facts.md, "Credits")."""


class CompanyInfo(Entity):
    CompanyName: str | None = None
    LegalName: str | None = None
    Country: str | None = None


class Preferences(Entity):
    """The company's settings; only the parts the sync reads are typed (docs/qbo-facts.md)."""

    CurrencyPrefs: dict[str, Any] | None = None
    AccountingInfoPrefs: dict[str, Any] | None = None
    OtherPrefs: dict[str, Any] | None = None

    def other(self, name: str) -> str | None:
        """A value of OtherPrefs.NameValue (a list of {Name, Value} strings), or None."""
        for pair in (self.OtherPrefs or {}).get("NameValue") or []:
            if isinstance(pair, dict) and pair.get("Name") == name:
                value = pair.get("Value")
                return str(value) if value is not None else None
        return None


class Attachable(Entity):
    """A file (or note) linked to objects through ``AttachableRef`` (QBO §14; docs/qbo-facts.md)."""

    FileName: str | None = None
    Note: str | None = None
    ContentType: str | None = None
    Size: Decimal | None = None
    AttachableRef: list[dict[str, Any]] | None = None


ENTITY_MODELS: dict[str, type[Entity]] = {
    "Attachable": Attachable,
    "Vendor": Vendor,
    "Account": Account,
    "Term": Term,
    "Bill": Bill,
    "PurchaseOrder": PurchaseOrder,
    "VendorCredit": VendorCredit,
    "CompanyInfo": CompanyInfo,
    "Preferences": Preferences,
}


def entity_model(entity: str) -> type[Entity]:
    return ENTITY_MODELS.get(entity, Entity)


class FaultErrorModel(BaseModel):
    """One Fault error; accepts both ``Message`` and gateway ``message`` spellings (§5)."""

    model_config = ConfigDict(extra="ignore")

    code: str = ""
    Message: str = ""
    Detail: str = ""
    element: str = ""

    def to_error(self) -> FaultError:
        return FaultError(code=self.code, message=self.Message, detail=self.Detail, element=self.element)


class Fault(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    Error: list[FaultErrorModel] = Field(default_factory=list)

    @classmethod
    def from_raw(cls, raw: Any) -> Fault:
        """Normalise ``Fault/Error/Message`` and lower-case ``fault/error/message`` shapes."""
        if not isinstance(raw, dict):
            return cls()
        errors = raw.get("Error", raw.get("error")) or []
        if isinstance(errors, dict):
            errors = [errors]
        return cls(type=_str(raw.get("type")), Error=[_error(e) for e in errors if isinstance(e, dict)])


def _error(raw: dict[str, Any]) -> FaultErrorModel:
    return FaultErrorModel(
        code=_str(raw.get("code")) or "",
        Message=_str(raw.get("Message", raw.get("message"))) or "",
        Detail=_str(raw.get("Detail", raw.get("detail"))) or "",
        element=_str(raw.get("element")) or "",
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
