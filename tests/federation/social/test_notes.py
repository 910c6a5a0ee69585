"""Writing notes, the home timeline and notifications on the member's fediverse pages."""

from __future__ import annotations

import copy
import json

import pytest

from shared.infrastructure.activitypub.vocab import PUBLIC
from tests.federation.activitypub.conftest import post_signed
from tests.federation.social.conftest import submit
from tests.helpers import text_of

FEDERATION = "http://federation.test"
ALICE = f"{FEDERATION}/users/alice"
HOSTILE_CONTENT = (
    '<p>Roses at <a href="javascript:alert(1)">dawn</a>'
    '<script>alert("stolen")</script><img src="x" onerror="alert(2)"> smell best.</p>'
)


async def remote_follows_alice(client, remote, processor):
    response = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", remote.activity("Follow", ALICE))
    assert response.status_code == 202
    await processor.run_once()
    await processor.run_once()


async def alice_follows(client, remote, processor):
    response = await submit(client, "/social/following", "/social/follow", account=remote.actor_uri)
    assert response.status_code == 302
    await processor.run_once()
    follow = remote.accepted("Follow")[-1].activity
    answer = await post_signed(client, remote, FEDERATION, "/users/alice/inbox", remote.activity("Accept", follow))
    assert answer.status_code == 202
    await processor.run_once()


def mastodon_create(fixtures_dir, remote, number: int, content: str, to: list[str], cc: list[str]) -> dict:
    """The Mastodon Create(Note) fixture, rewritten to come from ``remote`` with this content and addressing."""
    activity = copy.deepcopy(json.loads((fixtures_dir / "fediverse-other" / "mastodon-activity-create_note.json").read_text()))
    note = activity["object"]
    note_uri = f"{remote.actor_uri}/statuses/{number}"
    note.update({
        "id": note_uri, "url": f"{remote.base_url}/@{remote.username}/{number}", "attributedTo": remote.actor_uri,
        "content": content, "contentMap": {"en": content}, "inReplyTo": None, "inReplyToAtomUri": None, "tag": [],
        "to": to, "cc": cc,
    })
    del note["replies"]
    activity.update({"id": f"{note_uri}/activity", "actor": remote.actor_uri, "to": to, "cc": cc})
    return activity


async def deliver(client, remote, processor, activity, path: str = "/inbox"):
    response = await post_signed(client, remote, FEDERATION, path, activity)
    assert response.status_code == 202
    await processor.run_once()


async def outbound_creates(database):
    rows = await database("SELECT payload FROM ap_activities WHERE direction = 'outbound' AND activity_type = 'Create'")
    return [json.loads(row["payload"]) for row in rows]


async def test_followers_only_note_addressing(member_client, remote, processor, database):
    client = await member_client("alice")
    await remote_follows_alice(client, remote, processor)

    response = await submit(client, "/social/", "/social/notes", text="Only for you.\n\nSecond line & more", visibility="followers")
    assert response.status_code == 302
    assert "published to your followers" in await text_of(await client.get("/social/"))
    await processor.run_once()

    creates = remote.accepted("Create")
    assert len(creates) == 1
    activity = creates[0].activity
    assert creates[0].path == "/inbox"
    assert activity["to"] == [f"{ALICE}/followers"]
    assert "cc" not in activity
    note = activity["object"]
    assert note["to"] == [f"{ALICE}/followers"]
    assert note["cc"] == []
    assert note["content"] == "<p>Only for you.</p><p>Second line &amp; more</p>"
    assert PUBLIC not in creates[0].body.decode()

    fetched = await client.get(note["id"].removeprefix(FEDERATION), headers={"Accept": "application/activity+json"})
    assert fetched.status_code == 404


async def test_public_note_is_addressed_to_everyone(member_client, remote, processor, database):
    client = await member_client("alice")
    await remote_follows_alice(client, remote, processor)

    response = await submit(client, "/social/", "/social/notes", text="Hello, fediverse.", visibility="public")
    assert response.status_code == 302
    await processor.run_once()

    activity = remote.accepted("Create")[0].activity
    assert activity["to"] == [PUBLIC]
    assert activity["cc"] == [f"{ALICE}/followers"]
    fetched = await client.get(activity["object"]["id"].removeprefix(FEDERATION), headers={"Accept": "application/activity+json"})
    assert fetched.status_code == 200
    assert "Hello, fediverse." in await text_of(await client.get("/social/"))


