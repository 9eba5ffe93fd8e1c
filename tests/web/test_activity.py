"""Issue 12, who did what: role changes, mapping choices and replays are recorded with the person and
shown, newest first, on the organisation's activity page."""

from __future__ import annotations

from web_support import account_mapping, event, qbo_account

from tenants.models import Membership


def test_a_role_change_is_on_the_activity_page_with_who_did_it(org_a, owner, viewer) -> None:
    membership = Membership.objects.get(organisation=org_a, user=viewer.user)

    owner.client.post(f"/o/{org_a.public_id}/members/{membership.public_id}/", {"role": "admin"})

    page = viewer.client.get(f"/o/{org_a.public_id}/activity/").content.decode()
    assert f"Made {viewer.user.email} admin" in page and owner.user.email in page


def test_a_mapping_choice_and_a_replay_are_recorded_newest_first(org_a, owner) -> None:
    qbo_account(org_a, "80", "6100", "Office Supplies")
    mapping = account_mapping(org_a, 8, "6100")
    owner.client.post(f"/o/{org_a.public_id}/mappings/accounts/{mapping.public_id}/", {"qbo_id": "80"})
    event(org_a, "b1", "read", "Read")
    owner.client.post(f"/o/{org_a.public_id}/records/bill/b1/replay/")

    page = owner.client.get(f"/o/{org_a.public_id}/activity/").content.decode()

    assert "Mapped 6100 to" in page
    assert f"Replay asked for by {owner.user.email}" in page
    assert page.index("Replay asked for") < page.index("Mapped 6100 to")


def test_an_outsider_cannot_read_the_activity(org_a, outsider) -> None:
    assert outsider.client.get(f"/o/{org_a.public_id}/activity/").status_code == 404


def test_a_mapping_row_says_who_chose_it_and_when(org_a, owner) -> None:
    qbo_account(org_a, "80", "6100", "Office Supplies")
    mapping = account_mapping(org_a, 8, "6100")
    owner.client.post(f"/o/{org_a.public_id}/mappings/accounts/{mapping.public_id}/", {"qbo_id": "80"})

    page = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/").content.decode()

    assert f"Chosen by {owner.user.email} on " in page
