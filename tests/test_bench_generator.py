"""The benchmark generator (workflows/bench/generate.py, issue 15.1) on PostgreSQL: copies of the template
processes with valid keys, their tasks carrying their deadline's due date (inbox migration 0006) while the
trigger that keeps it is off for the copy and on again after, and a second run adding only the copies
asked for. A benchmark database that breaks half-way costs an hour at 1 M tasks: this runs it small."""
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from p1_driver import start
from viewflow.workflow.models import Process, Task

from core.models import Record
from inbox.due import missing
from inbox.models import TaskDeadline
from workflows.bench import generate

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="the generator writes PostgreSQL SQL"),
    pytest.mark.django_db(transaction=True),  # the generator commits and vacuums
]

BENCH_TABLES = (generate.META_TABLE, "bench_user", "bench_customer")


@pytest.fixture
def bench_tables():
    yield
    with connection.cursor() as cursor:  # not Django's: the flush after the test would leave them
        for table in BENCH_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_generator_copies_the_templates_with_valid_keys_and_due_dates(people, order_data, bench_tables):
    for i in range(2):
        start(people["market"], order_data(number=f"PO-GEN-{i}"))
    template = {"tasks": Task.objects.count(), "processes": Process.objects.count(),
                "deadlines": TaskDeadline.objects.count(), "records": Record.objects.count()}
    assert template["deadlines"] >= 10

    generate.grow(template["tasks"] * 3, log=lambda _line: None)
    copied = Task.objects.filter(pk__lt=generate.END_TASK_IDS)
    assert copied.count() == template["tasks"] * 3
    assert Process.objects.count() == template["processes"] * 3
    assert TaskDeadline.objects.count() == template["deadlines"] * 3
    assert Record.objects.count() == template["records"] * 3
    # every copied task carries its copied deadline's due date, and the trigger that keeps it is on again
    assert rows("SELECT count(*) FROM viewflow_task t JOIN inbox_taskdeadline d ON d.task_id = t.id "
                "WHERE t.qms_due_at IS DISTINCT FROM d.due_at") == [(0,)]
    assert rows("SELECT tgenabled FROM pg_trigger WHERE tgname = 'qms_task_due'") == [("O",)]
    assert not missing(connection)
    # each copy's tasks belong to that copy's process
    assert rows("SELECT count(*) FROM viewflow_task t JOIN viewflow_process p ON p.id = t.process_id "
                "WHERE p.flow_class IS NULL") == [(0,)]
    deadline = TaskDeadline.objects.order_by("-task_id").first()
    TaskDeadline.objects.filter(pk=deadline.pk).update(due_at=deadline.due_at.replace(year=2030))
    assert rows(f"SELECT extract(year FROM qms_due_at)::int FROM viewflow_task WHERE id = {deadline.task_id}") \
        == [(2030,)]

    closed_by_an_end()

    state = generate.grow(template["tasks"] * 4, log=lambda _line: None)  # incremental: one copy more
    assert copied.count() == template["tasks"] * 4 and state["copies"] == 3
    closed_by_an_end()


def closed_by_an_end():
    """Every closed copy ends, once, with its flow's end task, finished when its process was; no open one does;
    nothing finished after now."""
    assert rows("SELECT count(*) FROM viewflow_task WHERE finished > now()") == [(0,)]
    assert rows("SELECT count(*) FROM viewflow_process WHERE finished > now()") == [(0,)]
    assert rows("SELECT count(*) FROM viewflow_process WHERE status = 'DONE'")[0][0] >= 4
    assert rows("""SELECT p.status, count(t.id) FROM viewflow_process p
                   LEFT JOIN viewflow_task t ON t.process_id = p.id AND t.flow_task_type = 'END'
                   AND t.flow_task = p.flow_class || '.end' AND t.finished = p.finished AND t.status = 'DONE'
                   GROUP BY p.id, p.status HAVING count(t.id) <> (CASE WHEN p.status = 'DONE' THEN 1 ELSE 0 END)
                   """) == []


