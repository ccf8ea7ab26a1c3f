"""core.deferred: a page chosen on the list's own table, then its rows read with their joins, is the
same rows in the same order as the plain slice; the task menus count what the task pages list."""
import re

import pytest
from django.db.models import Q
from django.core.paginator import Paginator
from django.test import Client

from accounts.models import User
from core.deferred import DeferredRows, first_rows_and_total, first_rows_and_totals, page_rows
from inbox import services
from p1_driver import start

pytestmark = pytest.mark.django_db


def test_a_deferred_page_is_the_plain_slice(people):
    users = User.objects.select_related().order_by("-username", "pk")
    assert users.count() > 6
    assert page_rows(users, 2, 6) == list(users[2:6])
    assert page_rows(users, 0, 0) == []
    plain, deferred = Paginator(users, 4), Paginator(DeferredRows(users), 4)
    assert deferred.count == plain.count and deferred.num_pages == plain.num_pages
    for number in plain.page_range:
        assert list(deferred.page(number).object_list) == list(plain.page(number).object_list)


def test_the_count_from_the_first_page_s_scan_gives_the_same_pages_in_one_query_fewer(
        people, django_assert_num_queries):
    """DeferredRows(…, page_size): the total comes with the first page's keys (one scan, a window count), the first
    page is read from them; every page, a list shorter than a page, an empty list and a DISTINCT one (counted by
    its own query: a window would count its duplicates) are what the plain paginator gives."""
    from accounts.models import Membership

    Membership.objects.create(user=people["quality"], department="engineering", role="staff")  # a second one
    users = User.objects.select_related().order_by("-username", "pk")
    joined = User.objects.filter(memberships__isnull=False).order_by("username", "pk")
    for rows, size in ((users, 4), (users, 100), (User.objects.none().order_by("pk"), 4), (joined, 3),
                       (joined.distinct(), 3)):
        plain, fused = Paginator(rows, size), Paginator(DeferredRows(rows, size), size)
        assert (fused.count, fused.num_pages) == (plain.count, plain.num_pages)
        for number in plain.page_range:
            assert list(fused.page(number).object_list) == list(plain.page(number).object_list), (size, number)
    total = users.count()
    with django_assert_num_queries(2):  # the keys with the total, then the first page's rows
        page = Paginator(DeferredRows(users, 4), 4).page(1)
        assert len(page.object_list) == 4 and page.paginator.count == total


def test_rows_read_by_key_drop_only_filters_that_cannot_change_the_rows(people, django_assert_num_queries):
    """rows_by_keys reads the chosen keys' rows without the list's filters when those read the list's own table
    alone (the task lists: the flow filter costs more to plan than the rows to read); a list whose filters join
    another table, or that aggregates, keeps them (a filtered join would change an annotation over it)."""
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership
    from core.deferred import rows_by_keys

    Membership.objects.create(user=people["quality"], department="engineering", role="staff")  # a second one
    own = User.objects.filter(is_active=True, username__startswith="q").select_related().order_by("username")
    keys = list(own.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        assert rows_by_keys(own, keys) == list(own)
    assert "is_active" not in captured.captured_queries[0]["sql"].split("WHERE")[1]  # by key alone
    counted = (User.objects.filter(memberships__department="quality").annotate(n=Count("memberships"))
               .order_by("username"))
    keys = list(counted.values_list("pk", flat=True))
    assert [(u.pk, u.n) for u in rows_by_keys(counted, keys)] == [(u.pk, u.n) for u in counted]
    assert all(u.n == 1 for u in rows_by_keys(counted, keys))  # the filter on the join kept: one membership each
    joined = User.objects.filter(memberships__department="engineering").order_by("username")
    keys = list(joined.values_list("pk", flat=True))
    assert rows_by_keys(joined, keys) == list(joined)


def test_first_rows_carry_the_totals_of_the_list_distinct_or_not(people):
    """The first rows and the totals counted in their scan are the plain slice and count; a DISTINCT list, whose
    duplicates a window would count, is counted by its own queries and says the same."""
    from accounts.models import Membership

    Membership.objects.create(user=people["quality"], department="engineering", role="staff")  # a second one
    joined = User.objects.filter(memberships__isnull=False).order_by("username", "pk")
    distinct = joined.distinct()
    assert joined.count() > distinct.count()  # the join repeats a user with two memberships
    for users in (joined, distinct):
        rows, totals = first_rows_and_totals(users, 3, quality=Q(username="quality"))
        assert rows == list(users[:3])
        assert totals == {"all": users.count(), "quality": users.filter(username="quality").count()}
        assert first_rows_and_total(users, 3) == (list(users[:3]), users.count())
    assert first_rows_and_total(User.objects.none().order_by("pk"), 3) == ([], 0)


def test_the_menu_counts_what_the_inbox_and_queue_pages_list(people, order_data):
    for n in range(3):
        start(people["market"], order_data(number=f"PO-MENU-{n}"))
    user = people["quality"]
    client = Client()
    client.force_login(user)
    page = client.get("/qms/queue/").content.decode()
    queued = services.queue_of(user).count()
    assert queued >= 3
    # the menu's badge beside "Queue" and the page's own rows
    assert re.search(r'href="/qms/queue/"[^>]*>.*?<span class="mdc-list-item__meta">%d</span>' % queued, page, re.S)
    assert len(set(re.findall(r'/qms/flows/orderreview/(\d+)/review_quality/\d+/', page))) == 3
    assert services.inbox_of(user).count() == 0


def _menu_counts(page):
    return {name: int(re.search(r'href="/qms/%s/"[^>]*>.*?<span class="mdc-list-item__meta">(\d+)</span>' % name,
                                page, re.S).group(1)) for name in ("inbox", "queue")}


def _task_counts(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)") and '"viewflow_task"' in q["sql"]]


def test_a_page_that_counted_a_whole_task_list_gives_the_menu_that_count(people, order_data):
    """The inbox and queue pages (unfiltered) and the dashboard count their lists; the menu shows those totals
    instead of counting the same lists again. A filtered page counts its filtered list, and the menu still counts
    the whole one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from procedures.order_review.flows import OrderReviewFlow
    from workflows import actions

    processes = [start(people["market"], order_data(number=f"PO-MENU-C{n}")) for n in range(3)]
    user = people["quality"]
    client = Client()
    client.force_login(user)
    actions.claim_task(processes[0].task_set.get(flow_task=OrderReviewFlow.review_quality), actor=user)
    whole = {"inbox": services.inbox_of(user).count(), "queue": services.queue_of(user).count()}
    assert whole == {"inbox": 1, "queue": 2}
    # COUNT(*) queries of the task table: the menu's of the other list only (the pages count their own list in the
    # scan that chooses their first page, the dashboard its lists in their scans: with a window); a filtered list
    # is counted so, then both whole ones for the menu
    expected_counts = {"/qms/inbox/": 1, "/qms/queue/": 1, "/qms/dashboard/": 0,
                       f"/qms/inbox/?process={processes[1].pk}": 2, "/qms/queue/?_orderby=-due&page=1": 1,
                       "/qms/notifications/": 2}
    for url, task_counts in expected_counts.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, url
        assert _menu_counts(response.content.decode()) == whole, url
        counts = _task_counts(captured.captured_queries)
        assert len(counts) == task_counts, (url, counts)
