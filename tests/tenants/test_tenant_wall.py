"""The tenant wall, enumerated from the URLconf: a view added later without protection fails here.

Every URL that carries `org_id` must be wrapped by tenants.access.org_view. An outsider gets 404 on
every method; a viewer gets 403 on every unsafe method (unless the view explicitly lets viewers post)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

APP_PREFIXES = ("tenants.", "mappings.", "connector.")


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def org_patterns() -> list[tuple[str, URLPattern]]:
    found = []
    for route, pattern in _walk(get_resolver().url_patterns):
        module = getattr(pattern.callback, "__module__", "")
        if "<uuid:org_id>" in route and module.startswith(APP_PREFIXES):
            found.append((route, pattern))
    return found


def fill(route: str, org_id: uuid.UUID) -> str:
    """A concrete path: org_id is real, other ids are random (the wall must answer first)."""
    path = route.replace("<uuid:org_id>", str(org_id))
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        converter = path[start + 1 : end].split(":")[0]
        value = "7" if converter == "int" else str(uuid.uuid4())
        path = path[:start] + value + path[end + 1 :]
    return "/" + path


def test_it_finds_the_organisation_urls() -> None:
    routes = [route for route, _ in org_patterns()]
    assert "o/<uuid:org_id>/" in routes
    assert len(routes) >= 4


@pytest.mark.parametrize(("route", "pattern"), org_patterns(), ids=[r for r, _ in org_patterns()])
def test_it_protects_every_organisation_url(route: str, pattern: URLPattern) -> None:
    assert hasattr(pattern.callback, "tenant_access"), f"{route} is not wrapped by tenants.access.org_view"


@pytest.mark.parametrize(("route", "pattern"), org_patterns(), ids=[r for r, _ in org_patterns()])
def test_it_answers_404_to_outsiders(route: str, pattern: URLPattern, org_a, org_b, outsider) -> None:
    path = fill(route, org_a.public_id)
    assert outsider.client.get(path).status_code == 404
    assert outsider.client.post(path, {"name": "x"}).status_code == 404


@pytest.mark.parametrize(("route", "pattern"), org_patterns(), ids=[r for r, _ in org_patterns()])
def test_it_answers_403_to_viewers_writing(route: str, pattern: URLPattern, org_a, viewer) -> None:
    response = viewer.client.post(fill(route, org_a.public_id), {"name": "x", "role": "owner"})
    if pattern.callback.tenant_access["viewer_may_post"]:
        # Pages that change only the viewer's own things (e-mail preferences) let them through.
        assert response.status_code != 403
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("route", "pattern"), org_patterns(), ids=[r for r, _ in org_patterns()])
def test_it_sends_anonymous_users_to_sign_in(route: str, pattern: URLPattern, org_a, client) -> None:
    response = client.get(fill(route, org_a.public_id))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_shows_a_member_their_own_dashboard(org_a, viewer) -> None:
    response = viewer.client.get(f"/o/{org_a.public_id}/")
    assert response.status_code == 200
    assert org_a.name in response.content.decode()


def test_it_does_not_leak_other_organisations_in_the_switcher(org_a, org_b, owner) -> None:
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert org_b.name not in page


def test_it_shows_times_in_the_organisation_time_zone(org_a, owner) -> None:
    from datetime import UTC, datetime

    from tenants.models import SyncSchedule

    SyncSchedule.objects.create(
        organisation=org_a, enabled=True, next_run_at=datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    )
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "Wed 1 Jul 2026, 09:00 PDT" in page  # America/Vancouver is UTC-7 in July
