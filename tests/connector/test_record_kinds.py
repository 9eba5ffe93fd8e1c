"""The record-kind registry (connector/kinds.py): the only place a kind and its words are spelled."""

from __future__ import annotations

import pytest

from connector import kinds
from connector.document_summary import DocumentSummary
from connector.kinds import KINDS, RecordKind
from connector.models import AuditEvent, ExternalRecord, HeldRecord, QBODrift, SyncRun
from sandbox import Sandbox
from tests.engine.conftest import NOW, build_harness

MODELS_WITH_KINDS = (ExternalRecord, HeldRecord, QBODrift, DocumentSummary)


def test_it_has_the_facts_of_every_kind() -> None:
    assert set(KINDS) == set(RecordKind)
    for kind, spec in KINDS.items():
        assert spec.label == kind.label and spec.label[0].isupper()
        assert spec.noun == spec.label.lower() and spec.plural.startswith(spec.noun)
        assert spec.qbo_entity[0].isupper() and " " not in spec.qbo_entity
    assert kinds.BY_QBO_ENTITY["VendorCredit"] == RecordKind.VENDOR_CREDIT
    assert set(kinds.DOCUMENTS) == {RecordKind.BILL, RecordKind.PURCHASE_ORDER}


def test_it_compares_equal_to_the_strings_rows_store() -> None:
    assert RecordKind.PURCHASE_ORDER == "purchase_order" and f"{RecordKind.BILL}" == "bill"
    assert {"bill": 1}[RecordKind.BILL] == 1
    assert kinds.plural("purchase_order") == "purchase orders" and kinds.plural("thing") == "things"


def test_it_refuses_a_string_that_is_not_a_kind() -> None:
    with pytest.raises(ValueError):
        kinds.spec("invoice")


@pytest.mark.parametrize("model", MODELS_WITH_KINDS)
def test_its_model_choices_equal_the_registry(model) -> None:
    assert model._meta.get_field("object_type").choices == RecordKind.choices


@pytest.mark.django_db
def test_every_object_type_a_full_distributor_sync_stores_is_a_registered_kind(org_a) -> None:
    harness = build_harness(Sandbox.create(seed="distributor", now=NOW))
    try:
        run = harness.run(org_a)
    finally:
        harness.http.close()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error

    stored: set[str] = set()
    for model in MODELS_WITH_KINDS:
        stored |= set(model.objects.filter(organisation=org_a).values_list("object_type", flat=True))
    # The audit trail also files reference reads (currencies, account codes) under their own names.
    audited = set(
        AuditEvent.objects.filter(organisation=org_a, kind=AuditEvent.Kind.HOLD).values_list(
            "object_type", flat=True
        )
    )
    assert {"bill", "vendor", "vendor_credit", "attachment"} <= stored  # the sync wrote something of each
    assert stored | audited <= set(RecordKind.values), sorted((stored | audited) - set(RecordKind.values))
