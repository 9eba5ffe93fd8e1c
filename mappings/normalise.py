"""Pure matching rules: vendor-name normalisation and the one-candidate auto-match rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Trailing legal-form suffixes ("Acme Supplies Ltd." == "Acme Supplies"). Order does not matter:
# they are stripped repeatedly, so "Acme Co. Inc." loses both.
SUFFIXES = frozenset(
    {
        "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "plc", "corp", "corporation",
        "co", "company", "gmbh", "ag", "sa", "sas", "srl", "bv", "nv", "pty", "pte", "ulc", "oy", "ab",
    }
)  # fmt: skip
_NON_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    """Case, accents, punctuation, whitespace and trailing Inc/Ltd/LLC-style suffixes removed."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    text = _NON_WORD.sub(" ", text)
    words = _SPACES.sub(" ", text).strip().split(" ")
    while len(words) > 1 and words[-1] in SUFFIXES:
        words.pop()
    return " ".join(w for w in words if w)


@dataclass(frozen=True)
class Candidate:
    qbo_id: str
    name: str
    key: str  # normalised name for vendors, AcctNum for accounts
    active: bool = True


@dataclass(frozen=True)
class Match:
    qbo_id: str
    name: str
    reason: str


def match_vendor(procurify_name: str, candidates: Iterable[Candidate]) -> Match | None:
    """Exactly one active QBO vendor whose normalised DisplayName equals ours, or no match."""
    wanted = normalise_name(procurify_name)
    if not wanted:
        return None
    hits = [c for c in candidates if c.active and c.key == wanted]
    if len(hits) != 1:
        return None
    hit = hits[0]
    return Match(hit.qbo_id, hit.name, f"Name '{procurify_name}' matches QuickBooks vendor '{hit.name}'.")


def match_account(code: str, candidates: Iterable[Candidate]) -> Match | None:
    """Exactly one active QBO account whose number (AcctNum) equals the Procurify code."""
    wanted = code.strip()
    if not wanted:
        return None
    hits = [c for c in candidates if c.active and c.key.strip() == wanted]
    if len(hits) != 1:
        return None
    hit = hits[0]
    return Match(hit.qbo_id, hit.name, f"Code {wanted} equals the number of QuickBooks account '{hit.name}'.")
