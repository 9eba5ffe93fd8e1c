"""Vendor and account mappings between Procurify and QuickBooks Online (filled in by the sync engine)."""

from __future__ import annotations
