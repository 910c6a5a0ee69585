"""The outbox: public activities from the actor's activity log, newest first, twenty a page."""

from __future__ import annotations

import dataclasses
import json

from federation.activitylog import ActivityLog
from federation.activitylog.format import encode_record
from federation.activitylog.names import segment_name

BLOG = "http://blog.test"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACCEPT = {"Accept": "application/activity+json"}


def _activity(number: int, public: bool) -> bytes:
    audience = {"to": [PUBLIC]} if public else {"to": [f"{BLOG}/actor/followers"]}
    return json.dumps({"id": f"{BLOG}/actor/activities/{number}", "type": "Create", **audience}).encode()


def _append(directory, numbers, public=lambda number: number % 3 != 0):
    with ActivityLog.open("blog", directory, segment_size=2000, fsync="never") as log:
        for number in numbers:
            log.append(_activity(number, public(number)))


async def _get(client, path):
    response = await client.get(path.removeprefix(BLOG), headers=ACCEPT)
    assert response.status_code == 200
    return json.loads(await response.get_data())


def _number(activity):
    return int(activity["id"].rsplit("/", 1)[1])


async def test_outbox_pages_newest_first(app_client, settings, tmp_path):
    directory = tmp_path / "activitylog"
    _append(directory, range(1, 61))
    public = [number for number in range(1, 61) if number % 3 != 0]
    client = await app_client("blog", dataclasses.replace(settings, activity_log_dir=directory))

    collection = await _get(client, "/actor/outbox")
    assert collection["totalItems"] == len(public) == 40

    seen, link = [], collection["first"]
    while link:
        page = await _get(client, link)
        assert len(page["orderedItems"]) <= 20
        seen += [_number(activity) for activity in page["orderedItems"]]
        link = page.get("next")
    assert seen == list(reversed(public))


async def test_outbox_sees_later_appends(app_client, settings, tmp_path):
    directory = tmp_path / "activitylog"
    _append(directory, range(1, 5), public=lambda number: True)
    client = await app_client("blog", dataclasses.replace(settings, activity_log_dir=directory))
    assert (await _get(client, "/actor/outbox"))["totalItems"] == 4

    _append(directory, range(5, 8), public=lambda number: True)

    assert (await _get(client, "/actor/outbox"))["totalItems"] == 7
    page = await _get(client, "/actor/outbox?page=true")
    assert [_number(activity) for activity in page["orderedItems"]] == [7, 6, 5, 4, 3, 2, 1]


async def test_outbox_of_damaged_log(app_client, settings, tmp_path, caplog):
    directory = tmp_path / "activitylog"
    _append(directory, range(1, 4), public=lambda number: True)
    client = await app_client("blog", dataclasses.replace(settings, activity_log_dir=directory))
    assert (await _get(client, "/actor/outbox"))["totalItems"] == 3

    # Bytes no append writes, followed by a whole record: damage, not an append in progress.
    with open(directory / segment_name("blog", 0), "ab") as segment:
        segment.write(b"\xff" * 20 + encode_record(5, _activity(5, public=True)))

    assert (await _get(client, "/actor/outbox"))["totalItems"] == 3
    assert any("only the entries read before the damage" in record.getMessage() for record in caplog.records)
