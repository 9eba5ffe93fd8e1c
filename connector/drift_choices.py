"""The choices a person has for a change made in QuickBooks, as the drift and record pages offer them
(connector/sync/drift_actions.py carries them out)."""

from __future__ import annotations

from connector.models import QBODrift
from connector.sync import drift_actions

CHOICE_LABELS = {
    drift_actions.USE_PROCURIFY: "Use Procurify's version",
    drift_actions.KEEP_QBO: "Keep QuickBooks' version",
    drift_actions.RECREATE: "Re-create in QuickBooks",
    drift_actions.LEAVE_DELETED: "Leave it deleted",
    drift_actions.SEEN: "Noted",
}


def choices(drift: QBODrift) -> list[tuple[str, str]]:
    return [(a, CHOICE_LABELS[a]) for a in drift_actions.ALLOWED[QBODrift.Kind(drift.kind)]]
