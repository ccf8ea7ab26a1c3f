"""CA-5: an action past its due date shows as overdue (API, pages, process list) and its
owner and the Quality manager get ONE reminder per due date (audited)."""
import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core.models import AuditEntry
from drivers import ApiDriver, open_task
from procedures.capa.models import CapaAction, CapaCase
from procedures.capa.tasks import remind_overdue_capa_actions
from p3_support import day, raise_data, skip_rendering, walk_to_actions
from procedures.capa.models import CapaProcess

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("credentials_kept_fresh")]  # weeks pass


def later(days):
    return time_machine.travel(timezone.now() + datetime.timedelta(days=days), tick=False)


@pytest.fixture
def capa(people, monkeypatch):
    skip_rendering(monkeypatch)
    drive = ApiDriver(start_url="/api/capas/")
    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid)  # production due in 10 days, engineering in 20
    return drive, pid, CapaCase.objects.get(record__process_id=pid)


def test_an_action_past_its_due_date_shows_as_overdue_everywhere(capa, people):
    drive, pid, case = capa
    api = drive.client("quality")
    assert api.get("/api/capas/").json()["results"][0]["overdue_actions"] == 0
    with later(11):
        row = api.get("/api/capas/").json()["results"][0]
        assert (row["open_actions"], row["overdue_actions"]) == (2, 1)
        assert [r["number"] for r in api.get("/api/capas/?overdue=1").json()["results"]] == [case.record.number]
        detail = api.get(f"/api/capas/{case.record.number}/").json()
        overdue = {a["owner_username"]: a["overdue"] for a in detail["report"]["rounds"][0]["actions"]}
        assert overdue == {"production": True, "engineering": False}
        assert "1 overdue" in CapaProcess.objects.get(pk=pid).summary_text
        # the owner's task page shows it
        browser = Client()
        browser.force_login(people["production"])
        task = open_task(pid, "do_action", "production")
        page = browser.get(f"/qms/flows/capa/{pid}/do_action/{task.pk}/execute/").content.decode()
        assert page.count('overdue">') == 1
    with later(9):
        assert api.get("/api/capas/").json()["results"][0]["overdue_actions"] == 0


def test_the_list_is_paged_and_its_overdue_filter_sees_every_case_not_the_first_page(
        capa, monkeypatch, django_assert_max_num_queries):
    """Issue 15.2, nothing silently cut: GET /api/capas/ was cut at 500 cases with no sign, and ?overdue=1 kept the
    overdue ones among those 500 only. It is paged like the other registers (count, next, previous, results), and
    the overdue rule (CA-5) is applied in SQL before the page is cut."""
    from rest_framework.pagination import PageNumberPagination

    drive, pid, case = capa  # the oldest case: its actions are due in 10 and 20 days
    newer = [drive.start("quality", raise_data(reference=f"IPQC-2026-{n}")) for n in (41, 42)]
    api = drive.client("quality")
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)
    with later(11):
        first = api.get("/api/capas/").json()
        assert first["count"] == 3 and first["previous"] is None and "page=2" in first["next"]
        assert first["results"][0]["process"] == newer[-1]
        last = api.get("/api/capas/?page=3").json()
        assert last["next"] is None and [r["number"] for r in last["results"]] == [case.record.number]
        late = api.get("/api/capas/?overdue=1").json()  # the only overdue case is on the last page of the list
        assert late["count"] == 1 and [r["number"] for r in late["results"]] == [case.record.number]
        on_time = api.get("/api/capas/?overdue=0").json()
        assert on_time["count"] == 2 and case.record.number not in {r["number"] for r in on_time["results"]}
        assert api.get("/api/capas/?page=9").status_code == 404
        assert api.get("/api/capas/?overdue=2").status_code == 400
        with django_assert_max_num_queries(12) as one_row:  # the case with actions (and owners) alone on its page
            assert [r["number"] for r in api.get("/api/capas/?page=3").json()["results"]] == [case.record.number]
        monkeypatch.setattr(PageNumberPagination, "page_size", 3)
        with django_assert_max_num_queries(len(one_row)):  # constant in the page's size, not a query per case
            assert len(api.get("/api/capas/").json()["results"]) == 3


def test_one_reminder_per_overdue_action_to_its_owner_and_the_quality_manager(
        capa, people, mailoutbox, django_capture_on_commit_callbacks):
    drive, pid, case = capa
    assert remind_overdue_capa_actions() == 0
    with later(11), django_capture_on_commit_callbacks(execute=True):  # mail goes after the commit
        assert remind_overdue_capa_actions() == 1
        assert remind_overdue_capa_actions() == 0, "one reminder per due date"
    # in-app too, in each recipient's notification list
    from inbox.models import Notification
    # the overdue reminders (task notices also name the CAPA number now: their subject line)
    overdue_titles = Notification.objects.filter(title__contains=case.record.number, kind="escalation")
    assert sorted(overdue_titles.values_list("recipient__username", flat=True)) == ["production", "quality_mgr"]
    reminders = [m for m in mailoutbox if "措施 1 action 1" in m.body]  # other mail (task notices) aside
    assert sorted(m.to[0] for m in reminders) == ["production@demo.invalid", "quality_mgr@demo.invalid"]
    assert case.record.number in reminders[0].subject
    entry = AuditEntry.objects.get(action="capa.action_overdue_reminded")
    assert entry.new_values["owner"] == "production" and entry.record_id == case.record_id
    with later(12):
        assert remind_overdue_capa_actions() == 0
    # the next day the engineering action is overdue too: its own single reminder
    with later(21):
        assert remind_overdue_capa_actions() == 1
    assert AuditEntry.objects.filter(action="capa.action_overdue_reminded").count() == 2


def test_an_approved_extension_moves_the_due_date_and_clears_the_overdue_state(capa, people):
    drive, pid, case = capa
    with later(11):
        assert drive.do("production", pid, "do_action", {"outcome": "extension", "new_due_date": day(30),
                                                         "reason": "模具维修 tool repair"}) == 200
        assert drive.do("quality_mgr", pid, "decide_extension", {"approved": "yes"}) == 200
        action = CapaAction.objects.get(owner=people["production"])
        assert not action.overdue
        assert remind_overdue_capa_actions() == 0
