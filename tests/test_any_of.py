"""core.lookups.AnyOf: the task lists' "one of these steps" filter (inbox.queues.of_flows) selects the same rows
as Django's `__in`, with the list bound as one array parameter on PostgreSQL; an empty list selects nothing."""
import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from core.lookups import AnyOf
from core.registry import flows
from inbox.queues import of_flows, task_refs
from p1_driver import start
from procedures.order_review.flows import OrderReviewFlow

pytestmark = pytest.mark.django_db


def test_the_same_rows_as_in_with_one_parameter_on_postgresql(people, order_data):
    for i in range(2):
        start(people["market"], order_data(number=f"PO-ANY-{i}"))
    refs = task_refs(flows())
    assert len(refs) > 100
    expected = set(Task.objects.filter(flow_task__in=refs).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        found = set(of_flows(Task.objects.all(), flows()).values_list("pk", flat=True))
    assert found == expected and len(found) >= 10
    if connection.vendor == "postgresql":
        assert '"flow_task" = ANY(' in queries.captured_queries[0]["sql"]
    # one flow's steps only, and no step at all
    p1 = set(of_flows(Task.objects.all(), [OrderReviewFlow]).values_list("pk", flat=True))
    assert p1 == set(Task.objects.filter(flow_task__in=task_refs([OrderReviewFlow])).values_list("pk", flat=True))
    assert not Task.objects.filter(AnyOf(F("flow_task"), [])).exists()
    assert Task.objects.filter(AnyOf(F("flow_task"), ["no/flows.Such.step", *refs[:1]])).count() == \
        Task.objects.filter(flow_task=refs[0]).count()


def test_the_array_is_written_once_per_list_in_postgresqls_own_syntax():
    """array_literal: what PostgreSQL reads back is the list itself, quotes, braces, backslashes, spaces, an empty
    string and the word NULL included; a list is written out once (cached), then reused by every query."""
    from core.lookups import array_literal

    tricky = ("plain/flows.A.b", "", "NULL", "null", "a,b", "{x}", 'say "hi"', "back\\slash", "two words", "tab\tin",
              "中文步骤")
    assert array_literal(tricky) is array_literal(tuple(tricky))
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [array_literal(tricky)])
        assert tuple(cursor.fetchone()[0]) == tricky


def test_the_sql_names_the_steps_as_one_literal_and_matches_as_before(people, order_data):
    start(people["market"], order_data(number="PO-ANY-L"))
    refs = task_refs([OrderReviewFlow])
    with CaptureQueriesContext(connection) as queries:
        found = list(Task.objects.filter(AnyOf(F("flow_task"), refs)).order_by("pk").values_list("pk", flat=True))
    assert found == list(Task.objects.filter(flow_task__in=refs).order_by("pk").values_list("pk", flat=True)) and found
    if connection.vendor == "postgresql":
        assert f"\"flow_task\" = ANY('{{{','.join(refs)}}}')" in queries.captured_queries[0]["sql"]
