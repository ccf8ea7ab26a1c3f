"""Due dates in the task lists (API and browser): sort and filter by due and overdue;
the dashboard; step targets and the calendar edited by the Quality manager only;
query counts that do not grow with the number of tasks or notifications."""
import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from api_driver import client_for
from core.models import AuditEntry
from inbox.models import CalendarDay, StepTarget, TaskDeadline
from inbox.notify import notify
from p1_driver import act, open_task, start
from workflows import actions

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day, hour=10):
    return time_machine.travel(datetime.datetime(2026, 11, day, hour, tzinfo=TZ), tick=False)


@pytest.fixture
def three(people, order_data):
    """Three P1 processes whose quality reviews are due on Thu 26, Fri 27 and Mon 30 Nov
    (started Mon 23, Tue 24, Wed 25); the middle one claimed by `quality`."""
    processes = []
    for day in (23, 24, 25):
        with at(day):
            processes.append(start(people["market"], order_data(number=f"PO-{day}")))
    with at(25, 11):
        actions.claim_task(open_task(processes[1], "review_quality"), actor=people["quality"])
    return processes


def test_api_tasks_carry_due_and_overdue_and_sort_and_filter_by_them(people, three):
    client = client_for("quality")
    with at(27, 9):  # the first is overdue (due Thu 26), the others are not
        queue = client.get("/api/tasks/?queue=1&ordering=due").json()["results"]
        assert [t["due"] for t in queue] == ["2026-11-26", "2026-11-30"]
        assert [t["overdue"] for t in queue] == [True, False]
        assert [t["due"] for t in client.get("/api/tasks/?queue=1&ordering=-due").json()["results"]] == \
            ["2026-11-30", "2026-11-26"]
        overdue = client.get("/api/tasks/?queue=1&overdue=1").json()["results"]
        assert [t["process"] for t in overdue] == [three[0].pk]
        assert [t["process"] for t in client.get("/api/tasks/?queue=1&overdue=0").json()["results"]] == [three[2].pk]
        assert [t["process"] for t in client.get("/api/tasks/?queue=1&due_before=2026-11-27").json()["results"]] == \
            [three[0].pk]
        mine = client.get("/api/tasks/").json()["results"]
        assert [(t["process"], t["due"], t["overdue"]) for t in mine] == [(three[1].pk, "2026-11-27", False)]
        assert client.get(f"/api/tasks/{mine[0]['id']}/").json()["due"] == "2026-11-27"
    with at(28, 9):
        assert [t["process"] for t in client.get("/api/tasks/?overdue=1").json()["results"]] == [three[1].pk]


def test_api_task_filters_refuse_bad_values(people, three):
    client = client_for("quality")
    for query in ("overdue=maybe", "due_before=27.11.2026", "ordering=owner"):
        response = client.get(f"/api/tasks/?{query}")
        assert response.status_code == 400, query
        assert response.json()["errors"], query


def test_browser_queue_shows_due_dates_with_an_overdue_badge_sorts_and_filters(people, three):
    web = Client()
    with at(27, 9):
        web.force_login(people["quality"])
        page = web.get("/qms/queue/?_orderby=due").content.decode()
        assert page.index("2026-11-26") < page.index("2026-11-30")
        assert page.count("qms-badge--bad") == 1
        page = web.get("/qms/queue/?_orderby=-due").content.decode()
        assert page.index("2026-11-30") < page.index("2026-11-26")
        filtered = web.get("/qms/queue/?overdue=true").content.decode()
        assert "2026-11-26" in filtered and "2026-11-30" not in filtered
        assert "2026-11-27" in web.get("/qms/inbox/").content.decode()


def test_dashboard_shows_my_tasks_queues_overdue_completed_and_my_processes(people, three):
    web = Client()
    with at(27, 9):
        web.force_login(people["quality"])
        page = web.get("/qms/dashboard/").content.decode()
        overdue = page[page.index('id="overdue"'):page.index('id="my-tasks"')]
        assert f"#{three[0].pk}/" in overdue and f"#{three[2].pk}/" not in overdue
        mine = page[page.index('id="my-tasks"'):page.index('id="my-queues"')]
        assert f"#{three[1].pk}/" in mine
        web.force_login(people["market"])
        started = web.get("/qms/dashboard/").content.decode()
        started = started[started.index('id="started"'):]
        assert all(f"#{p.pk}<" in started for p in three)
        assert "2026-11-26" in started  # where it stands: open steps with their due dates
    body = client_for("market").get("/api/dashboard/").json()
    assert {p["id"] for p in body["processes_started"]} == {p.pk for p in three}
    # the five parallel reviews (Market's own and the four departments') wait in each
    assert all(sorted(t["step"] for t in p["open_steps"]) == ["review_engineering", "review_market",
                                                              "review_materials", "review_production",
                                                              "review_quality"]
               for p in body["processes_started"])


