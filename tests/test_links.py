"""The links from new tasks to the tasks before them (viewflow_task_previous) are written at the end of the step's
transaction in one INSERT (workflows.links, core.audit.insert_later): the same links as viewflow writes one by
one, none left behind by a savepoint rolled back, written at once outside an audit.atomic() block."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from core import audit
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
