"""A flow's own pages (/qms/flows/<flow>/: the board; …/tasks/: all its tasks; …/flows/: its processes), opened
from the site menu (workflows/flow_pages.py, issue 15): each names its rows by their subject, in the reader's
language, pages them with their total, costs the same number of queries for a page of 5 rows or of 25, and reads
its own index on PostgreSQL (workflows migration 0009)."""
import pytest
from django.utils import translation
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from procedures.order_review.flows import OrderReviewFlow
from test_list_page_query_counts import clone_processes
from test_query_counts import USER, world  # noqa: F401 (the fixture)
from workflows import flow_pages

pytestmark = pytest.mark.django_db

BOARD, TASKS, PROCESSES = "/qms/flows/orderreview/", "/qms/flows/orderreview/tasks/", "/qms/flows/orderreview/flows/"
REVIEW_QUALITY = get_task_ref(OrderReviewFlow.review_quality)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("url", [BOARD, f"{TASKS}?flow_task={REVIEW_QUALITY}&open=true", PROCESSES])
def test_a_flow_page_costs_the_same_queries_for_a_page_of_5_rows_and_of_25(world, url,  # noqa: F811
                                                                           django_assert_num_queries):
    client = client_for(world.people[USER])
    count_queries(client, url)  # Django's caches (content types, templates, permissions)
    few, response = count_queries(client, url)
    rows_before = response.content.count(b"board-task-") + response.content.count(b"<tr")
    clone_processes(world.template, 30, owner=None)  # 30 more processes, their quality review in the queue
    with django_assert_num_queries(few):
        response = client.get(url)
    rows_after = response.content.count(b"board-task-") + response.content.count(b"<tr")
    assert rows_after >= rows_before + 18  # the page did show more rows (a board column or a page holds 25)