def test_the_dashboards_overdue_list_and_counts_are_those_of_their_own_scans(people, order_data):
    """The dashboard takes "overdue" from its lists of my tasks and my queues (soonest due first, so a list's overdue
    tasks come first in it) and counts it in their scans: the same tasks, order and totals as scanning each list again
    for its overdue tasks, with more overdue tasks than a list shows, due dates shared, and a task without one."""
    from inbox import services
    from inbox.due import with_due

    for day, claimed in ((16, True), (16, False), (17, False), (17, True), (18, True), (18, False), (19, False),
                         (26, True), (27, False)):
        with at(day):
            process = start(people["market"], order_data(number=f"PO-L-{day}-{claimed}"))
            if claimed:
                actions.claim_task(open_task(process, "review_quality"), actor=people["quality"])
    TaskDeadline.objects.filter(task=open_task(process, "review_quality")).delete()  # a task without a due date
    user = people["quality"]
    with at(25, 12):
        now = datetime.datetime(2026, 11, 25, 12, tzinfo=TZ)
        late = {name: with_due(tasks).filter(due_at__lte=now)
                for name, tasks in (("mine", services.inbox_of(user)), ("queued", services.queue_of(user)))}
        assert {name: tasks.count() for name, tasks in late.items()} == {"mine": 3, "queued": 4}
        for limit in (1, 2, 3, 4, 10):
            scanned = sorted([task for tasks in late.values() for task in services._with_deadline(tasks)[:limit]],
                             key=services._due_key)[:limit]
            board = services.dashboard(user, limit=limit, now=now)
            assert [t.pk for t in board["overdue"]] == [t.pk for t in scanned], limit
            assert (board["totals"]["overdue_mine"], board["totals"]["overdue_queued"], board["totals"]["overdue"]) \
                == (3, 4, 7)
            assert (board["totals"]["mine"], board["totals"]["queued"]) == (4, 5)
            assert all(t.deadline.due_at <= now for t in board["overdue"])


def test_the_dashboard_reads_the_rows_of_its_three_task_lists_in_one_query(people, three):
    """Each task list of the dashboard (my tasks, my queues, recently completed) chooses and counts its keys in a scan
    of its own; the rows of all three are then read in one query, each list in its own order (core.deferred
    .rows_of_lists)."""
    from inbox import services

    user = people["quality"]
    with at(25, 12):
        act(three[0], "review_quality", user, {"verdict": "can_meet"}, meaning="reviewed")  # one completed
        with CaptureQueriesContext(connection) as queries:
            board = services.dashboard(user, limit=10)
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith('SELECT "viewflow_task"."id", "viewflow_task"."flow_task"')
             and '"viewflow_task"."id" IN (' in q["sql"] and "OVER ()" not in q["sql"]]
    assert all(board[name] for name in ("mine", "queued", "completed"))
    assert len(reads) == 1, reads  # the rows of every list in one statement (where_they_stand reads apart)
    assert [t.pk for t in board["mine"]] == [t.pk for t in services._with_deadline(services.inbox_of(user))[:10]]
    assert [t.pk for t in board["queued"]] == [t.pk for t in services._with_deadline(services.queue_of(user))[:10]]
    assert [t.pk for t in board["completed"]] == [
        t.pk for t in services.COMPLETED_ORDER.order(services.completed_by(user))[:10]]


def _section(page, begin, end=None):
    return page[page.index(begin):page.index(end) if end else None]


