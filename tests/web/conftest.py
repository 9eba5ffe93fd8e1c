"""Fixtures for the web tests."""

from __future__ import annotations

import pytest
from web_support import qbo_vendor, vendor_mapping

from mappings.models import QBOVendor, VendorMapping
from tenants.models import Organisation


@pytest.fixture
def acme(org_a: Organisation) -> VendorMapping:
    """Northwind's Procurify vendor 'Acme Ltd' (id 101), unmapped, with QBO vendors to choose from."""
    qbo_vendor(org_a, "56", "Acme Limited")
    qbo_vendor(org_a, "57", "Globex Corporation")
    qbo_vendor(org_a, "58", "Old Supplier", active=False)
    return vendor_mapping(org_a, 101, "Acme Ltd")


@pytest.fixture
def contoso_vendor(org_b: Organisation) -> QBOVendor:
    return qbo_vendor(org_b, "900", "Contoso's own vendor")
