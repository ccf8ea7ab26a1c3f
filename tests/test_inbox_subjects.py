"""Issue 13 item 1, "Inbox rows name their subject": every task row says what the task is about
(the subject its procedure makes: record number, customer, products; CAPA number and problem; the
document, its title and revision), with the step, due date, days overdue, age and owner in one
column order everywhere (inbox, queue, dashboard, team tasks, the API); one click from a queue row
to the form (claim and open), a release button on the form; notifications and e-mails name the
subject and the queue by its department, never a permission code; the lists cost the same number
of queries whatever the number of rows."""
import datetime
import io
import re
import zoneinfo
from unittest.mock import patch

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from viewflow.workflow.status import STATUS

from api_driver import client_for
from core.models import AuditEntry
from flow_driver import act, open_tasks, start
from inbox import escalation
from inbox.models import Notification
from p1_driver import start as start_order
from p2_support import FLOW as COMPLAINTS, intake
from p3_support import FLOW as CAPA, describe_data, raise_data
from p4_support import register
from procedures.order_review.flows import OrderReviewFlow
from workflows import actions

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
COLUMNS_EN = ["Subject", "Step", "Due", "Days overdue", "Age", "Owner"]


def web(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def table(html, table_id):
    start_at = html.index(f'id="{table_id}"')
    return html[start_at:html.index("</table>", start_at)]


def headers(html, table_id):
    """The visible column headers of a task table, tags stripped ('Due ▲' → 'Due')."""
    cells = re.findall(r"<th[^>]*>(.*?)</th>", table(html, table_id), re.S)
    cells = [re.sub(r'<span class="qms-sr">.*?</span>', "", cell) for cell in cells]  # the action column
    texts = [re.sub(r"<[^>]+>", "", cell).replace("▲", "").replace("▼", "").strip() for cell in cells]
    return [text for text in texts if text]


def row_of(html, table_id, task):
    part = table(html, table_id)
    start_at = part.index(f'id="{table_id}-task-{task.pk}"')
    return part[start_at:part.index("</tr>", start_at)]


@pytest.fixture
def four(people, order_data):
    """One open task of each procedure: P1 quality review, P2 inspection and P3 D0–D2 in the
    Quality queue; the P4 draft of a new document in the Market queue."""
    order = start_order(people["market"], order_data(number="PO-SUBJ-1"))
    complaint = start(COMPLAINTS, "start", people["market"], intake())
    capa = start(CAPA, "start", people["quality_mgr"], raise_data())
    document = register(people, number="QP-MK-01")
    return {
        "order": open_tasks(order, "review_quality")[0], "complaint": open_tasks(complaint, "inspect")[0],
        "capa": open_tasks(capa, "describe")[0], "document": open_tasks(document, "edit")[0],
    }


def record_number(task):
    from core.models import Record

    return Record.objects.filter(process_id=task.process_id).order_by("pk").values_list("number", flat=True).first()


# --- the subject each procedure makes ------------------------------------------------------------------


def test_each_procedure_names_its_subject_in_the_lists_in_the_readers_language(people, four):
    order, complaint, capa = (record_number(four[k]) for k in ("order", "complaint", "capa"))
    english = page(web(people["quality"]), "/qms/queue/")
    assert f"{order} · East China Electronics Co., Ltd. · P-1001 Precision bearing housing ×500, P-1002 ×300" in english
    assert f"{complaint} · East China Electronics Co., Ltd. · P-1001 Precision bearing housing" in english
    assert f"{capa} · 端面划伤 scratches on the end face" in english
    chinese = page(web(people["quality"], "zh-hans"), "/qms/queue/")
    assert f"{order} · 华东电子科技有限公司 · P-1001 精密轴承座 ×500, P-1002 ×300" in chinese
    assert f"{complaint} · 华东电子科技有限公司 · P-1001 精密轴承座" in chinese
    assert "East China" not in chinese
    # P4: the document number, its title and the revision (not the approval record's number)
    market = page(web(people["market"]), "/qms/queue/")
    assert re.search(r"QP-MK-01 Customer Requirements Management Procedure · rev\. [A-Z0-9/]+<", market)
    assert "QP-MK-01 客户需求管理程序" in page(web(people["market"], "zh-hans"), "/qms/queue/")


def test_the_api_rows_carry_subject_age_and_days_overdue(people, four):
    api = client_for("quality")
    rows = {row["step"]: row for row in api.get("/api/tasks/?queue=1", HTTP_ACCEPT_LANGUAGE="en").json()["results"]}
    assert set(rows) == {"review_quality", "inspect", "describe"}
    assert rows["review_quality"]["subject"].startswith(f"{record_number(four['order'])} · East China Electronics")
    assert rows["describe"]["subject"] == f"{record_number(four['capa'])} · 端面划伤 scratches on the end face"
    assert all(row["age"] == 0 and row["days_overdue"] == 0 for row in rows.values())
    assert rows["inspect"]["queue_label"] == "Quality" and rows["inspect"]["queue"] == "accounts.dept_quality_staff"
    detail = api.get(f"/api/tasks/{four['capa'].pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert detail["subject"] == rows["describe"]["subject"]
    dashboard = api.get("/api/dashboard/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert {row["subject"] for row in dashboard["my_queues"]} == {row["subject"] for row in rows.values()}
    # ten days later the review (due after 3 working days by default) is overdue by whole days
    with time_machine.travel(datetime.datetime.now(TZ) + datetime.timedelta(days=10), tick=False):
        api = client_for("quality")
        row = next(r for r in api.get("/api/tasks/?queue=1").json()["results"] if r["step"] == "review_quality")
        due = datetime.date.fromisoformat(row["due"])
        assert row["age"] == 10 and row["overdue"] is True
        assert row["days_overdue"] == (datetime.datetime.now(TZ).date() - due).days > 0


def test_the_subject_hook_is_the_procedures_and_a_process_without_one_is_named_by_its_number(people, four):
    process = four["order"].process
    assert OrderReviewFlow.subject(process).startswith(record_number(four["order"]))
    from inbox.rows import fallback_subject, process_subjects

    assert fallback_subject(process) == f"{OrderReviewFlow.process_title} #{process.pk}"
    process.artifact_object_id = None  # e.g. before the start step stored its record
    with translation.override("en"):
        assert process_subjects([process]) == {process.pk: f"Order / contract review #{process.pk}"}


# --- one column order everywhere -----------------------------------------------------------------------


def test_inbox_queue_dashboard_and_team_tasks_show_the_same_columns_in_the_same_order(people, four):
    actions.claim_task(four["complaint"], actor=people["quality"])
    quality = web(people["quality"])
    inbox, queue = page(quality, "/qms/inbox/"), page(quality, "/qms/queue/")
    dashboard = page(quality, "/qms/dashboard/")
    team = page(web(people["quality_mgr"]), "/qms/delegations/tasks/")
    assert headers(inbox, "inbox-tasks") == COLUMNS_EN
    assert headers(queue, "queue-tasks") == COLUMNS_EN
    for table_id in ("overdue", "my-tasks", "my-queues"):
        assert headers(dashboard, table_id) == COLUMNS_EN, table_id
    assert headers(team, "team-tasks") == COLUMNS_EN
    # every cell says which column it is in (a narrow screen shows each row as a labelled card)
    row = row_of(inbox, "inbox-tasks", four["complaint"])
    assert re.findall(r'<td data-label="([^"]+)"', row) == [*COLUMNS_EN, "Action"]
    with translation.override("zh-hans"):
        chinese = [translation.gettext(column) for column in COLUMNS_EN + ["Action"]]
    chinese_queue = page(web(people["quality"], "zh-hans"), "/qms/queue/")
    assert headers(chinese_queue, "queue-tasks") == chinese[:-1]
    # the column names are translated once per table (templates/inbox/_task_rows.html) and label every row
    assert re.findall(r'<td data-label="([^"]+)"', row_of(chinese_queue, "queue-tasks", four["order"])) == chinese
    # the owner column names a person, or the queue by its department: never a permission code
    assert "王芳 Wang Fang" in row
    assert "Queue: Quality" in row_of(queue, "queue-tasks", four["order"])
    for html in (inbox, queue, dashboard, team):
        assert "accounts.dept_" not in html


# --- one click from the queue to the form, and back ------------------------------------------------------


def test_claim_and_open_claims_in_one_post_and_lands_on_the_filled_in_form(people, four):
    task = four["order"]
    quality = web(people["quality"])
    queue = page(quality, "/qms/queue/")
    claim_url = f"/qms/dashboard/task/{task.pk}/claim/"
    assert f'action="{claim_url}"' in row_of(queue, "queue-tasks", task)
    assert quality.get(claim_url).status_code == 405  # a link cannot claim: POST only
    response = quality.post(claim_url)
    assert response.status_code == 302
    assert response["Location"] == f"/qms/flows/orderreview/{task.process_id}/review_quality/{task.pk}/execute/"
    task.refresh_from_db()
    assert (task.owner, task.status) == (people["quality"], STATUS.ASSIGNED)
    assert AuditEntry.objects.filter(action="task.assigned", object_id=str(task.pk), actor=people["quality"]).exists()
    form = page(quality, response["Location"])
    assert 'class="qms-form"' in form and 'name="verdict"' in form
    assert f'id="inbox-tasks-task-{task.pk}"' in page(quality, "/qms/inbox/")
    assert f'id="queue-tasks-task-{task.pk}"' not in page(quality, "/qms/queue/")


def test_claim_and_open_needs_the_csrf_token(people, four):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people["quality"])
    assert client.post(f"/qms/dashboard/task/{four['order'].pk}/claim/").status_code == 403
    four["order"].refresh_from_db()
    assert four["order"].owner_id is None


def test_the_claim_button_carries_the_pages_own_csrf_token(people, four):
    """The task table (inbox/table.py) puts the page's CSRF token in each claim form: posting the form as the page
    drew it claims the task."""
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people["quality"])
    row = row_of(page(client, "/qms/queue/"), "queue-tasks", four["order"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', row).group(1)
    assert client.post(f"/qms/dashboard/task/{four['order'].pk}/claim/",
                       {"csrfmiddlewaretoken": token}).status_code == 302
    four["order"].refresh_from_db()
    assert four["order"].owner == people["quality"]


def test_the_task_table_escapes_what_a_row_prints(people, four):
    from inbox.rows import attach_subjects
    from inbox.table import task_table
    from viewflow.workflow.models import Task

    task = attach_subjects([Task.objects.select_related("process", "deadline", "owner").get(pk=four["order"].pk)])[0]
    task.subject = '<script>alert("x")</script>'
    html = task_table([task], table_id='t"><b', empty="<i>none</i>")
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'id="t&quot;&gt;&lt;b"' in html
    assert "&lt;i&gt;none&lt;/i&gt;" in task_table([], table_id="t", empty="<i>none</i>")


def test_who_may_not_claim_is_told_why_and_nothing_changes(people, four):
    task = four["order"]
    refused = web(people["production"]).post(f"/qms/dashboard/task/{task.pk}/claim/")  # not their queue
    assert refused.status_code == 403
    assert "This task is not in one of your queues." in refused.content.decode()
    task.refresh_from_db()
    assert (task.owner_id, task.status) == (None, STATUS.NEW)
    assert not AuditEntry.objects.filter(action="task.assigned", object_id=str(task.pk)).exists()
    actions.claim_task(task, actor=people["quality_mgr"])  # a manager holds the staff queue too
    late = web(people["quality"]).post(f"/qms/dashboard/task/{task.pk}/claim/")  # someone was quicker
    assert late.status_code == 409 and 'id="refusal"' in late.content.decode()
    task.refresh_from_db()
    assert task.owner == people["quality_mgr"]


def test_the_owner_releases_the_task_from_its_form(people, four):
    task = four["complaint"]
    quality = web(people["quality"])
    form_url = quality.post(f"/qms/dashboard/task/{task.pk}/claim/")["Location"]
    form = page(quality, form_url)
    release_url = f"/qms/dashboard/task/{task.pk}/release/"
    assert f'action="{release_url}"' in form and 'id="release"' in form
    assert "Release to the queue: Quality" in form
    assert form.index('id="release-form"') < form.index('class="qms-form"')  # near the top, outside the form
    assert web(people["quality_mgr"]).post(release_url).status_code == 403  # not theirs
    task.refresh_from_db()
    assert task.owner == people["quality"]
    response = quality.post(release_url, follow=True)
    assert response.redirect_chain[-1][0] == "/qms/inbox/"
    assert "back in the queue of Quality" in response.content.decode()
    task.refresh_from_db()
    assert (task.owner_id, task.status) == (None, STATUS.NEW)


def test_a_task_bound_to_its_owner_offers_no_release(people, four):
    capa = four["capa"].process
    act(capa, "describe", people["quality"], describe_data())
    (contain,) = open_tasks(capa, "contain")  # the team leader's, personally
    assert contain.owner == people["engineering"]
    escalation.load_urls()
    form = page(web(people["engineering"]), contain.flow_task.reverse("execute", args=[capa.pk, contain.pk]))
    assert 'id="release"' not in form
    refused = web(people["engineering"]).post(f"/qms/dashboard/task/{contain.pk}/release/")
    assert refused.status_code == 409
    contain.refresh_from_db()
    assert contain.owner == people["engineering"]


# --- notifications and e-mails -----------------------------------------------------------------------------


def test_reminders_escalations_and_assignments_name_the_subject_and_no_permission_code(people, order_data):
    english = people["quality_mgr"]
    english.preferred_language = "en"
    english.save(update_fields=["preferred_language"])
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=TZ), tick=False):
        process = start_order(people["market"], order_data(number="PO-MAIL-1"))
    number = record_number(open_tasks(process, "review_quality")[0])
    mail.outbox.clear()
    with time_machine.travel(datetime.datetime(2026, 11, 27, 1, tzinfo=TZ), tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):
            escalation.send_reminders_and_escalations()  # level 1 to the Quality queue: quality, quality_mgr
    [chinese] = [m for m in mail.outbox if people["quality"].email in m.to and "订单/合同评审" in m.subject]
    [in_english] = [m for m in mail.outbox if english.email in m.to and "Order / contract review" in m.subject]
    assert f"{number} · 华东电子科技有限公司 · P-1001 精密轴承座 ×500" in chinese.subject
    assert f"{number} · East China Electronics Co., Ltd. · P-1001 Precision bearing housing ×500" in in_english.subject
    assert "品质部" in chinese.body and "Queue: Quality" in in_english.body  # who has it: the queue, named
    for message in mail.outbox:
        assert "accounts.dept_" not in message.subject + message.body
    note = Notification.objects.get(recipient=english, kind="escalation")
    assert note.title == in_english.subject and number in note.body
    assert number in page(web(english), "/qms/notifications/")


def test_a_task_the_flow_assigns_names_its_subject_in_the_notification(people, four):
    task = four["capa"]
    act(task.process, "describe", people["quality"], describe_data())  # D3 goes to the leader by name
    note = Notification.objects.get(recipient=people["engineering"], kind="assigned")
    assert f"{record_number(task)} · 端面划伤 scratches on the end face" in note.title
    assert f"#{task.process_id}" not in note.title  # the subject, not the bare process number


# --- query counts --------------------------------------------------------------------------------------------


def _grow(people, order_data, batch, count):
    """`count` more tasks of each of P1 (half of them claimed by `quality`), P2 (claimed) and P3
    (in the queue)."""
    for i in range(count):
        process = start_order(people["market"], order_data(number=f"PO-QC-{batch}-{i:03d}"))
        if i % 2:
            actions.claim_task(open_tasks(process, "review_quality")[0], actor=people["quality"])
        process = start(COMPLAINTS, "start", people["market"], intake())
        actions.claim_task(open_tasks(process, "inspect")[0], actor=people["quality"])
        start(CAPA, "start", people["quality_mgr"], raise_data())


def test_inbox_queue_and_dashboard_cost_the_same_queries_with_2_and_12_tasks_per_procedure(
        people, order_data, django_assert_num_queries):
    quality = web(people["quality"])
    api = client_for("quality")
    pages = {"inbox": lambda: quality.get("/qms/inbox/"), "queue": lambda: quality.get("/qms/queue/"),
             "dashboard": lambda: quality.get("/qms/dashboard/"),
             "api inbox": lambda: api.get("/api/tasks/"), "api queue": lambda: api.get("/api/tasks/?queue=1")}
    _grow(people, order_data, "a", 2)
    for load in pages.values():
        load()  # warm the caches (content types, permissions)
    small = {}
    for name, load in pages.items():
        with CaptureQueriesContext(connection) as queries:
            assert load().status_code == 200
        small[name] = len(queries)
    _grow(people, order_data, "b", 10)
    html = quality.get("/qms/queue/").content.decode()
    assert html.count('class="qms-subject"') == 18  # 6 reviews and 12 CAPAs wait in the queue
    for name, load in pages.items():
        with django_assert_num_queries(small[name]):
            assert load().status_code == 200, name


def test_the_dashboard_asks_each_procedure_for_its_subjects_once(people, monkeypatch):
    """The tasks of the dashboard's lists and the processes I started are named in one call of each flow's
    `subjects()` (inbox.rows.attach_subjects), not one for the tasks and another for the processes."""
    from procedures.capa.flows import CapaFlow

    start(CAPA, "start", people["quality_mgr"], raise_data())  # a process I started, its first step in my queue
    calls = []
    original = CapaFlow.subjects.__func__

    def counted(cls, processes):
        made = original(cls, processes)
        calls.append(made)
        return made

    monkeypatch.setattr(CapaFlow, "subjects", classmethod(counted))
    body = page(web(people["quality_mgr"]), "/qms/dashboard/")
    assert len(calls) == 1, calls
    (subject,) = calls[0].values()
    subject = subject.replace("&", "&amp;")
    assert subject in table(body, "started") and subject in table(body, "my-queues")


def test_every_procedure_s_subjects_read_only_what_they_print_and_no_query_per_row(db):
    """Each procedure's subjects() reads only the columns it prints (workflows.models.artifacts_of's `only`):
    the subjects are the very ones whole rows give, and the demo's processes of a procedure, however many,
    are named in at most three queries (a column left out of `only` would be read again, a query per row)."""
    from django.db.models import QuerySet
    from viewflow.workflow.models import Process

    from core.registry import flows

    call_command("seed_demo", stdout=io.StringIO())
    checked = {}
    for flow_class in flows():
        processes = list(Process.objects.filter(flow_class=flow_class).order_by("pk"))
        if not processes or not hasattr(flow_class, "subjects"):
            continue
        with CaptureQueriesContext(connection) as queries:
            made = flow_class.subjects(processes)
        with patch.object(QuerySet, "only", lambda self, *fields: self):  # whole rows
            whole = flow_class.subjects(processes)
        assert made == whole, flow_class.__name__
        assert len(queries) <= 3, (flow_class.__name__, len(processes), [q["sql"][:120] for q in queries])
        assert all(made.get(process.pk) for process in processes if process.artifact_object_id), flow_class.__name__
        checked[flow_class.__name__] = len(processes)
    assert {"OrderReviewFlow", "ComplaintFlow", "CapaFlow", "DocumentControlFlow", "RequirementFlow",
            "RequirementChangeFlow"} <= set(checked), checked