def test_dashboard_lists_show_their_first_rows_say_how_many_in_all_and_link_to_the_whole_list(
        people, three, monkeypatch):
    """Nothing on the dashboard is cut silently: each list's total is in its heading, and a list longer
    than the rows shown says so and links to the whole list, paged (inbox, queue, archive, started)."""
    from inbox import services
    monkeypatch.setattr(services, "DASHBOARD_ROWS", 1)
    web = Client()
    with at(27, 9):
        web.force_login(people["quality"])
        page = web.get("/qms/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        queues = _section(page, 'id="my-queues-total"', 'id="completed"')
        assert ">2</span>" in queues and queues.count('id="my-queues-task-') == 1
        assert 'id="my-queues-more"' in queues and 'href="/qms/queue/"' in queues
        assert "Showing 1 of 2." in queues
        mine = _section(page, 'id="my-tasks-total"', 'id="my-queues-total"')
        assert ">1</span>" in mine and 'id="my-tasks-more"' not in mine  # all there is: no link
        assert 'id="overdue-total">1<' in page and 'id="overdue-more"' not in page
        web.force_login(people["market"])
        page = web.get("/qms/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        started = _section(page, 'id="started-total"')
        assert ">3</span>" in started and started.count("/qms/dashboard/process/") == 1
        assert f"#{three[2].pk}<" in started  # the newest
        assert 'href="/qms/dashboard/started/"' in started and "共 3 条，显示前 1 条。" in started

        first = web.get("/qms/dashboard/started/?page_size=2").content.decode()
        assert [f"#{p.pk}<" in first for p in three] == [False, True, True]
        more = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
        last = web.get(f"/qms/dashboard/started/{more}").content.decode()
        assert [f"#{p.pk}<" in last for p in three] == [True, False, False] and 'rel="next"' not in last
        assert "2026-11-26" in last  # where it stands: the open steps with their due dates
        stale = web.get("/qms/dashboard/started/?cursor=garbage", follow=True)
        assert stale.status_code == 200 and all(f"#{p.pk}<" in stale.content.decode() for p in three)
        web.force_login(people["quality"])  # started none of them
        assert "/qms/dashboard/process/" not in web.get("/qms/dashboard/started/").content.decode()

    api = client_for("market")
    with at(27, 9):
        body = api.get("/api/dashboard/?limit=1").json()
        assert [p["id"] for p in body["processes_started"]] == [three[2].pk]
        assert body["totals"]["processes_started"] == 3
        assert body["more"]["processes_started"].endswith("/api/dashboard/started/")
        assert body["more"]["my_tasks"] is None
        listed = api.get("/api/dashboard/started/?page_size=2").json()
        assert listed["count"] == 3 and [p["id"] for p in listed["results"]] == [three[2].pk, three[1].pk]
        rest = api.get(listed["next"]).json()
        assert [p["id"] for p in rest["results"]] == [three[0].pk] and rest["next"] is None
        quality = client_for("quality").get("/api/dashboard/?limit=1").json()
        assert quality["totals"] == {"my_tasks": 1, "my_queues": 2, "overdue": 1, "overdue_in_my_tasks": 0,
                                     "overdue_in_my_queues": 1, "recently_completed": 0, "processes_started": 0}
        assert quality["more"]["my_queues"].endswith("/api/tasks/?queue=1&ordering=due")
        assert len(client_for("quality").get(quality["more"]["my_queues"]).json()["results"]) == 2
        for bad in ("0", "51", "ten"):
            refused = api.get(f"/api/dashboard/?limit={bad}")
            assert refused.status_code == 400 and "limit" in str(refused.json()), bad


def test_only_the_quality_manager_edits_step_targets_and_the_calendar_and_it_is_audited(people, order_data):
    staff = Client()
    staff.force_login(people["quality"])
    assert staff.get("/qms/targets/").status_code == 403
    assert staff.post("/qms/targets/", {"action": "target", "flow": "OrderReviewFlow", "step": "review_quality",
                                        "working_days": "1"}).status_code == 403
    assert not StepTarget.objects.exists()
    manager = Client()
    manager.force_login(people["quality_mgr"])
    assert manager.get("/qms/targets/").status_code == 200
    bad = manager.post("/qms/targets/", {"action": "target", "flow": "OrderReviewFlow", "step": "review_quality",
                                         "working_days": "-2"})
    assert bad.status_code == 400 and not StepTarget.objects.exists()
    manager.post("/qms/targets/", {"action": "target", "flow": "OrderReviewFlow", "step": "review_quality",
                                   "working_days": "1", "l2_after_working_days": "4"})
    target = StepTarget.objects.get()
    assert (target.working_days, target.l2_after_working_days, target.reminder_hours) == (1, 4, None)
    assert AuditEntry.objects.filter(action="inbox.step_target_changed", actor=people["quality_mgr"]).count() == 1
    manager.post("/qms/targets/", {"action": "add_day", "date": "2026-11-24", "kind": "holiday",
                                   "name_zh": "厂休", "name_en": "Company holiday"})
    assert CalendarDay.objects.get().date == datetime.date(2026, 11, 24)
    assert AuditEntry.objects.filter(action="inbox.calendar_day_added").count() == 1
    with at(23):
        process = start(people["market"], order_data())
    # one working day after Mon 23, Tue 24 being a holiday → Wed 25
    assert TaskDeadline.objects.get(task=open_task(process, "review_quality")).due_date == datetime.date(2026, 11, 25)
    manager.post("/qms/targets/", {"action": "remove_day", "pk": CalendarDay.objects.get().pk})
    assert not CalendarDay.objects.exists()
    assert AuditEntry.objects.filter(action="inbox.calendar_day_removed").count() == 1


# --- query counts ----------------------------------------------------------------------------------------


def _count(action):
    with CaptureQueriesContext(connection) as ctx:
        action()
    return len(ctx.captured_queries)


def _grow(people, order_data, upto, have):
    for i in range(have, upto):
        process = start(people["market"], order_data(number=f"PO-Q-{i:03d}"))
        actions.claim_task(open_task(process, "review_quality"), actor=people["quality"])
        notify(people["quality"], "reminder", "n")


def test_dashboard_notifications_and_overdue_tasks_cost_the_same_with_5_and_50_tasks(people, order_data,
                                                                                    credentials_kept_fresh):
    web = Client()
    api = client_for("quality")
    with at(23):
        _grow(people, order_data, 5, 0)
    pages = {"dashboard": lambda: web.get("/qms/dashboard/"),
             "notifications": lambda: web.get("/qms/notifications/"),
             "api overdue": lambda: api.get("/api/tasks/?overdue=1"),
             "api dashboard": lambda: api.get("/api/dashboard/"),
             "api notifications": lambda: api.get("/api/notifications/")}
    with at(30):
        web.force_login(people["quality"])
        for page in pages.values():
            page()  # warm caches
        small = {name: _count(page) for name, page in pages.items()}
        assert len(api.get("/api/tasks/?overdue=1").json()["results"]) == 5
    with at(23, 12):
        _grow(people, order_data, 50, 5)
    with at(30, 1):
        web.force_login(people["quality"])
        large = {name: _count(page) for name, page in pages.items()}
        assert len(api.get("/api/tasks/?overdue=1").json()["results"]) == 50
        assert len(re.findall(r'id="unread-count">50<', web.get("/qms/notifications/").content.decode())) == 1
    assert small == large


def test_the_inbox_and_the_queue_are_the_same_tasks_in_the_api_the_pages_and_the_dashboard(people, three):
    """One definition of each (inbox.services.inbox_of, queue_of): a task its holder has begun (STARTED)
    is in their inbox everywhere, and each screen counts what the others list."""
    from viewflow.workflow.models import Task
    from inbox import services

    begun = open_task(three[2], "review_quality")
    Task.objects.filter(pk=begun.pk).update(owner=people["quality"], status="STARTED")
    api = client_for("quality")
    browser = Client()
    browser.force_login(people["quality"])
    api_mine = {t["id"] for t in api.get("/api/tasks/").json()["results"]}
    page_mine = {int(pk) for pk in re.findall(rb'/review_quality/(\d+)/', browser.get("/qms/inbox/").content)}
    assert api_mine == page_mine == {open_task(three[1], "review_quality").pk, begun.pk}
    api_queue = {t["id"] for t in api.get("/api/tasks/?queue=1").json()["results"]}
    page_queue = {int(pk) for pk in re.findall(rb'/review_quality/(\d+)/', browser.get("/qms/queue/").content)}
    assert api_queue == page_queue == {open_task(three[0], "review_quality").pk}
    totals = services.dashboard(people["quality"])["totals"]
    assert (totals["mine"], totals["queued"]) == (2, 1)
    dashboard = api.get("/api/dashboard/").json()
    assert {t["id"] for t in dashboard["my_tasks"]} == api_mine and dashboard["totals"]["my_queues"] == 1


def test_the_tasks_i_completed_are_a_paged_api_list_the_dashboard_links_to(people, three):
    from viewflow.workflow.models import Task

    mine = list(Task.objects.filter(owner=people["market"], status="DONE").order_by("-finished", "-pk")
                .values_list("pk", flat=True))
    assert len(mine) == 3  # the three orders market entered (their start steps)
    api = client_for("market")
    dashboard = api.get("/api/dashboard/?limit=1").json()
    assert dashboard["totals"]["recently_completed"] == 3
    assert [t["id"] for t in dashboard["recently_completed"]] == mine[:1]
    assert dashboard["more"]["recently_completed"].endswith("/api/dashboard/completed/")
    first = api.get("/api/dashboard/completed/?page_size=2").json()
    assert first["count"] == 3 and [t["id"] for t in first["results"]] == mine[:2]
    assert all(t["subject"].startswith("OR-") or "PO-" in t["subject"] for t in first["results"]), first["results"]
    rest = api.get(first["next"]).json()
    assert [t["id"] for t in rest["results"]] == mine[2:] and rest["next"] is None
    assert client_for("quality").get("/api/dashboard/completed/").json()["count"] == 0  # only one's own
    assert api.get("/api/dashboard/completed/?cursor=garbage").status_code == 400
    assert client_for("quality").get("/api/dashboard/?limit=5").json()["more"]["recently_completed"] is None
