"""Pure matching rules: a vendor name's identity, the auto-match rules and the suggestions a person confirms.

A vendor's identity is its folded name (case, accents, punctuation, whitespace, "&" = "and") plus
its legal form, with spellings of the same form made one ("Ltd." = "Limited", "L.L.C." = "LLC").
So "Pacific Packaging Co." is "Pacific Packaging Co", but "Acme AG" is not "Acme GmbH" and "Acme"
is not "Acme GmbH": those are different companies until a person says otherwise (issue 10, item 4).

Automatic only when: the same identity, exactly one such QuickBooks vendor, no currency conflict,
and one Procurify vendor per QuickBooks vendor. A near miss becomes a Suggestion with its reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Canonical legal form → (how it is shown, the folded spellings that mean it). Only trailing words
# count, so "Co" in "Acme Co Supplies" is part of the name.
LEGAL_FORMS: dict[str, tuple[str, frozenset[str]]] = {
    "inc": ("Inc", frozenset({"inc", "incorporated"})),
    "ltd": ("Ltd", frozenset({"ltd", "limited"})),
    "co": ("Co", frozenset({"co", "company"})),
    "corp": ("Corp", frozenset({"corp", "corporation"})),
    "llc": ("LLC", frozenset({"llc"})),
    "llp": ("LLP", frozenset({"llp"})),
    "lp": ("LP", frozenset({"lp"})),
    "plc": ("PLC", frozenset({"plc"})),
    "pty": ("Pty", frozenset({"pty", "proprietary"})),
    "pte": ("Pte", frozenset({"pte"})),
    "pvt": ("Pvt", frozenset({"pvt", "private"})),
    "ulc": ("ULC", frozenset({"ulc"})),
    "gmbh": ("GmbH", frozenset({"gmbh"})),
    "ag": ("AG", frozenset({"ag"})),
    "kg": ("KG", frozenset({"kg"})),
    "se": ("SE", frozenset({"se"})),
    "sa": ("SA", frozenset({"sa"})),
    "sas": ("SAS", frozenset({"sas"})),
    "sarl": ("SARL", frozenset({"sarl"})),
    "srl": ("Srl", frozenset({"srl"})),
    "spa": ("SpA", frozenset({"spa"})),
    "sl": ("SL", frozenset({"sl"})),
    "ltda": ("Ltda", frozenset({"ltda"})),
    "sro": ("s.r.o.", frozenset({"sro"})),
    "bv": ("BV", frozenset({"bv"})),
    "nv": ("NV", frozenset({"nv"})),
    "oy": ("Oy", frozenset({"oy"})),
    "ab": ("AB", frozenset({"ab"})),
    "as": ("A/S", frozenset({"as"})),
    "kk": ("KK", frozenset({"kk"})),
    "sdn": ("Sdn", frozenset({"sdn"})),
    "bhd": ("Bhd", frozenset({"bhd", "berhad"})),
}
_CANONICAL = {spelling: form for form, (_, spellings) in LEGAL_FORMS.items() for spelling in spellings}
# "L.L.C.", "S. A.", "A/S" → one word, so the dotted spelling of a form is the form.
_INITIALS = re.compile(r"(?<!\w)(?:[^\W\d_][./]\s?)+[^\W\d_](?!\w)\.?")
_NON_WORD = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class VendorName:
    base: str  # the folded name without its legal form: "acme supplies"
    form: tuple[str, ...]  # canonical legal form, possibly empty: ("gmbh", "co", "kg")

    @property
    def key(self) -> str:
        """The identity: equal keys mean the same legal entity by name."""
        return " ".join(w for w in (self.base, *self.form) if w)

    @property
    def form_label(self) -> str:
        return " ".join(LEGAL_FORMS[f][0] for f in self.form) or "none"


def parse_name(name: str) -> VendorName:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = _INITIALS.sub(lambda m: re.sub(r"[./\s]", "", m.group()), text)
    text = _NON_WORD.sub(" ", text.replace("&", " and "))
    words = [w for w in _SPACES.sub(" ", text).strip().split(" ") if w]
    form: list[str] = []
    while len(words) > 1:
        if words[-1] in _CANONICAL:
            form.insert(0, _CANONICAL[words.pop()])
        elif words[-1] == "and" and form and len(words) > 2 and words[-2] in _CANONICAL:
            words.pop()  # "GmbH & Co. KG": the "&" is inside the form
        else:
            break
    return VendorName(" ".join(words), tuple(form))


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and whitespace folded; the legal form kept in one spelling."""
    return parse_name(name).key


