"""The archive (/qms/archive/): the tasks I completed, last finished first, the list behind the dashboard's "Recently
completed by me" (the same tasks, the same count), paged with its total, each row naming what the task was about
(issue 15.2; inbox.views.CompletedListView). Its query count, constant in the rows, is checked with the other lists
in test_list_page_query_counts.py."""
import datetime

import pytest
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from inbox import services
from test_list_page_query_counts import clone_processes
from test_query_counts import USER, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_the_archive_lists_what_the_dashboard_counts_newest_first_paged_with_subjects(world):  # noqa: F811
    user, other = world.people[USER], world.people["quality_mgr"]
    clone_processes(world.template, 30, owner=user, done=True)
    clone_processes(world.template, 3, owner=other, done=True)  # someone else's: not in my archive
    mine = Task.objects.filter(owner=user, status=STATUS.DONE)
    oldest = mine.order_by("pk").first()
    mine.exclude(pk=oldest.pk).update(finished=timezone.now() - datetime.timedelta(days=1))
    Task.objects.filter(pk=oldest.pk).update(finished=timezone.now())  # finished last: shown first
    client = Client()
    client.force_login(user)

    response = client.get("/qms/archive/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    total = services.dashboard(user)["totals"]["completed"]
    assert total == mine.count() >= 30
    assert response.context["paginator"].count == total  # the dashboard's "Showing 10 of N" is this list
    rows = response.context["task_rows"]
    assert len(rows) == 25 and rows[0].pk == oldest.pk
    assert all(task.owner_id == user.pk and task.status == STATUS.DONE for task in rows)
    html = response.content.decode()
    assert f'id="archive-tasks-task-{oldest.pk}"' in html
    assert rows[0].subject and str(rows[0].subject) in html  # what it was about, as on the dashboard
    second = client.get("/qms/archive/?page=2", HTTP_ACCEPT_LANGUAGE="en").context["task_rows"]
    assert len(second) == total - 25 and not {t.pk for t in second} & {t.pk for t in rows}  # nothing cut or repeated


def test_the_archive_filters_by_step_and_process_from_the_flows_not_a_scan(world):  # noqa: F811
    user = world.people[USER]
    clone_processes(world.template, 2, owner=user, done=True)
    task = Task.objects.filter(owner=user, status=STATUS.DONE).order_by("-pk").first()
    client = Client()
    client.force_login(user)
    response = client.get(f"/qms/archive/?process={task.process_id}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert [t.pk for t in response.context["task_rows"]] == [task.pk]
    steps = dict(response.context["view"].filterset.filters["flow_task"].field.choices)
    assert any(ref.endswith(".review_quality") for ref in steps)  # every human step of every flow
    other_step = next(ref for ref in steps if ref and not ref.endswith(".review_quality"))
    response = client.get(f"/qms/archive/?flow_task={other_step}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and list(response.context["task_rows"]) == []
