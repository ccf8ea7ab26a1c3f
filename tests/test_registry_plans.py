"""Issue 15.3 at a million records: the registry's filters and sorts are answered through indexes (core migrations
0010 and 0011), with the same records as before.

- A date range is a range of instants (each day's first instant in the current time zone), which the created_at index
  serves; it finds exactly what `created_at__date` found, at a day's edges and at the calendar's (0001-01-01,
  9999-12-31), in the API and the browser, on SQLite and PostgreSQL.
- On PostgreSQL, with table scans disabled, the customer, product and lot filters are read through their trigram
  indexes, a page sorted by customer, status or type through its (column, id) index with no sort, a date range
  through created_at — so that the planner has these paths when the data makes them the cheaper."""
import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import Record
from plan_support import disable, plan_without
from test_registry_search import make_records

pytestmark = pytest.mark.django_db

ZONE = timezone.get_default_timezone()


def local(day, hour, minute=0, second=0, micro=0):
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour, minute, second, micro),
                                     tzinfo=ZONE)


EDGES = {  # records at the edges of 2026-03-01 and 2026-03-02, in the registry's time zone
    "ED-0001": local("2026-02-28", 23, 59, 59, 999999),
    "ED-0002": local("2026-03-01", 0),
    "ED-0003": local("2026-03-01", 23, 59, 59, 999999),
    "ED-0004": local("2026-03-02", 0),
    "ED-0005": local("2026-03-02", 12),
    "ED-0006": local("2026-03-03", 0),
}


@pytest.fixture
def edges(people):
    return make_records(people["market"], {number: {"record_type": "order_review", "status": "open",
                                                    "created_at": at} for number, at in EDGES.items()})


@pytest.mark.parametrize("date_from, date_to", [
    ("2026-03-01", ""), ("", "2026-03-01"), ("2026-03-01", "2026-03-01"), ("2026-03-01", "2026-03-02"),
    ("2026-03-02", "2026-03-01"), ("0001-01-01", ""), ("", "9999-12-31"), ("0001-01-01", "9999-12-31"),
    ("0001-01-02", "9999-12-30"),
])
def test_a_date_range_finds_what_the_records_dates_say(edges, people, date_from, date_to):
    expected = Record.objects.filter(number__startswith="ED-")
    if date_from:
        expected = expected.filter(created_at__date__gte=datetime.date.fromisoformat(date_from))
    if date_to:
        expected = expected.filter(created_at__date__lte=datetime.date.fromisoformat(date_to))
    expected = sorted(expected.values_list("number", flat=True))
    api, web = APIClient(), Client()
    api.force_authenticate(people["quality"])
    web.force_login(people["quality"])
    params = {"date_from": date_from, "date_to": date_to, "number": "", "sort": "number"}
    response = api.get("/api/records/", params)
    assert response.status_code == 200
    assert [r["number"] for r in response.json()["results"] if r["number"].startswith("ED-")] == expected
    page = web.get("/qms/records/", params)
    assert [r.number for r in page.context["object_list"] if r.number.startswith("ED-")] == expected


def test_the_edges_are_the_days_own():
    """The fixture's instants straddle the days as the registry's time zone draws them."""
    assert [timezone.localtime(at, ZONE).date().isoformat() for at in EDGES.values()] == [
        "2026-02-28", "2026-03-01", "2026-03-01", "2026-03-02", "2026-03-02", "2026-03-03"]


def _plan(params, people, sort_pages=False):
    """The plan of the registry page's own statement (its rows), with table scans disabled (and, for a filter, the
    scans of other indexes in their order: what is left is its own index)."""
    api = APIClient()
    api.force_authenticate(people["quality"])
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/records/", params).status_code == 200
    [page] = [q["sql"] for q in queries.captured_queries
              if q["sql"].startswith('SELECT "core_record"."id"') and "LIMIT" in q["sql"] and "COUNT" not in q["sql"]]
    return plan_without(page, "seqscan", "indexscan" if sort_pages else "sort")


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the registry's indexes are PostgreSQL's (SQLite scans its registry as before)")


def test_djangos_icontains_is_the_expression_the_customer_index_holds(postgresql, edges):
    """The customer filter is Django's icontains and a condition that skips the records of no customer (the btree of
    customer and id serves that one, and a small table may prefer it): Django's own SQL must match the index."""
    disable("seqscan", "indexscan")
    plan = Record.objects.filter(customer_name__icontains="上海精密").explain()
    assert "record_customer_trgm" in plan, plan


@pytest.mark.parametrize("params, index", [
    ({"product": "P-1001"}, "record_product_trgm"),
    ({"product": "P-1001"}, "record_products_cut"),  # the records whose products were cut: their search text
    ({"lot": "L2026-01"}, "record_lot_trgm"),
])
def test_the_customer_product_and_lot_filters_read_their_indexes(postgresql, edges, people, params, index):
    plan = _plan({**params, "sort": "number"}, people, sort_pages=True)
    assert index in plan, plan


@pytest.mark.parametrize("sort, index", [
    ("customer", "record_by_customer"), ("-customer", "record_by_customer"), ("status", "record_by_status"),
    ("-status", "record_by_status"), ("type", "record_by_type"), ("-type", "record_by_type"),
])
def test_a_page_sorted_by_a_column_is_read_in_order_from_its_index(postgresql, edges, people, sort, index):
    plan = _plan({"sort": sort}, people)
    assert index in plan and "Sort" not in plan.replace("Incremental Sort", "!"), plan


def test_a_date_range_is_read_from_the_created_at_index(postgresql, edges, people):
    plan = _plan({"date_from": "2026-03-01", "date_to": "2026-03-02"}, people)
    assert "core_record_created_at" in plan and "created_at >=" in plan and "created_at <" in plan, plan


def test_each_filtered_expression_has_statistics_of_its_own(postgresql):
    """A GIN index gives the planner no statistics on its expression: without its own it guessed 320 records for a
    product found in 296,000 and read them all through the index (core migration 0011)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'core_record'::regclass")
        names = {row[0] for row in cursor.fetchall()}
    assert {"record_customer_upper", "record_product_upper", "record_lot_upper"} <= names
