"""Issue 15: every task list, the dashboard and the notifications cost the same number of queries
whatever the number of rows they show (a page of 5 or of 45): no per-row query in a serializer or
a template (subjects, deadlines, owners, queue labels, membership checks all come per page).

The measured user (Quality staff) has the real processes of tests/test_query_counts.py (`world`);
then more of their tasks are added in bulk — claimed by them (inbox, dashboard "mine") or left in
the Quality queue — and the same request must run the same number of queries
(django_assert_num_queries)."""
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from core.models import Record
from inbox import services
from inbox.models import Notification, NotificationKind
from procedures.order_review.flows import OrderReviewFlow
from test_query_counts import USER, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

MORE = 40


def clone_processes(template, count, *, owner, done=False):
    """`count` more processes like `template` (process, tasks, record); their quality review is
    claimed by `owner`, or waits in the Quality queue when owner is None; `done`: completed by `owner`."""
    tasks = list(Task.objects.filter(process=template).order_by("pk"))
    record = Record.objects.get(process=template)
    process_fields = [f.attname for f in Process._meta.concrete_fields if f.attname != "id"]
    task_fields = [f.attname for f in Task._meta.concrete_fields if f.attname not in ("id", "process_id")]
    record_fields = [f.attname for f in Record._meta.concrete_fields if f.attname not in ("id", "number", "process_id")]
    clones = Process.objects.bulk_create([Process(**{f: getattr(template, f) for f in process_fields})
                                          for _ in range(count)])
    new_tasks = []
    for clone in clones:
        for task in tasks:
            copy = Task(process=clone, **{f: getattr(task, f) for f in task_fields})
            if task.flow_task == OrderReviewFlow.review_quality:
                copy.owner_id = owner.pk if owner else None
                copy.status = STATUS.ASSIGNED if owner else STATUS.NEW
                if done:
                    copy.status, copy.finished = STATUS.DONE, timezone.now()
            new_tasks.append(copy)
    Task.objects.bulk_create(new_tasks)
    Record.objects.bulk_create([Record(process=clone, number=f"OR-PAGE-{clone.pk:06d}",
                                       **{f: getattr(record, f) for f in record_fields}) for clone in clones])


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


def rows_of(response):
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return len(body["results"]) if "results" in body else sum(len(v) for v in body.values() if isinstance(v, list))
    return response.content.count(b"<tr")


LISTS = {  # url: whose rows grow (the user's own tasks, or the Quality queue)
    "/api/tasks/": "inbox",
    "/api/tasks/?queue=1": "queue",
    "/qms/inbox/": "inbox",
    "/qms/queue/": "queue",
    "/api/dashboard/": "both",
    "/qms/dashboard/": "both",
    "/qms/archive/": "done",  # the tasks I completed (inbox.views.CompletedListView)
}


@pytest.mark.parametrize("url", LISTS)
def test_a_task_list_costs_the_same_queries_for_a_page_of_5_and_of_45(world, url, django_assert_num_queries,  # noqa: F811
                                                                      monkeypatch):
    monkeypatch.setattr(services, "DASHBOARD_ROWS", 50)  # the dashboard's lists as long as a page (10 by default)
    client = Client()
    client.force_login(world.people[USER])
    if LISTS[url] == "done":  # the person has completed nothing yet: one completed task to start from
        clone_processes(world.template, 1, owner=world.people[USER], done=True)
    queries(client, url)  # warm Django's caches (content types, templates, permissions)
    few, response = queries(client, url)
    rows_before = rows_of(response)
    grows = LISTS[url]
    if grows in ("inbox", "both"):
        clone_processes(world.template, MORE, owner=world.people[USER])
    if grows in ("queue", "both"):
        clone_processes(world.template, MORE, owner=None)
    if grows == "done":
        clone_processes(world.template, MORE, owner=world.people[USER], done=True)
    with django_assert_num_queries(few):
        response = client.get(url)
    assert response.status_code == 200
    assert rows_of(response) >= rows_before + min(MORE, 20)  # the page did show more rows (a page is 25)


def test_the_notification_list_costs_the_same_queries_for_5_and_45(world, django_assert_num_queries):  # noqa: F811
    user = world.people[USER]
    client = Client()
    client.force_login(user)
    for url in ("/api/notifications/", "/qms/notifications/"):
        queries(client, url)
    counts = {url: queries(client, url)[0] for url in ("/api/notifications/", "/qms/notifications/")}
    before = Notification.objects.filter(recipient=user).count()
    Notification.objects.bulk_create([Notification(recipient=user, kind=NotificationKind.values[0],
                                                    title=f"Test {index}", created=timezone.now())
                                       for index in range(MORE)])
    assert Notification.objects.filter(recipient=user).count() >= before + MORE
    for url, count in counts.items():
        with django_assert_num_queries(count):
            assert client.get(url).status_code == 200
