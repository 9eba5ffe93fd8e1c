"""A crash while a secret is being posted must not copy that secret into the error report (the
e-mail to ADMINS, Sentry's request body, the DEBUG page): the Procurify form is marked with
sensitive_post_parameters, and Django's reporter masks the field."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.contrib.messages.api import MessageFailure
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import resolve
from django.views.debug import ExceptionReporter

from tenants.models import Connection, Organisation, Provider

SECRET = "pcs-live-9f8e7d6c5b4a-do-not-leak"


def crash_report(
    org: Organisation, user: Any, *, with_session: bool, expected: type[Exception]
) -> tuple[str, str]:
    """POST the form through the real URLconf entry, let it crash, and build both report formats."""
    path = f"/o/{org.public_id}/connections/procurify/"
    data = {"site_url": "https://northwind.procurify.com", "client_id": "client-1", "client_secret": SECRET}
    request = RequestFactory().post(path, data)
    request.user = user
    if with_session:
        request.session = SessionStore()
    match = resolve(path)
    with pytest.raises(expected):
        match.func(request, *match.args, **match.kwargs)
    reporter = ExceptionReporter(request, *sys.exc_info())
    return reporter.get_traceback_html(), reporter.get_traceback_text()


def assert_masked(reports: tuple[str, str]) -> None:
    for report in reports:
        assert SECRET not in report
        assert "client_secret" in report and "********" in report  # masked, not dropped
        assert "client-1" in report  # ordinary fields stay visible for debugging


def test_it_keeps_the_client_secret_out_of_a_crash_report_when_the_procurify_form_fails(org_a, owner) -> None:
    # Crashes after saving: a request without the messages middleware cannot add "details saved".
    reports = crash_report(org_a, owner.user, with_session=True, expected=MessageFailure)
    # The secret really reached the view (and the database) before the crash.
    assert Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY).client_secret == SECRET
    assert_masked(reports)


def test_it_keeps_the_client_secret_out_of_a_crash_report_when_the_access_check_fails(org_a, owner) -> None:
    # Crashes inside org_view (no session to remember the organisation in), before the view runs.
    reports = crash_report(org_a, owner.user, with_session=False, expected=AttributeError)
    assert not Connection.objects.filter(organisation=org_a).exists()
    assert_masked(reports)
