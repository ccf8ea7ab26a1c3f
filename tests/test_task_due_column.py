"""The due date on the task row (inbox migration 0006, inbox/due.py): the database keeps
`viewflow_task.qms_due_at` equal to the task's deadline `due_at` through every write of a deadline,
and the lists sorted or filtered by due date choose their rows from the task table alone — the same
rows, in the same order, as the join with the deadline table gave. Runs on SQLite and PostgreSQL."""
import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Task

from core.deferred import first_rows_and_total
from inbox import services
from inbox.calendar import end_of_day
from inbox.due import by_due, with_due
from inbox.models import TaskDeadline
from inbox.queues import queue_for
from p1_driver import open_task, start
from workflows import actions

pytestmark = pytest.mark.django_db


def stored_due():
    """{task id: qms_due_at} as the database holds it, for every task."""
    return dict(with_due(Task.objects.all()).values_list("pk", "due_at"))


def deadlines():
    return dict(TaskDeadline.objects.values_list("task_id", "due_at"))


def test_the_task_row_carries_its_deadline_through_every_write(people, order_data):
    processes = [start(people["market"], order_data(number=f"PO-DUE-{i}")) for i in range(3)]
    actions.claim_task(open_task(processes[0], "review_quality"), actor=people["quality"])
    due = stored_due()
    expected = deadlines()
    assert len(expected) >= 15  # five department reviews per order at least
    assert {pk: due[pk] for pk in expected} == expected
    assert all(value is None for pk, value in due.items() if pk not in expected)  # start tasks have no deadline

    # a deadline moved (by SQL, as a target recalculation or an administrator would) moves the task's
    task = open_task(processes[1], "review_quality")
    later = task.deadline.due_at + datetime.timedelta(days=3)
    TaskDeadline.objects.filter(task_id=task.pk).update(due_at=later)
    assert stored_due()[task.pk] == later
    deadline = TaskDeadline.objects.get(task_id=task.pk)
    deadline.due_at = later + datetime.timedelta(days=1)
    deadline.save()
    assert stored_due()[task.pk] == later + datetime.timedelta(days=1)
    # a save of other fields (the escalation scheduler's) leaves it as it is
    deadline.next_check_at = None
    deadline.save(update_fields=["next_check_at"])
    assert stored_due()[task.pk] == later + datetime.timedelta(days=1)
    # no deadline, no due date: the task sorts last and is never overdue, as with the join
    deadline.delete()
    assert stored_due()[task.pk] is None