@pytest.mark.parametrize(
    ("text", "visibility", "message"),
    [
        ("", "public", "the note is empty"),
        (" \r\n\t ", "followers", "the note is empty"),
        ("x" * 501, "public", "The note is 501 characters long; the maximum is 500."),
        ("Fine text", "everyone-and-their-dog", "Choose who can see the note"),
    ],
)
async def test_compose_error_changes_nothing(member_client, database, text, visibility, message):
    client = await member_client("alice")
    response = await submit(client, "/social/", "/social/notes", text=text, visibility=visibility)
    page = await text_of(response)
    assert response.status_code == 400
    assert message in page
    assert 'class="form-errors"' in page
    if text.strip():
        assert text[:50] in page
    assert await database("SELECT id FROM ap_objects WHERE is_local") == []
    assert await outbound_creates(database) == []


async def test_note_of_maximum_length_is_published(member_client, database):
    client = await member_client("alice")
    response = await submit(client, "/social/", "/social/notes", text="y" * 500, visibility="public")
    assert response.status_code == 302
    assert len(await outbound_creates(database)) == 1


async def test_timeline_shows_sanitised_notes(member_client, fixtures_dir, remote, other_remote, processor):
    client = await member_client("alice")
    await alice_follows(client, remote, processor)

    public_note = mastodon_create(fixtures_dir, remote, 1, HOSTILE_CONTENT, [PUBLIC], [f"{remote.actor_uri}/followers"])
    await deliver(client, remote, processor, public_note)
    unfollowed = mastodon_create(fixtures_dir, other_remote, 2, "<p>Nobody asked for this.</p>", [PUBLIC], [])
    await deliver(client, other_remote, processor, unfollowed)
    private_to_someone_else = mastodon_create(
        fixtures_dir, remote, 3, "<p>A private word for carol.</p>", ["https://elsewhere.example/users/carol"], []
    )
    await deliver(client, remote, processor, private_to_someone_else)
    followers_only = mastodon_create(fixtures_dir, remote, 4, "<p>For followers.</p>", [f"{remote.actor_uri}/followers"], [])
    await deliver(client, remote, processor, followers_only)
    direct_to_alice = mastodon_create(fixtures_dir, remote, 5, "<p>Just for Alice.</p>", [ALICE], [])
    await deliver(client, remote, processor, direct_to_alice, "/users/alice/inbox")

    page = await text_of(await client.get("/social/"))
    assert "Roses at" in page
    assert "smell best." in page
    assert "<script" not in page.split('<section class="timeline">')[1]
    assert "stolen" not in page
    assert "onerror" not in page
    assert "javascript:" not in page
    assert "For followers." in page
    assert "Nobody asked for this." not in page
    assert "A private word for carol." not in page
    assert f"@{remote.username}@{remote.host}" in page
    assert page.index("For followers.") < page.index("Roses at")
    assert "Just for Alice." in page
    assert page.count(" · followers only") == 1
    assert page.count(" · only to the people it names") == 1


async def test_timeline_pages_newest_first(member_client, fixtures_dir, remote, processor):
    client = await member_client("alice")
    await alice_follows(client, remote, processor)
    for number in range(1, 23):
        activity = mastodon_create(fixtures_dir, remote, number, f"<p>Note number {number:02d}.</p>", [PUBLIC], [])
        await post_signed(client, remote, FEDERATION, "/inbox", activity)
    await processor.run_once()

    first = await text_of(await client.get("/social/"))
    assert "Note number 22." in first
    assert "Note number 03." in first
    assert "Note number 02." not in first
    assert first.index("Note number 22.") < first.index("Note number 03.")
    assert "Page 1 of 2" in first
    second = await text_of(await client.get("/social/?page=2"))
    assert "Note number 02." in second
    assert "Note number 01." in second
    assert "Note number 03." not in second
    assert (await client.get("/social/?page=3")).status_code == 404


async def test_notifications_shown_then_marked_read(member_client, fixtures_dir, remote, processor, database):
    client = await member_client("alice")
    await remote_follows_alice(client, remote, processor)
    await submit(client, "/social/", "/social/notes", text="Roses are up.", visibility="public")
    note_uri = (await database("SELECT uri FROM ap_objects WHERE is_local"))[0]["uri"]
    await deliver(client, remote, processor, remote.activity("Like", note_uri))
    reply = mastodon_create(fixtures_dir, remote, 7, "<p>Lovely roses!</p>", [PUBLIC], [ALICE])
    reply["object"]["inReplyTo"] = note_uri
    await deliver(client, remote, processor, reply)

    home = await text_of(await client.get("/social/"))
    assert "Notifications (3 new)" in home
    page = await text_of(await client.get("/social/notifications"))
    assert "followed you" in page
    assert "liked your note" in page
    assert "replied to your note" in page
    assert "Lovely roses!" in page
    assert "Roses are up." in page
    assert page.count('class="new"') == 3
    unread = await database("SELECT id FROM notifications WHERE read_at IS NULL")
    assert unread == []
    again = await text_of(await client.get("/social/notifications"))
    assert 'class="new"' not in again
    assert "liked your note" in again
    assert "new)" not in again
