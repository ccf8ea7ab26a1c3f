"""The links from new tasks to the tasks before them (viewflow_task_previous) are written at the end of the step's
transaction in one INSERT (workflows.links, core.audit.insert_later), and so are its new tasks' deadlines and
notices: the same rows as written one by one, none left behind by a savepoint rolled back, written at once outside
an audit.atomic() block."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from core import audit
from core.models import AuditEntry
from p1_driver import start

pytestmark = pytest.mark.django_db

LINK_INSERT = 'INSERT INTO "viewflow_task_previous"'


def links_of(process):
    return sorted((t.flow_task.name, sorted(p.flow_task.name for p in t.previous.all()))
                  for t in Task.objects.filter(process=process).prefetch_related("previous"))


def test_a_start_links_its_split_and_five_reviews_in_one_insert(people, order_data, monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    with CaptureQueriesContext(connection) as captured:
        process = start(people["market"], order_data(number="PO-LINK-1"))
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(LINK_INSERT)]
    assert len(inserts) == 1
    links = dict(links_of(process))
    split = _split_name(links)
    reviews = [name for name in links if name.startswith("review_")]
    assert len(reviews) == 5 and all(links[name] == [split] for name in reviews)
    assert links["start"] == []
    # the INSERT comes before the audit entries: the audit head is locked for the last three statements only
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sqls.index(inserts[0]) < next(i for i, sql in enumerate(sqls) if 'FROM "core_audithead"' in sql)


def _split_name(links):
    [split] = [name for name, before in links.items() if before == ["start"]]
    return split


def test_a_row_given_in_a_savepoint_that_is_rolled_back_is_dropped_with_it(people, order_data, monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    process = start(people["market"], order_data(number="PO-LINK-2"))
    start_task, _split, review, other_review = Task.objects.filter(process=process).order_by("pk")[:4]
    through = Task.previous.through
    kept, dropped = (review.pk, start_task.pk), (review.pk, other_review.pk)  # links no step makes
    with audit.atomic():
        audit.insert_later(through(from_task_id=kept[0], to_task_id=kept[1]))
        try:
            with transaction.atomic():
                audit.insert_later(through(from_task_id=dropped[0], to_task_id=dropped[1]))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert not through.objects.filter(from_task_id=kept[0], to_task_id=kept[1]).exists(), "not yet written"
    assert through.objects.filter(from_task_id=kept[0], to_task_id=kept[1]).exists()
    assert not through.objects.filter(from_task_id=dropped[0], to_task_id=dropped[1]).exists()


def test_outside_an_audit_block_a_row_is_written_at_once(people, order_data, monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    process = start(people["market"], order_data(number="PO-LINK-3"))
    start_task, _split, review = Task.objects.filter(process=process).order_by("pk")[:3]
    through = Task.previous.through
    with transaction.atomic():
        audit.insert_later(through(from_task_id=review.pk, to_task_id=start_task.pk))
        assert through.objects.filter(from_task_id=review.pk, to_task_id=start_task.pk).exists()


def test_a_fan_out_writes_its_tasks_deadlines_and_notices_in_one_insert_each(people, monkeypatch):
    """The P3 plan approval opens one action task per owner: their deadlines and their assignment notices are written
    at the end of the step (one INSERT each, core.audit.insert_later), and each notice still names its task's due
    date (kept on the task object for it, not read back)."""
    from inbox.models import Notification, TaskDeadline
    from p3_support import p3_drivers, raise_data, skip_rendering, walk_to_actions
    from workflows import actions

    skip_rendering(monkeypatch)
    captured = {}
    original = actions.complete_step

    def complete_step(task, **kwargs):
        if task.flow_task.name != "approve_plan":
            return original(task, **kwargs)
        with CaptureQueriesContext(connection) as queries:
            result = original(task, **kwargs)
        captured["sql"] = [q["sql"] for q in queries.captured_queries]
        return result

    monkeypatch.setattr(actions, "complete_step", complete_step)
    drive = p3_drivers()["api"]()
    pid = drive.start("quality", raise_data(reference="IPQC-LINK-1"))
    walk_to_actions(drive, pid, owners=("production", "engineering", "materials"))
    inserts = {table: [sql for sql in captured["sql"] if sql.startswith(f'INSERT INTO "{table}"')]
               for table in ("inbox_taskdeadline", "inbox_notification", "viewflow_task_previous", "viewflow_task")}
    # the tasks: the If, the fan-out, then its three action tasks together (workflows.gateways.SplitActivation)
    assert {table: len(sqls) for table, sqls in inserts.items()} == {
        "inbox_taskdeadline": 1, "inbox_notification": 1, "viewflow_task_previous": 1, "viewflow_task": 3}
    fan_out = Task.objects.get(process_id=pid, flow_task_type="PARALLEL_GATEWAY")
    opened = list(Task.objects.filter(process_id=pid, flow_task_type="HUMAN", status="ASSIGNED").order_by("pk"))
    assert [task.owner.username for task in opened] == ["production", "engineering", "materials"]
    assert len({str(task.token) for task in opened}) == 3 and all(
        str(task.token).startswith(f"start/{fan_out.pk}_") for task in opened)  # viewflow's split tokens, in order
    for task in opened:
        assert list(task.previous.all()) == [fan_out]
        assert AuditEntry.objects.filter(action="task.created", object_id=str(task.pk)).count() == 1
        deadline = TaskDeadline.objects.get(task=task)
        notice = Notification.objects.get(task=task, kind="assigned")
        assert deadline.due_date.isoformat() in notice.body and notice.recipient_id == task.owner_id