@dataclass(frozen=True)
class Candidate:
    qbo_id: str
    name: str
    key: str = ""  # AcctNum for accounts; vendors are compared by parsing `name`
    active: bool = True
    currency: str = ""  # a QBO vendor's currency, blank when unknown


@dataclass(frozen=True)
class Match:
    qbo_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Suggestion:
    """A likely match that a person must confirm; never used by the engine."""

    qbo_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class ProcurifyVendor:
    """A Procurify vendor row as the planner needs it."""

    procurify_id: int
    name: str
    currency: str = ""
    qbo_id: str = ""  # the current mapping, if any
    automatic: bool = False  # the current mapping was made by the name rule and may be withdrawn


@dataclass(frozen=True)
class Decision:
    match: Match | None = None  # map automatically
    suggestion: Suggestion | None = None  # leave unmapped, suggest this
    keep: bool = False  # the current mapping stands as it is


def currencies_conflict(procurify: str, qbo: str) -> bool:
    """Both known and different: QBO refuses a bill in one currency for a vendor in another."""
    return bool(procurify and qbo and procurify.strip().upper() != qbo.strip().upper())


class VendorIndex:
    """QBO vendors parsed once and looked up by identity and by name-without-form, so a pass over
    thousands of Procurify vendors costs one dictionary lookup each rather than a scan."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.by_id: dict[str, Candidate] = {}
        self.by_key: dict[str, list[Candidate]] = defaultdict(list)
        self.by_base: dict[str, list[tuple[Candidate, VendorName]]] = defaultdict(list)
        for c in candidates:
            parsed = parse_name(c.name)
            self.by_id[c.qbo_id] = c
            self.by_key[parsed.key].append(c)
            self.by_base[parsed.base].append((c, parsed))


def decide_vendor(
    procurify_name: str, candidates: Iterable[Candidate] | VendorIndex, currency: str = ""
) -> Match | Suggestion | None:
    """One Procurify vendor against QBO's vendors, before the one-to-one rule.

    Match: exactly one active QBO vendor of the same identity and no currency conflict (or, with no
    active one, exactly one inactive one: creating it would fail with 6240, so bills wait as
    "vendor_inactive" until it is reactivated). Suggestion: the same identity in another currency,
    or the same name with a legal form dropped or changed. None: nothing alike, or several alike.
    """
    index = candidates if isinstance(candidates, VendorIndex) else VendorIndex(candidates)
    wanted = parse_name(procurify_name)
    if not wanted.base:
        return None
    same = index.by_key.get(wanted.key, [])
    active_same = [c for c in same if c.active]
    usable = [c for c in (active_same or same) if not currencies_conflict(currency, c.currency)]
    if len(usable) == 1:
        hit = usable[0]
        if hit.active:
            return Match(
                hit.qbo_id, hit.name, f"Name '{procurify_name}' matches QuickBooks vendor '{hit.name}'."
            )
        return Match(hit.qbo_id, hit.name, f"Name matches QuickBooks vendor '{hit.name}', which is inactive.")
    if usable:
        return None  # several of the same identity: a person chooses
    if len(active_same) == 1:
        hit = active_same[0]
        return Suggestion(hit.qbo_id, hit.name, _currency_reason(currency, hit.currency))
    alike = [
        (c, parsed)
        for c, parsed in index.by_base.get(wanted.base, [])
        if c.active and parsed.form != wanted.form
    ]
    if len(alike) != 1:
        return None
    hit, parsed = alike[0]
    reasons = [_form_reason(wanted, parsed)]
    if currencies_conflict(currency, hit.currency):
        reasons.append(_currency_reason(currency, hit.currency))
    return Suggestion(hit.qbo_id, hit.name, "; ".join(reasons))


def plan_vendor_matches(
    vendors: Sequence[ProcurifyVendor], candidates: Iterable[Candidate]
) -> dict[int, Decision]:
    """The decision for every Procurify vendor, with one Procurify vendor per QBO vendor.

    - A mapping not made by the name rule (manual, created) stands, whatever it maps to.
    - An automatic mapping stands while it is the same identity without a currency conflict and
      the only mapping onto its QBO vendor; otherwise it is withdrawn and becomes a suggestion.
    - A new automatic match onto a QBO vendor that another Procurify vendor holds, or that two
      Procurify vendors would take in this pass, becomes a suggestion for each of them.
    """
    index = VendorIndex(candidates)
    decisions: dict[int, Decision] = {}
    holders: dict[str, list[ProcurifyVendor]] = defaultdict(list)
    standing: dict[str, list[ProcurifyVendor]] = defaultdict(list)
    open_rows: list[ProcurifyVendor] = []
    for row in vendors:
        if row.qbo_id and not row.automatic:
            decisions[row.procurify_id] = Decision(keep=True)
            holders[row.qbo_id].append(row)
        elif row.qbo_id and _still_same_entity(row, index.by_id.get(row.qbo_id)):
            standing[row.qbo_id].append(row)
        else:
            open_rows.append(row)
    # Contenders per QBO vendor: automatic mappings that would share it, then new matches onto it.
    contenders: dict[str, list[ProcurifyVendor]] = defaultdict(list)
    for qbo_id, rows in standing.items():
        if len(rows) == 1 and not holders[qbo_id]:
            decisions[rows[0].procurify_id] = Decision(keep=True)
            holders[qbo_id].append(rows[0])
        else:
            contenders[qbo_id].extend(rows)
    for row in open_rows:
        found = decide_vendor(row.name, index, row.currency)
        if isinstance(found, Match):
            contenders[found.qbo_id].append(row)
            decisions[row.procurify_id] = Decision(match=found)
        else:
            decisions[row.procurify_id] = Decision(suggestion=found)
    for qbo_id, rows in contenders.items():
        if len(rows) > 1 or holders[qbo_id]:
            _share(decisions, rows, index.by_id[qbo_id], holders[qbo_id])
    return decisions


def _still_same_entity(row: ProcurifyVendor, qbo: Candidate | None) -> bool:
    return (
        qbo is not None
        and parse_name(row.name).key == parse_name(qbo.name).key
        and not currencies_conflict(row.currency, qbo.currency)
    )


def _share(
    decisions: dict[int, Decision],
    rows: list[ProcurifyVendor],
    qbo: Candidate,
    holders: list[ProcurifyVendor],
) -> None:
    """Rows that would share `qbo`: each gets it as a suggestion naming the other Procurify vendor."""
    for row in rows:
        held = [h for h in holders if h.procurify_id != row.procurify_id]
        rivals = [r for r in rows if r.procurify_id != row.procurify_id]
        if held:
            reason = f"QuickBooks vendor already mapped to Procurify vendor '{held[0].name}'"
        else:
            reason = f"Procurify vendor '{rivals[0].name}' matches the same QuickBooks vendor"
        reason += " — confirm they are the same company"
        decisions[row.procurify_id] = Decision(suggestion=Suggestion(qbo.qbo_id, qbo.name, reason))


def _form_reason(ours: VendorName, theirs: VendorName) -> str:
    if ours.form and theirs.form:
        return (
            f"different legal form: {ours.form_label} vs {theirs.form_label} — confirm it is the same company"
        )
    return (
        f"legal form dropped: Procurify has {ours.form_label}, QuickBooks has {theirs.form_label} — "
        "confirm it is the same company"
    )


def _currency_reason(procurify: str, qbo: str) -> str:
    return (
        f"currencies differ: Procurify bills in {procurify.upper()}, the QuickBooks vendor is in "
        f"{qbo.upper()} — QuickBooks refuses a {procurify.upper()} bill for it"
    )


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