def test_the_due_date_triggers_and_indexes_exist():
    """A table rebuilt by a later migration (SQLite remakes a table to alter it) would drop them silently."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'inbox_taskdeadline'::regclass "
                           "AND NOT tgisinternal")
            assert {row[0] for row in cursor.fetchall()} >= {"qms_task_due"}
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'viewflow_task'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'inbox_taskdeadline'")
            assert {row[0] for row in cursor.fetchall()} >= {"qms_task_due_insert", "qms_task_due_update",
                                                              "qms_task_due_delete"}
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'viewflow_task'")
        assert {row[0] for row in cursor.fetchall()} >= {"task_queue_by_due", "task_open_by_owner_due"}


def test_lists_by_due_are_the_rows_and_order_of_the_join_and_choose_them_without_it(people, order_data):
    processes = [start(people["market"], order_data(number=f"PO-ORD-{i}")) for i in range(4)]
    # spread the due dates, one task without a deadline, two sharing one (the id breaks the tie)
    tasks = [open_task(process, "review_quality") for process in processes]
    today = timezone.localdate()

    def due_in(task, days):  # a deadline as deadlines.deadline_for writes it: due_at ends the due date
        day = today + datetime.timedelta(days=days)
        TaskDeadline.objects.filter(task_id=task.pk).update(due_date=day, due_at=end_of_day(day))

    due_in(tasks[0], 5)
    due_in(tasks[1], -2)
    due_in(tasks[2], -2)
    TaskDeadline.objects.filter(task_id=tasks[3].pk).delete()

    queue = queue_for(people["quality"], [type(processes[0].flow_class.instance)])
    joined = list(queue.order_by(F("deadline__due_at").asc(nulls_last=True), "pk").values_list("pk", flat=True))
    assert list(by_due(queue).values_list("pk", flat=True)) == joined
    assert joined[-1] == tasks[3].pk and joined[:2] == [tasks[1].pk, tasks[2].pk]
    joined_desc = list(queue.order_by(F("deadline__due_at").desc(nulls_last=True), "-pk").values_list("pk", flat=True))
    assert list(by_due(queue, descending=True).values_list("pk", flat=True)) == joined_desc

    now = timezone.now()
    late_joined = list(queue.filter(deadline__due_at__lte=now).order_by("pk").values_list("pk", flat=True))
    assert list(services.filter_due(queue, overdue=True).order_by("pk").values_list("pk", flat=True)) == late_joined
    assert set(services.filter_due(queue, overdue=False).values_list("pk", flat=True)) == \
        set(queue.values_list("pk", flat=True)) - set(late_joined)
    day = today - datetime.timedelta(days=1)
    before_joined = set(queue.filter(deadline__due_date__lte=day).values_list("pk", flat=True))
    assert set(services.filter_due(queue, due_before=day).values_list("pk", flat=True)) == before_joined
    assert before_joined == {tasks[1].pk, tasks[2].pk}

    # the page's keys and total read the task table alone; its rows are then read with their deadline
    with CaptureQueriesContext(connection) as ctx:
        rows, total = first_rows_and_total(by_due(queue.select_related("deadline")), 3)
    assert total == len(joined) and [row.pk for row in rows] == joined[:3]
    assert "inbox_taskdeadline" not in ctx.captured_queries[0]["sql"]
    assert rows[0].deadline.due_at == rows[0].due_at

    # as a subquery the column follows the task table's alias
    inner = with_due(Task.objects.all()).filter(due_at__lte=now).values("pk")
    assert set(Task.objects.filter(pk__in=inner).values_list("pk", flat=True)) >= set(late_joined)


def test_the_queue_page_sorted_by_due_either_way_puts_tasks_without_a_due_date_last_and_breaks_ties_by_id(
        people, order_data):
    import re

    from django.test import Client

    processes = [start(people["market"], order_data(number=f"PO-PAGE-{i}")) for i in range(4)]
    tasks = [open_task(process, "review_quality") for process in processes]
    day = timezone.localdate() + datetime.timedelta(days=3)
    TaskDeadline.objects.filter(task_id__in=[t.pk for t in tasks]).update(due_date=day, due_at=end_of_day(day))
    later = day + datetime.timedelta(days=2)
    TaskDeadline.objects.filter(task_id=tasks[1].pk).update(due_date=later, due_at=end_of_day(later))
    TaskDeadline.objects.filter(task_id=tasks[2].pk).delete()
    browser = Client()
    browser.force_login(people["quality"])

    def shown(order):
        html = browser.get(f"/qms/queue/?_orderby={order}").content
        return [int(pk) for pk in re.findall(rb'/review_quality/(\d+)/', html)]

    ids = [t.pk for t in tasks]
    assert shown("due") == [ids[0], ids[3], ids[1], ids[2]]
    assert shown("-due") == [ids[1], ids[3], ids[0], ids[2]]


def test_a_lost_trigger_is_put_back_after_migrate_and_the_column_filled_again(people, order_data):
    """SQLite rebuilds a table to alter it, dropping what Django does not know of: after every migrate the
    column, its triggers and indexes are checked and put back (inbox.due.ensure, post_migrate)."""
    from django.db.models.signals import post_migrate

    from django.apps import apps
    from inbox import due

    process = start(people["market"], order_data(number="PO-ENSURE"))
    task = open_task(process, "review_quality")
    assert due.missing(connection) == set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # the test's own transaction holds deferred foreign-key checks, which PostgreSQL will not have
            # pending under an index build; a real migrate has none
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("DROP TRIGGER qms_task_due ON inbox_taskdeadline")
        else:
            cursor.execute("DROP TRIGGER qms_task_due_insert")
        cursor.execute("DROP INDEX task_queue_by_due")
        cursor.execute("UPDATE viewflow_task SET qms_due_at = NULL")
    assert due.missing(connection) >= {"task_queue_by_due"}
    post_migrate.send(sender=apps.get_app_config("inbox"), app_config=apps.get_app_config("inbox"),
                      verbosity=0, interactive=False, using=connection.alias, apps=apps, plan=[])
    assert due.missing(connection) == set()
    assert stored_due()[task.pk] == TaskDeadline.objects.get(task_id=task.pk).due_at
    # the triggers work again
    process = start(people["market"], order_data(number="PO-ENSURE-2"))
    again = open_task(process, "review_quality")
    assert stored_due()[again.pk] == TaskDeadline.objects.get(task_id=again.pk).due_at
