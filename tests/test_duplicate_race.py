"""Concurrent duplicates on PostgreSQL: twenty people entering the same order number at
the same moment. The form's own check cannot see the others' uncommitted rows, so all
but one lose at the database's unique constraint — and are told so (409 naming the
field, or the form's 400 for those that arrive after the first commit), never a 500.

Threads as in tests/test_concurrency.py: each with its own connection, released together
by a Barrier, committing for real (transaction=True)."""
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from viewflow.workflow.models import Process

from api_driver import client_for
from core import audit
from core.models import Record
from procedures.order_review.models import OrderReview

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="a real race needs PostgreSQL (parallel writers)"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 20


def at_once(count, act):
    """Run act(i) in `count` threads released together; returns their results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def work(index):
        try:
            barrier.wait(timeout=30)
            results[index] = act(index)
        except BaseException as exc:  # reported to the test thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running (deadlock?)"
    return results


def test_twenty_simultaneous_api_reviews_of_one_order_number_make_one_review_and_no_server_error(people, order_data):
    client_for("market")  # its token, made once: get_or_create of one token is not what is raced here
    token = f"Token {Token.objects.get(user__username='market').key}"

    def act(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        response = client.post("/api/order-reviews/", order_data(number="PO-RACE-1"), format="json")
        return response.status_code, response.json()

    results = at_once(THREADS, act)

    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = sorted(status for status, _body in results)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 400, 409}, statuses
    for status, body in results:
        if status != 201:
            assert "order_number" in body["errors"], body
    assert OrderReview.objects.filter(order_number="PO-RACE-1").count() == 1
    print(f"\n[duplicate race, API] {THREADS} at once: {statuses.count(409)} lost at the unique constraint (409), "
          f"{statuses.count(400)} at the form's check (400)")
    assert Record.objects.count() == 1 and Process.objects.count() == 1
    assert list(audit.verify_chain()) == []


def test_simultaneous_browser_reviews_of_one_order_number_show_the_field_error(people, order_data):
    data = order_data(number="PO-RACE-2")
    post = {key: value for key, value in data.items() if key != "lines"}
    post.update({"lines-TOTAL_FORMS": str(len(data["lines"])), "lines-INITIAL_FORMS": "0"})
    for index, line in enumerate(data["lines"]):
        post.update({f"lines-{index}-{key}": value for key, value in line.items()})

    def act(index):
        browser = Client()
        browser.force_login(people["market"])
        page = browser.post("/qms/flows/orderreview/start/", post)
        errors = page.context["form"].errors if page.status_code != 302 else {}
        return page.status_code, errors

    results = at_once(5, act)

    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = sorted(status for status, _errors in results)
    assert statuses.count(302) == 1 and set(statuses) <= {200, 302, 409}, statuses
    assert all("order_number" in errors for status, errors in results if status != 302), results
    assert OrderReview.objects.filter(order_number="PO-RACE-2").count() == 1
    print(f"\n[duplicate race, browser] 5 at once: {statuses.count(409)} × 409, {statuses.count(200)} × 200")
