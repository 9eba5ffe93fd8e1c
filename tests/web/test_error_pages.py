"""Branded error pages with a way back; the 500 page renders without a request context."""

from __future__ import annotations

from django.test import Client, RequestFactory

from config.errors import server_error


def test_the_404_page_is_branded_with_a_way_back(org_a, owner) -> None:
    response = owner.client.get(f"/o/{org_a.public_id}/records/bill/no-such-bill/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "We could not find that page" in page and 'href="/">Back to your dashboard' in page
    assert f"/o/{org_a.public_id}/documents/" in page  # and a way to look for what was meant


def test_a_stranger_gets_the_404_page_too(org_a, db) -> None:
    response = Client().get("/nowhere/")
    assert response.status_code == 404 and "We could not find that page" in response.content.decode()


def test_the_403_page_explains_roles(org_a, viewer) -> None:
    response = viewer.client.post(f"/o/{org_a.public_id}/sync/now/")
    assert response.status_code == 403
    assert "You cannot do that here" in response.content.decode()


def test_the_500_page_needs_no_request_context() -> None:
    response = server_error(RequestFactory().get("/boom/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page and 'href="/">Back to your dashboard' in page
