"""A task's link (inbox.escalation.task_link: every task list row, every task notice) is its step's address
reversed once with stand-in numbers and filled in; it must be the very string viewflow's own reverse gives, for
each step, in each language, under a script prefix, and nothing for a task that has no address."""
import pytest
from django.urls import set_script_prefix
from django.utils import translation
from viewflow.workflow.models import Task

from inbox.escalation import task_link
from p1_driver import start

pytestmark = pytest.mark.django_db


def reversed_by_viewflow(task):
    return task.flow_task.reverse("index", args=[task.process_id, task.pk])


def test_each_tasks_link_is_its_steps_own_reverse(people, order_data, monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    for number in ("PO-LINK-A", "PO-LINK-B"):
        start(people["market"], order_data(number=number))
    tasks = list(Task.objects.order_by("pk"))  # the start, the split, the reviews: each step's own page
    assert len({t.flow_task for t in tasks}) >= 6 and len({t.process_id for t in tasks}) == 2
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for task in tasks:
                assert task_link(task) == reversed_by_viewflow(task) != ""
    try:
        set_script_prefix("/plant/")
        links = [task_link(task) for task in tasks]
        assert links == [reversed_by_viewflow(task) for task in tasks]
        assert all(link.startswith("/plant/") for link in links)
    finally:
        set_script_prefix("/")
    assert [task_link(task) for task in tasks] == [reversed_by_viewflow(task) for task in tasks]


def test_a_task_without_an_address_has_no_link(people, order_data, monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    process = start(people["market"], order_data(number="PO-LINK-C"))
    task = Task.objects.filter(process=process, flow_task_type="HUMAN").first()
    assert task_link(Task(flow_task=task.flow_task, process=process)) == ""  # not saved: no number yet