def test_the_board_shows_each_steps_open_tasks_oldest_first_with_their_count_and_subject(world):  # noqa: F811
    clone_processes(world.template, 30, owner=None)
    waiting = Task.objects.filter(flow_task=OrderReviewFlow.review_quality).filter(flow_pages.OPEN)
    total = waiting.count()
    assert total > flow_pages.BOARD_ROWS
    response = client_for(world.people["quality_mgr"]).get(BOARD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    [column] = [column for column in response.context["columns"] if column["node_ref"] == REVIEW_QUALITY]
    assert column["count"] == total
    assert [task.pk for task in column["tasks"]] == list(
        waiting.order_by("created", "pk").values_list("pk", flat=True)[:flow_pages.BOARD_ROWS])
    html = response.content.decode()
    first = column["tasks"][0]
    assert first.subject and first.subject in html  # named by its subject (the order's number, customer …)
    assert f"查看全部 {total} 项未完成任务" in html  # never cut without saying so
    assert f"?flow_task={REVIEW_QUALITY}&amp;open=true" in html
    assert "品质部" in html  # a queue is named, never its permission code
    # every card of the column, in its order; a step with no open task says so; the closed list after the steps
    at = [html.index(f'id="board-task-{task.pk}"') for task in column["tasks"]]
    assert at == sorted(at)
    empty = [c for c in response.context["columns"] if not c["count"]]
    with translation.override("zh-hans"):
        assert empty and html.count(f'qms-board-empty">{translation.gettext("No open tasks.")}') == len(empty)


def test_the_boards_closed_column_is_the_flows_newest_closed_processes(world):  # noqa: F811
    """"Recently closed": the tasks that closed a process at one of the flow's ends, newest first, the flow's own
    only, at most BOARD_ROWS (read newest first from task_end_by_finished, workflows migration 0010)."""
    import datetime

    from django.utils import timezone

    from viewflow.workflow.token import Token

    from procedures.complaints.flows import ComplaintFlow

    clone_processes(world.template, flow_pages.BOARD_ROWS + 3, owner=None)
    processes = list(Process.objects.filter(flow_class=OrderReviewFlow).order_by("pk"))
    start = timezone.now() - datetime.timedelta(days=400)
    ends = [OrderReviewFlow.end, OrderReviewFlow.declined, OrderReviewFlow.rejected]
    made = Task.objects.bulk_create([
        Task(process=process, flow_task=ends[i % 3], flow_task_type="END", status=STATUS.DONE, token=Token("start"),
             created=start, finished=start + datetime.timedelta(hours=(i * 7) % 31, minutes=i))
        for i, process in enumerate(processes)])
    # another flow's newer end, and an end task not finished: neither is this board's
    Task.objects.create(process=processes[0], flow_task=ComplaintFlow.end, flow_task_type="END", status=STATUS.DONE,
                        token=Token("start"), created=timezone.now(), finished=timezone.now())
    Task.objects.create(process=processes[1], flow_task=OrderReviewFlow.end, flow_task_type="END",
                        status=STATUS.NEW, token=Token("start"), created=timezone.now())
    expected = sorted(made, key=lambda task: (task.finished, task.pk), reverse=True)[:flow_pages.BOARD_ROWS]
    found = flow_pages.board(OrderReviewFlow)["closed"]
    assert [task.pk for task in found] == [task.pk for task in expected]
    html = client_for(world.people["quality_mgr"]).get(BOARD).content.decode()
    at = [html.index(f'id="board-task-{task.pk}"') for task in expected]
    assert at == sorted(at)


def test_the_task_list_names_steps_and_statuses_in_the_readers_language_and_filters_them(world):  # noqa: F811
    clone_processes(world.template, 30, owner=None)
    client = client_for(world.people["quality_mgr"])
    flow_tasks = Task.objects.filter(flow_task__in=flow_pages.nodes_of(OrderReviewFlow, flow_pages.LISTED_TYPES))

    response = client.get(TASKS, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.context["paginator"].count == flow_tasks.count()
    rows = response.context["task_rows"]
    assert [task.pk for task in rows] == list(flow_tasks.order_by("-created", "-pk").values_list("pk", flat=True)[:25])
    html = response.content.decode()
    assert "事项" in html and "步骤" in html and "Process summary" not in html
    assert str(OrderReviewFlow.review_quality.task_title) not in ("", None)
    assert "待处理" in html  # STATUS "New", in Chinese (locale/, msgctxt "STATUS")

    open_reviews = client.get(f"{TASKS}?flow_task={REVIEW_QUALITY}&open=true")
    expected = flow_tasks.filter(flow_task=OrderReviewFlow.review_quality).filter(flow_pages.OPEN)
    assert open_reviews.context["paginator"].count == expected.count() > 25
    assert {task.flow_task for task in open_reviews.context["task_rows"]} == {OrderReviewFlow.review_quality}

    done = client.get(f"{TASKS}?status={STATUS.DONE}")
    assert done.context["paginator"].count == flow_tasks.filter(status=STATUS.DONE).count()
    assert all(task.status == STATUS.DONE for task in done.context["task_rows"])

    refused = client.get(f"{TASKS}?flow_task=no/such.Flow.step")  # not a step of this flow: the filter says so
    assert refused.status_code == 200
    assert refused.context["view"].filterset.errors


def test_the_process_list_is_newest_first_and_never_shows_a_process_on_two_pages(world):  # noqa: F811
    clone_processes(world.template, 30, owner=None)
    client = client_for(world.people["quality_mgr"])
    flow_processes = Process.objects.filter(flow_class=OrderReviewFlow)
    Process.objects.filter(pk__in=flow_processes.values("pk")).update(created=world.template.created)  # one time
    first = client.get(PROCESSES, HTTP_ACCEPT_LANGUAGE="en")
    second = client.get(f"{PROCESSES}?page=2", HTTP_ACCEPT_LANGUAGE="en")
    assert first.context["paginator"].count == flow_processes.count()
    shown = [process.pk for process in first.context["object_list"]] + [
        process.pk for process in second.context["object_list"]]
    assert shown == list(flow_processes.order_by("-created", "-pk").values_list("pk", flat=True))
    process = first.context["object_list"][0]
    assert process.active_tasks_count == Task.objects.filter(process=process).filter(flow_pages.OPEN).count() > 0
    assert process.subject in first.content.decode()


@pytest.mark.parametrize("url", [BOARD, TASKS, PROCESSES])
def test_a_flow_page_is_refused_to_someone_outside_the_departments(world, url):  # noqa: F811
    outsider = get_user_model().objects.create_user("outsider", password="x-Outsider-2026")
    response = client_for(outsider).get(url)
    assert response.status_code == 403


# --- the plans (PostgreSQL) ------------------------------------------------------------------------------


def _plan(queryset):
    """The plan of `queryset` with table scans, bitmap scans and sorts disabled: a scan its index does not serve, or
    serves out of order, has nowhere to go but a disabled one. (Plain index scans stay enabled: PostgreSQL 15 does
    not consider an index-only scan for `= ANY(…)` without them.)"""
    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("scan, index", [
    ("board column", "task_open_by_node"),
    ("task count", "task_by_node"),
    ("process page", "process_by_flow"),
    ("closed column", "task_end_by_finished"),
])
def test_each_flow_page_reads_its_own_index(people, scan, index):
    if connection.vendor != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    queryset = {
        "board column": Task.objects.filter(flow_pages.OPEN, flow_task=OrderReviewFlow.review_quality)
        .order_by("created", "pk").values_list("pk")[:25],
        "task count": flow_pages.tasks_of(flow_pages.nodes_of(OrderReviewFlow, flow_pages.LISTED_TYPES))
        .values_list("flow_task").order_by(),  # what COUNT(*) reads
        "process page": Process.objects.filter(flow_class=OrderReviewFlow).order_by("-created", "-pk")
        .values_list("pk")[:25],
        "closed column": flow_pages.closed_tasks(flow_pages.nodes_of(OrderReviewFlow, ("END",))).values_list("pk")[:25],
    }[scan]
    plan = _plan(queryset)
    assert f"Index Only Scan using {index}" in plan, plan
    assert "Seq Scan" not in plan and "Sort" not in plan.replace("Sort Key", ""), plan


# --- the same through the API (api/flows.py) -------------------------------------------------------------


def test_the_api_gives_a_flows_board_tasks_and_processes_as_the_pages_do(world):  # noqa: F811
    clone_processes(world.template, 30, owner=None)
    client = client_for(world.people["quality_mgr"])

    assert "OrderReviewFlow" in {flow["name"] for flow in client.get("/api/flows/").json()}
    board = client.get("/api/flows/OrderReviewFlow/board/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    [column] = [column for column in board["columns"] if column["step"] == "review_quality"]
    waiting = Task.objects.filter(flow_task=OrderReviewFlow.review_quality).filter(flow_pages.OPEN)
    assert column["count"] == waiting.count() > len(column["tasks"]) == flow_pages.BOARD_ROWS
    assert [task["id"] for task in column["tasks"]] == list(
        waiting.order_by("created", "pk").values_list("pk", flat=True)[:flow_pages.BOARD_ROWS])
    first = column["tasks"][0]
    assert first["subject"] and first["status_label"] == {"NEW": "待处理", "ASSIGNED": "已分配"}[first["status"]]

    seen, url = [], "/api/flows/OrderReviewFlow/tasks/?step=review_quality&open=1&page_size=20"
    while url:
        body = client.get(url).json()
        seen += [task["id"] for task in body["results"]]
        url = body["next"]
    assert seen == list(waiting.order_by("-created", "-pk").values_list("pk", flat=True))  # every one, once
    assert body["count"] == waiting.count()

    processes = client.get("/api/flows/OrderReviewFlow/processes/?page_size=5").json()
    flow_processes = Process.objects.filter(flow_class=OrderReviewFlow)
    assert processes["count"] == flow_processes.count() and processes["next"]
    first = processes["results"][0]
    assert first["id"] == flow_processes.order_by("-created", "-pk").first().pk
    assert first["open_tasks"] == Task.objects.filter(process_id=first["id"]).filter(flow_pages.OPEN).count()


def test_the_api_refuses_a_step_or_status_the_flow_does_not_have_and_hides_flows_from_outsiders(world):  # noqa: F811
    client = client_for(world.people["quality_mgr"])
    refused = client.get("/api/flows/OrderReviewFlow/tasks/?step=no_such_step")
    assert refused.status_code == 400 and "step" in refused.json()["errors"]
    assert client.get("/api/flows/OrderReviewFlow/processes/?status=LOST").status_code == 400
    assert client.get("/api/flows/NoSuchFlow/board/").status_code == 404
    outsider = client_for(get_user_model().objects.create_user("outsider", password="x-Outsider-2026"))
    assert outsider.get("/api/flows/").json() == []
    assert outsider.get("/api/flows/OrderReviewFlow/tasks/").status_code == 404


@pytest.mark.parametrize("url", ["/api/flows/OrderReviewFlow/board/",
                                 "/api/flows/OrderReviewFlow/tasks/?step=review_quality&open=1",
                                 "/api/flows/OrderReviewFlow/processes/"])
def test_a_flow_api_list_costs_the_same_queries_for_5_rows_and_for_25(world, url,  # noqa: F811
                                                                      django_assert_num_queries):
    client = client_for(world.people[USER])
    count_queries(client, url)
    few, _ = count_queries(client, url)
    clone_processes(world.template, 30, owner=None)
    with django_assert_num_queries(few):
        assert client.get(url).status_code == 200


# The board's cards as templates/workflows/_board_cards.html drew them before inbox.table.board_cards replaced it
# (whitespace and all): the function must print the very same HTML.
_OLD_CARDS = """{% load inbox %}
{% for task in tasks %}
<div class="mdc-card qms-board-card" id="board-task-{{ task.pk }}">
  <h3 class="qms-board-card__title"><a href="{{ task|task_url }}" class="qms-subject">{{ task.subject }}</a></h3>
  <span class="qms-help">#{{ task.process_id }}/{{ task.pk }}</span>
  {% if closed %}
    <div class="vf-dashboard__card-detail"><span class="qms-board-card__label">{{ l_closed }}</span> {{ task.finished|date:"Y-m-d H:i" }}</div>
  {% else %}
    <div class="vf-dashboard__card-detail"><span class="qms-board-card__label">{{ l_created }}</span> {{ task.created|date:"Y-m-d H:i" }}</div>
    <div class="vf-dashboard__card-detail"><span class="qms-board-card__label">{{ l_owner }}</span> {{ task|holder }}</div>
  {% endif %}
</div>
{% empty %}
<p class="qms-help qms-board-empty">{{ empty }}</p>
{% endfor %}
"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_boards_cards_are_the_html_its_template_printed_escaped_in_the_readers_language(world, language):  # noqa: F811
    from django.template import Context, Template
    from django.utils import timezone
    from inbox import rows
    from inbox.table import board_cards

    clone_processes(world.template, 3, owner=None)
    tasks = list(Task.objects.filter(flow_task=OrderReviewFlow.review_quality).select_related("process", "owner")
                 .order_by("pk"))
    owned = list(Task.objects.filter(owner__isnull=False).select_related("process", "owner").order_by("pk")[:3])
    tasks = rows.attach_subjects([*tasks, *owned])
    tasks[0].subject = 'OR-1 <script>alert("x")</script> & Co'  # a subject is printed, never run
    finished = list(Task.objects.filter(finished__isnull=False).select_related("process", "owner").order_by("pk")[:4])
    rows.attach_subjects(finished)
    assert len(tasks) >= 5 and finished and any(task.owner_id is None for task in tasks)
    old = Template(_OLD_CARDS)
    with translation.override(language), timezone.override("Asia/Shanghai"):
        labels = {"l_created": translation.gettext("Created"), "l_owner": translation.gettext("Owner"),
                  "l_closed": translation.gettext("Closed")}
        no_open, none_closed = translation.gettext("No open tasks."), translation.gettext("Nothing closed yet.")
        for cards, closed, empty in ((tasks, False, no_open), (finished, True, none_closed), ([], False, no_open),
                                     ([], True, none_closed)):
            printed = old.render(Context({"tasks": cards, "closed": closed, "empty": empty, **labels}))
            assert board_cards(cards, closed=closed, empty=empty if closed else None) == printed
    html = board_cards(tasks)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html and "<script>" not in html
