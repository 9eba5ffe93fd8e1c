"""Celery tasks for connection upkeep. Thin: the logic lives in connector.oauth and is tested there."""

from __future__ import annotations

from celery import shared_task

from connector import oauth


@shared_task(ignore_result=True)
def keep_qbo_tokens_alive() -> dict[str, int]:
    """Daily: refresh idle QuickBooks connections and warn owners before a sign-in expires."""
    return oauth.keep_qbo_tokens_alive()
