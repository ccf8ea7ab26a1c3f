"""core.deferred: a page chosen on the list's own table, then its rows read with their joins, is the
same rows in the same order as the plain slice; the task menus count what the task pages list."""
import re

import pytest
from django.core.paginator import Paginator
from django.test import Client

from accounts.models import User
from core.deferred import DeferredRows, page_rows
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
