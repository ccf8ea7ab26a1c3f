"""The task lists' key scans read their index alone (issue 15.2: "every query plan is checked"). On PostgreSQL, with
the table scans and plain index scans disabled, a scan its index does not cover has nowhere to go but a disabled
sequential scan; a covering index gives an index-only scan. The figures at 1 M tasks are in the README."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.deferred import first_rows_and_total
from inbox import services
from plan_support import plan_without

pytestmark = pytest.mark.django_db


def _key_scan_plan(run):
    """The plan of the scan that picks a list's first keys and counts it (the statement with the window count)."""
    with CaptureQueriesContext(connection) as queries:
        run()
    [scan] = [query["sql"] for query in queries.captured_queries if "OVER ()" in query["sql"]]
    return plan_without(scan, "seqscan", "bitmapscan", "indexscan")


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the partial indexes' plans are PostgreSQL's (SQLite has no index-only count to check)")


def test_the_tasks_i_completed_are_counted_from_their_index_alone(postgresql, people):
    """The dashboard's "Recently completed by me" counts every task a person completed, filtered by flow: the index
    of done tasks holds the node (workflows migration 0008), so no task is read from the table to test its flow."""
    user = people["quality_mgr"]
    plan = _key_scan_plan(
        lambda: first_rows_and_total(services.COMPLETED_ORDER.order(services.completed_by(user)), 10))
    assert "Index Only Scan using task_done_by_owner" in plan, plan
    assert "Seq Scan" not in plan, plan
