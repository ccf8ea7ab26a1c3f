"""Every list that grows with the plant is paged by keyset and says when more follow
(issue 15 "nothing silently cut"; brief: every list is paginated): the task list (inbox,
queue, each ordering), notifications (API and page), absences, a manager's team tasks.
Walking the pages yields every row exactly once, in the list's order; a bad cursor is a
400 naming the parameter; a page costs the same queries on page 1 and page 3."""
import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api_driver import client_for
from core.rest.keyset import Key, Keyset
from inbox.models import Notification
from inbox.notify import NOTIFICATION_ORDER, notify
from p1_driver import open_task, start

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day, hour=10, minute=0):
    return time_machine.travel(datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ), tick=False)


def walk(client, url):
    """Every row of a keyset list, following `next`; the pages' sizes; the first page's count."""
    rows, sizes, count = [], [], None
    while url:
        body = client.get(url).json()
        count = body["count"] if count is None else count
        rows += body["results"]
        sizes.append(len(body["results"]))
        url = body["next"]
    return rows, sizes, count


@pytest.fixture
def seven(people, order_data):
    """Seven P1 processes started on 23…29 Nov (one a day); the quality reviews of the first
    five are due 26 Nov … 2 Dec, the last two have their deadline removed (no due date)."""
    processes = []
    for day in range(23, 30):
        with at(day):
            processes.append(start(people["market"], order_data(number=f"PO-K{day}")))
    for process in processes[5:]:
        open_task(process, "review_quality").deadline.delete()
    return processes


def test_the_queue_pages_by_created_and_by_due_date_every_task_once(people, seven):
    client = client_for("quality")
    with at(30):
        whole = client.get("/api/tasks/?queue=1&page_size=200").json()
        assert whole["next"] is None and whole["count"] == len(whole["results"]) >= 7
        expected = [t["id"] for t in whole["results"]]

        rows, sizes, count = walk(client, "/api/tasks/?queue=1&page_size=3")
        assert [t["id"] for t in rows] == expected and count == len(expected)
        assert all(size == 3 for size in sizes[:-1]) and 1 <= sizes[-1] <= 3

        ours = {p.pk for p in seven}
        for ordering in ("due", "-due"):
            rows, _, _ = walk(client, f"/api/tasks/?queue=1&ordering={ordering}&page_size=2")
            dues = [t["due"] for t in rows if t["process"] in ours and t["step"] == "review_quality"]
            dated = [d for d in dues if d]
            assert dated == sorted(dated, reverse=ordering == "-due"), ordering
            assert dues[-2:] == [None, None], "tasks without a due date come last in both orders"
            assert len({t["id"] for t in rows}) == len(rows) == len(expected)


def test_a_bad_or_foreign_cursor_is_a_400_naming_it(people, seven):
    client = client_for("quality")
    first = client.get("/api/tasks/?queue=1&page_size=2").json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    for query in (f"ordering=due&cursor={cursor}", "cursor=not-a-cursor", "cursor=eyJvIjoxfQ", "page_size=0",
                  "page_size=201"):
        response = client.get(f"/api/tasks/?queue=1&{query}")
        assert response.status_code == 400, query
        assert set(response.json()["errors"]) & {"cursor", "page_size"}, query


def test_a_task_created_between_two_pages_is_neither_skipped_nor_repeated(people, order_data, seven):
    client = client_for("quality")
    with at(30):
        first = client.get("/api/tasks/?queue=1&page_size=3").json()
        start(people["market"], order_data(number="PO-K-LATE"))  # newest: sorts last
        rest, _, _ = walk(client, first["next"])
    ids = [t["id"] for t in first["results"] + rest]
    assert len(ids) == len(set(ids)) == first["count"] + 1


def test_notifications_page_unread_first_then_newest_over_many_pages(people):
    quality = people["quality"]
    for minute in range(7):
        with at(20, 9, minute):
            notify(quality, "reminder", f"n{minute}")
    # two read ones with the same time: the key's last field (pk) keeps them apart
    Notification.objects.filter(recipient=quality, title__in=["n1", "n4"]).update(
        read_at=datetime.datetime(2026, 11, 21, tzinfo=TZ))
    client = client_for("quality")
    rows, sizes, count = walk(client, "/api/notifications/?page_size=2")
    assert [n["title"] for n in rows] == ["n6", "n5", "n3", "n2", "n0", "n4", "n1"]
    assert count == 7 and sizes == [2, 2, 2, 1]
    assert [n.title for n in NOTIFICATION_ORDER.page(Notification.objects.filter(recipient=quality), size=10).rows] \
        == ["n6", "n5", "n3", "n2", "n0", "n4", "n1"]


def test_the_notifications_page_links_to_older_ones_and_survives_a_bad_cursor(people):
    for i in range(55):
        notify(people["quality"], "reminder", f"note {i:02d}")
    web = Client()
    web.force_login(people["quality"])
    page = web.get("/qms/notifications/").content.decode()
    assert "note 54" in page and "note 04" not in page and 'rel="next"' in page and "55" in page
    older = page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = web.get(f"/qms/notifications/{older}").content.decode()
    assert "note 04" in second and "note 54" not in second and 'rel="next"' not in second
    assert web.get("/qms/notifications/?cursor=garbage").status_code == 200


def test_a_page_costs_the_same_queries_second_and_third_and_the_first_one_fewer(people, seven):
    """No page costs more the further it is; the first page's keys carry the list's total (COUNT(*) OVER ()),
    a later page counts the list apart (its keys start after the cursor)."""
    client = client_for("quality")

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(url).json()
        return len(ctx.captured_queries), body

    with at(30):
        client.get("/api/tasks/?queue=1&page_size=2")  # warm caches
        first, body = queries("/api/tasks/?queue=1&page_size=2")
        second, body = queries(body["next"])
        assert body["count"] == 7
        third, body = queries(body["next"])
        assert body["count"] == 7
    assert second == third == first + 1


def test_a_keyset_must_end_with_the_primary_key():
    with pytest.raises(ValueError):
        Keyset("bad", [Key("created")])