def test_the_registry_grows_with_older_records_and_their_versions(people, order_data, bench_tables):
    """`grow_records` (issue 15.3: the registry's search at 1 M records): older copies of the template records,
    each with a unique number, a generated customer the search text names too, its versions, no process, created
    before the task copies; growing again adds only what is missing, and the API's search finds a copy by number."""
    from rest_framework.test import APIClient

    from core.models import RecordVersion

    start(people["market"], order_data(number="PO-REC-1"))
    generate.grow(Task.objects.count() * 2, log=lambda _line: None)
    records, versions = Record.objects.count(), RecordVersion.objects.count()
    template = Record.objects.filter(pk__lte=generate.meta()["stride_record"]).count()

    state = generate.grow_records(records + 2 * template, log=lambda _line: None)
    assert state["record_copies"] == 2
    older = Record.objects.filter(pk__gt=generate.ARCHIVE_IDS)
    assert older.count() == 2 * template and Record.objects.count() == records + 2 * template
    assert not older.filter(process__isnull=False).exists()
    assert RecordVersion.objects.filter(record__in=older).count() == 2 * (
        RecordVersion.objects.filter(record_id__lte=generate.meta()["stride_record"]).count())
    assert RecordVersion.objects.count() > versions
    assert rows("SELECT count(*) FROM core_record WHERE id > %s AND created_at > now() - interval '3 years'"
                % generate.ARCHIVE_IDS) == [(0,)]
    assert rows("SELECT count(DISTINCT number) FROM core_record") == [(Record.objects.count(),)]
    assert not older.exclude(customer_name="").exclude(search_text__contains=F("customer_name")).exists()

    assert generate.grow_records(records + 2 * template, log=lambda _line: None)["record_copies"] == 2  # nothing more
    assert generate.grow_records(records + 3 * template, log=lambda _line: None)["record_copies"] == 3
    copy = older.order_by("-pk").first()
    api = APIClient()
    api.force_authenticate(people["quality"])
    found = api.get("/api/records/", {"q": copy.number}).json()
    assert [r["number"] for r in found["results"]] == [copy.number] and found["count_is_exact"]


def test_the_measurements_time_the_requests_sql_and_viewflows_queries_apart(people, order_data, bench_tables):
    """`measure.run` (what `manage.py bench` prints and writes): each item's whole time, its own SQL time and, where
    viewflow has a stock query for the list, that query's whole and SQL times and the ratio of the SQL alone; the
    registry's rows carry whether their count is exact."""
    from workflows.bench import measure

    start(people["market"], order_data(number="PO-MEAS-1"))
    generate.grow(Task.objects.count() * 2, log=lambda _line: None)
    results = {r["item"]: r for r in measure.run("quality_mgr", repeat=3, log=lambda _line: None,
                                                 only=("api_tasks_queue", "api_records_q_chinese",
                                                       "api_records_q_numbers"))}
    assert set(results) == {"api_tasks_queue", "api_records_q_chinese", "api_records_q_numbers"}
    numbers = results["api_records_q_numbers"]  # ten numbers spread over the registry, asked in turn
    assert len(numbers["urls"]) == 10 and numbers["url"] == numbers["urls"][0] and numbers["floor"]["n"] == 3
    queue = results["api_tasks_queue"]
    assert 0 < queue["sql"]["p50"] < queue["p50"] and queue["sql"]["n"] == 3
    assert 0 < queue["stock_sql"]["p50"] <= queue["stock"]["p95"] * 1.5
    assert queue["sql_vs_stock_sql_p50"] == round(queue["sql"]["p50"] / queue["stock_sql"]["p50"], 2)
    search = results["api_records_q_chinese"]
    assert search["rows"]["count_is_exact"] is True and "stock" not in search and search["floor"]["n"] == 3
    assert "stksql" in measure.table(list(results.values()))
