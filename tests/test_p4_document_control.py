"""P4 — document control: lifecycle through two revisions with supersession on the
effective date, watermarks, acknowledgements, periodic review, forms governing
records, procedures governing processes, bad input."""
import datetime
import subprocess
import tempfile
from pathlib import Path

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import InvalidInput, WrongState
from core.models import AuditEntry, Signature
from inbox.models import Notification
from flow_driver import act, open_tasks, start
from p4_support import PROCEDURE_REVIEWERS, draft, fire_timers, issue, register, review_all
from procedures.documents import actions
from workflows import actions as engine
from procedures.documents.models import Document, Revision, RevisionStatus
from procedures.documents.tasks import open_periodic_reviews
from procedures.documents.flows import DocumentControlFlow

pytestmark = pytest.mark.django_db

def today(days=0):
    return timezone.localdate() + datetime.timedelta(days=days)


def pdf_text_of(body):
    path = Path(tempfile.mkdtemp()) / "copy.pdf"
    path.write_bytes(body)
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())


def download(client, document, revision):
    file = revision.files.get(kind="controlled")
    return client.get(f"/qms/documents/{document.number}/{revision.label}/files/{file.pk}/")


def test_a_procedure_goes_through_two_revisions_and_the_first_is_superseded_on_the_effective_date(people):
    process = register(people)
    issue(people, process, "第一版 A/0")
    fire_timers()
    document = Document.objects.get(number="QP-MK-01")
    first = document.effective_revision()
    assert first.label == "A/0" and first.status == RevisionStatus.EFFECTIVE

    change = start(DocumentControlFlow, "start", people["production"],
                   {"document": "QP-MK-01", "reason": "增加样品规则 add the sample rule"})
    issue(people, change, "第二版 A/1", effective_in_days=10)
    second = Revision.objects.get(document=document, label="A/1")
    assert second.status == RevisionStatus.APPROVED
    assert fire_timers() == 0, "not before its effective date"
    first.refresh_from_db()
    assert first.status == RevisionStatus.EFFECTIVE

    with time_machine.travel(timezone.now() + datetime.timedelta(days=10, hours=1), tick=False):
        assert fire_timers() == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == (RevisionStatus.SUPERSEDED, RevisionStatus.EFFECTIVE)
    assert document.effective_revision() == second

    # only the effective revision is offered for use; the superseded one stays retrievable, watermarked
    client = Client()
    client.force_login(people["warehouse"])
    listing = client.get("/qms/documents/").content.decode()
    assert "/qms/documents/QP-MK-01/A/1/files/" in listing and "/A/0/files/" not in listing
    old = download(client, document, first)
    assert old.status_code == 200
    text = pdf_text_of(old.content)
    assert "已被替代 SUPERSEDED" in text and "第一版 A/0" in text
    assert "UNCONTROLLED WHEN PRINTED" in text and "朱勇 Zhu Yong" in text
    current = pdf_text_of(download(client, document, second).content)
    assert "现行有效 EFFECTIVE" in current and "SUPERSEDED" not in current
    assert AuditEntry.objects.filter(action="document.downloaded", actor=people["warehouse"]).count() == 2
    api = APIClient()
    api.force_authenticate(people["warehouse"])
    listed = api.get("/api/documents/?status=effective").json()
    assert [(d["number"], d["effective_revision"]) for d in listed] == [("QP-MK-01", "A/1")]


def test_everyone_in_the_distribution_and_no_one_else_is_asked_to_acknowledge(people):
    process = register(people)  # distribution: market and quality
    issue(people, process, "A/0")
    fire_timers()
    tasks = open_tasks(process, "acknowledge")
    expected = {"market", "market2", "market_mgr", "quality", "quality_mgr"}
    assert {t.owner.username for t in tasks} == expected
    act(process, "acknowledge", people["quality"], {"confirm": True}, meaning="acknowledged")
    revision = Document.objects.get(number="QP-MK-01").effective_revision()
    matrix = {a.user.username: a.acknowledged_at is not None for a in actions.acknowledgement_matrix(revision)}
    assert matrix == {name: name == "quality" for name in expected}
    sig = Signature.objects.get(meaning="acknowledged")
    assert sig.printed_name == "王芳 Wang Fang"
    api = APIClient()
    api.force_authenticate(people["production"])
    rows = api.get(f"/api/documents/{revision.document_id}/").json()["acknowledgements"]
    assert {r["user"]: bool(r["acknowledged_at"]) for r in rows} == matrix
    for name in expected - {"quality"}:
        act(process, "acknowledge", people[name], {"confirm": True}, meaning="acknowledged")
    process.refresh_from_db()
    assert process.status == "DONE"


def test_overdue_acknowledgements_are_reminded_once_a_week(people, mailoutbox, django_capture_on_commit_callbacks):
    from procedures.documents.tasks import remind_overdue_acknowledgements

    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    assert remind_overdue_acknowledgements() == 0
    earlier = len(mailoutbox)  # the "new task" mails name the document too (their subject line)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=15), tick=False), \
            django_capture_on_commit_callbacks(execute=True):  # the mail goes after the commit
        assert remind_overdue_acknowledgements() == 5
        assert remind_overdue_acknowledgements() == 0
    reminders = [mail for mail in mailoutbox[earlier:] if "QP-MK-01" in mail.subject]
    assert len(reminders) == 5
    assert AuditEntry.objects.filter(action="document.acknowledgement_reminded").count() == 5
    in_app = Notification.objects.filter(kind="reminder", title__contains="QP-MK-01")
    assert in_app.count() == 5, "the reminder also reaches the inbox (one notification service)"


def test_the_periodic_review_opens_30_days_before_it_is_due_and_no_change_sets_the_next_date(
        people, credentials_kept_fresh):
    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    document = Document.objects.get(number="QP-MK-01")
    # DOC-8: the next periodic review is due the review interval (12 months) after the effective date
    assert document.review_interval_months == 12
    assert document.effective_revision().effective_date == today()
    assert document.next_review_due == today() + relativedelta(months=12)
    due = document.next_review_due
    with time_machine.travel(datetime.datetime.combine(due - datetime.timedelta(days=31), datetime.time(6),
                                                       tzinfo=timezone.get_current_timezone()), tick=False):
        assert open_periodic_reviews() == 0
    with time_machine.travel(datetime.datetime.combine(due - datetime.timedelta(days=30), datetime.time(6),
                                                       tzinfo=timezone.get_current_timezone()), tick=False):
        assert open_periodic_reviews() == 1
        assert open_periodic_reviews() == 0, "one review at a time"
        review_process = document.periodic_reviews.get().document and \
            DocumentControlFlow.process_class.objects.filter(data__periodic_review=document.periodic_reviews.get().pk).get()
        assert [t.owner_permission for t in open_tasks(review_process, "periodic_review")] == ["accounts.dept_market_staff"]
        act(review_process, "periodic_review", people["market"], {"outcome": "no_change", "comment": "仍适用 still adequate"},
            meaning="reviewed")
        document.refresh_from_db()
        assert document.next_review_due == timezone.localdate() + relativedelta(months=12)
    review_process.refresh_from_db()
    assert review_process.status == "DONE"
    assert document.effective_revision().label == "A/0"


def test_a_periodic_review_that_finds_a_change_opens_the_next_revision(people, credentials_kept_fresh):
    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    document = Document.objects.get(number="QP-MK-01")
    with time_machine.travel(datetime.datetime.combine(document.next_review_due - datetime.timedelta(days=10),
                                                       datetime.time(6), tzinfo=timezone.get_current_timezone()),
                             tick=False):
        open_periodic_reviews()
        review_process = DocumentControlFlow.process_class.objects.exclude(pk=process.pk).get()
        act(review_process, "periodic_review", people["market"], {"outcome": "change", "comment": "法规更新 new regulation"},
            meaning="reviewed")
        assert [t.flow_task.name for t in open_tasks(review_process, "edit")] == ["edit"]
        assert Revision.objects.get(document=document, label="A/1").status == RevisionStatus.DRAFT


def test_a_record_keeps_the_form_revision_it_was_made_under(people, order_data):
    from p1_driver import start as start_order

    form = register(people, number="QR-MK-001", doc_type="form", governs_record_type="order_review",
                    title_zh="订单评审记录表", title_en="Order Review Record Sheet")
    draft(form, people["market"], "表单 A/0")
    review_all(form, people, ["quality"])
    act(form, "approve", people["quality_mgr"], {"effective_date": today().isoformat()}, meaning="approved")
    fire_timers()
    before = start_order(people["market"], order_data(number="PO-FORM-1")).order_review.record
    assert (before.form_code, before.form_revision) == ("QR-MK-001", "A/0")

    change = start(DocumentControlFlow, "start", people["market"], {"document": "QR-MK-001", "reason": "加栏位 new column"})
    draft(change, people["market"], "表单 A/1")
    review_all(change, people, ["quality"])
    act(change, "approve", people["quality_mgr"], {"effective_date": today().isoformat()}, meaning="approved")
    fire_timers()
    after = start_order(people["market"], order_data(number="PO-FORM-2")).order_review.record
    before.refresh_from_db()
    assert before.form_revision == "A/0" and after.form_revision == "A/1"


def test_each_process_records_the_procedure_revision_it_runs_under(people, order_data):
    from p1_driver import start as start_order

    process = register(people, governs_flow="OrderReviewFlow")
    issue(people, process, "A/0")
    fire_timers()
    order = start_order(people["market"], order_data())
    assert order.procedure_revision.revision.label == "A/0"
    client = Client()
    client.force_login(people["quality"])
    page = client.get("/qms/documents/QP-MK-01/").content.decode()
    assert f"<td>{order.pk}</td>" in page and "/qms/flows/orderreview/chart/" in page


def test_the_processes_run_under_a_procedure_are_paged_with_their_total(people, order_data, monkeypatch):
    """Issue 15.2, nothing silently cut: the document page listed the newest 50 processes run under the procedure
    with no sign of the others (a plant runs thousands a year under its order review)."""
    from core import paging
    from p1_driver import start as start_order

    process = register(people, governs_flow="OrderReviewFlow")
    issue(people, process, "A/0")
    fire_timers()
    orders = [start_order(people["market"], order_data(number=f"PO-PAGED-{n}")) for n in range(3)]
    monkeypatch.setattr(paging, "PAGE_SIZE", 2)
    client = Client()
    client.force_login(people["quality"])
    first = client.get("/qms/documents/QP-MK-01/").content.decode()
    assert 'id="processes-total">3<' in first and 'href="?processes=2#processes"' in first
    assert [o.pk for o in orders if f"<td>{o.pk}</td>" in first] == [orders[1].pk, orders[2].pk]  # the newest two
    second = client.get("/qms/documents/QP-MK-01/?processes=2").content.decode()
    assert [o.pk for o in orders if f"<td>{o.pk}</td>" in second] == [orders[0].pk] and "2 / 2 (3)" in second


# --- bad input ----------------------------------------------------------------------------------------------

def test_a_second_change_while_one_is_open_is_refused(people):
    register(people)
    with pytest.raises(WrongState):
        start(DocumentControlFlow, "start", people["market"], {"document": "QP-MK-01", "reason": "again"})
    api = APIClient()
    api.force_authenticate(people["market"])
    document = Document.objects.get(number="QP-MK-01")
    response = api.post(f"/api/documents/{document.pk}/change-requests/", {"reason": "again"}, format="json")
    assert response.status_code == 409 and response.json()["current_state"] == "draft"
    assert document.revisions.count() == 1


def test_a_revision_cannot_take_effect_without_its_approval(people):
    process = register(people)
    draft(process, people["market"], "A/0")
    revision = Revision.objects.get()
    with pytest.raises(WrongState):
        actions.take_effect(revision)
    assert Revision.objects.get().status == RevisionStatus.IN_REVIEW


def test_an_effective_date_in_the_past_is_refused(people):
    process = register(people)
    with pytest.raises(InvalidInput) as error:
        draft(process, people["market"], "A/0", effective_in_days=-1)
    assert "effective_date" in error.value.field_errors
    draft(process, people["market"], "A/0")
    review_all(process, people, PROCEDURE_REVIEWERS)
    with pytest.raises(InvalidInput) as error:
        act(process, "approve", people["gm"], {"effective_date": today(-2).isoformat()}, meaning="approved")
    assert "effective_date" in error.value.field_errors
    assert Revision.objects.get().status == RevisionStatus.IN_REVIEW


@pytest.mark.parametrize("name, content, field", [
    ("procedure.docx", b"PK\x03\x04 docx", "pdf"),
    ("fake.pdf", b"<html>", "pdf"),
])
def test_an_upload_that_is_not_an_allowed_type_is_refused(people, name, content, field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    process = register(people)
    with pytest.raises(InvalidInput) as error:
        act(process, "edit", people["market"], {"outcome": "submit", "change_summary": "x",
                                                 "effective_date": today().isoformat()},
            files={"pdf": [SimpleUploadedFile(name, content)]}, meaning="authored")
    assert field in error.value.field_errors
    assert Revision.objects.get().files.count() == 0


def test_an_upload_over_the_size_limit_is_refused(people, settings):
    settings.QMS = {**settings.QMS, "MAX_UPLOAD_MB": 0}
    process = register(people)
    with pytest.raises(InvalidInput) as error:
        draft(process, people["market"], "A/0")
    assert "pdf" in error.value.field_errors


def test_the_author_cannot_approve_their_own_revision_and_rejection_returns_it_to_the_author(people):
    from accounts.models import Membership
    from core.errors import NotPermitted

    Membership.objects.create(user=people["market"], department="management", role="manager")
    process = register(people)
    draft(process, people["market"], "A/0")
    review_all(process, people, PROCEDURE_REVIEWERS)
    task = open_tasks(process, "approve")[0]
    with pytest.raises(NotPermitted):
        engine.claim_task(task, actor=people["market"])
    task.refresh_from_db()
    assert task.owner_id is None, "the author's claim was refused"
    act(process, "approve", people["gm"], {"effective_date": today().isoformat()}, meaning="rejected",
        reason="范围不清 scope unclear")
    assert Revision.objects.get().status == RevisionStatus.DRAFT
    # back to the author: the edit step is open again in the owner department's queue (Market, the author's)
    [edit] = open_tasks(process, "edit")
    assert edit.owner_permission == "accounts.dept_market_staff" and edit.owner_id is None
    assert edit.flow_task.can_assign(people["market"], edit)
    rejection = Signature.objects.get(meaning="rejected")
    assert rejection.signer_id == people["gm"].pk and rejection.reason == "范围不清 scope unclear"


def test_a_department_asking_for_changes_sends_the_draft_back(people):
    process = register(people)
    draft(process, people["market"], "A/0")
    act(process, "review", people["quality"], {"accepted": "no", "comment": "缺少记录清单 records list missing"},
        meaning="reviewed")
    act(process, "review", people["market"], {"accepted": "yes"}, meaning="reviewed")
    act(process, "review", people["production"], {"accepted": "yes"}, meaning="reviewed")
    assert [t.flow_task.name for t in open_tasks(process, "edit")] == ["edit"]
    assert not open_tasks(process, "approve")
    draft(process, people["market"], "A/0 fixed")
    assert len(open_tasks(process, "review")) == 3, "a new review round"


def test_the_quality_manager_edits_the_approval_matrix_and_the_change_is_audited(people):
    client = Client()
    client.force_login(people["quality"])
    from procedures.documents.models import ApprovalRule

    rule = ApprovalRule.objects.get(document_type="form")
    body = {"rule": rule.pk, f"r{rule.pk}-reviewing_departments": ["quality", "production"],
            f"r{rule.pk}-approver_department": "quality", f"r{rule.pk}-approver_role": "manager",
            f"r{rule.pk}-reason": "生产参与表单评审 production reviews forms"}
    assert client.post("/qms/documents/rules/approval-matrix/", body).status_code == 403
    client.force_login(people["quality_mgr"])
    assert client.post("/qms/documents/rules/approval-matrix/", body).status_code == 302
    rule.refresh_from_db()
    assert rule.reviewing_departments == ["production", "quality"]
    entry = AuditEntry.objects.get(action="document.approval_rule_changed")
    assert entry.old_values["reviewing_departments"] == ["quality"] and entry.reason.startswith("生产")
    # enforced by the flow: a new form is now reviewed by production too
    process = register(people, number="QR-TEST-1", doc_type="form")
    draft(process, people["market"], "A/0")
    assert sorted(t.data["department"] for t in open_tasks(process, "review")) == ["production", "quality"]


def test_a_withdrawn_document_becomes_obsolete_and_stays_retrievable_marked(people):
    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    withdraw = start(DocumentControlFlow, "start", people["market"],
                     {"document": "QP-MK-01", "withdrawal": True, "reason": "并入 QP-MK-02 merged"})
    act(withdraw, "edit", people["market"], {"outcome": "submit", "change_summary": "作废 withdrawn",
                                              "effective_date": today().isoformat()}, meaning="authored")
    review_all(withdraw, people, PROCEDURE_REVIEWERS)
    act(withdraw, "approve", people["gm"], {"effective_date": today().isoformat()}, meaning="approved")
    fire_timers()
    document = Document.objects.get(number="QP-MK-01")
    assert document.effective_revision() is None
    first = document.revisions.get(label="A/0")
    assert first.status == RevisionStatus.OBSOLETE
    client = Client()
    client.force_login(people["production"])
    assert "已作废 OBSOLETE" in pdf_text_of(download(client, document, first).content)


def test_the_document_list_costs_the_same_number_of_queries_for_3_and_30_documents(people, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(people["quality"])

    def make(n, start_at):
        for i in range(start_at, start_at + n):
            process = register(people, number=f"WI-{i:03d}", doc_type="work_instruction")
            draft(process, people["market"], f"WI {i}")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/qms/documents/").status_code == 200
        return len(ctx.captured_queries)

    make(3, 0)
    few = count()
    make(27, 3)
    many = count()
    assert few == many, (few, many)


def test_seed_demo_issues_the_source_procedures_and_their_forms_in_force(db, capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    numbers = set(Document.objects.filter(revisions__status="effective").values_list("number", flat=True))
    assert {"QP-MK-01", "QP-QA-04", "QP-QA-05", "QP-QA-01", "QR-MK-001", "QR-MK-002", "QR-MC-001"} <= numbers
    from procedures.order_review.models import OrderReview

    record = OrderReview.objects.order_by("pk").first().record
    assert (record.form_code, record.form_revision) == ("QR-MK-001", "A/0")
    assert record.process.procedure_revision.revision.document.number == "QP-MK-01"
    documents = sorted(Document.objects.values_list("number", flat=True))
    revisions = Revision.objects.count()
    call_command("seed_demo")  # idempotent: nothing issued twice
    assert sorted(Document.objects.values_list("number", flat=True)) == documents
    assert Revision.objects.count() == revisions
    assert set(Document.objects.filter(revisions__status="effective").values_list("number", flat=True)) == numbers


def test_a_change_raised_by_another_record_is_linked_both_ways(people, order_data):
    from core.models import Record
    from p1_driver import start as start_order

    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    source = start_order(people["market"], order_data()).order_review.record  # stands in for a CAPA report
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        revision = DocumentControlFlow.start_raised.run(document=Document.objects.get(number="QP-MK-01"),
                                                        actor=people["quality_mgr"], reason="8D D7: 增加检验步骤",
                                                        source_record=source)
    assert revision.raised_from == source
    assert list(Record.objects.get(pk=source.pk).document_changes_raised.all()) == [revision]
    revision.record.refresh_from_db()
    assert revision.record.get_version().data["raised_from"] == source.number
    change_process = revision.process
    assert [t.flow_task.name for t in open_tasks(change_process, "edit")] == ["edit"]
    assert AuditEntry.objects.filter(action="document.change_raised_from", record=source).exists()


def test_every_document_control_step_page_opens_in_the_browser(people):
    """Each human step of P4 renders its form page for the person who does it."""
    from viewflow.workflow.status import STATUS


    def page_of(process, step, user):
        task = open_tasks(process, step)[0] if step != "acknowledge" else next(
            t for t in open_tasks(process, step) if t.owner_id == user.pk)
        if task.status == STATUS.NEW:
            engine.claim_task(task, actor=user)
        client = Client()
        client.force_login(user)
        response = client.get(f"/qms/flows/documentcontrol/{process.pk}/{step}/{task.pk}/execute/")
        assert response.status_code == 200, (step, response.content[:300])
        assert "QP-MK-01" in response.content.decode()

    process = register(people)
    page_of(process, "edit", people["market"])
    draft(process, people["market"], "A/0")
    page_of(process, "review", people["quality"])
    review_all(process, people, PROCEDURE_REVIEWERS)
    page_of(process, "approve", people["gm"])
    act(process, "approve", people["gm"], {"effective_date": today().isoformat()}, meaning="approved")
    fire_timers()
    page_of(process, "acknowledge", people["quality"])


def test_the_quality_manager_sets_a_group_rule_on_the_matrix_page_and_all_distribution_managers_must_approve(people):
    """DOC-4 with a quorum: a procedure approved by the managers of every department in
    its distribution (all of them); the page shows the rule; a rejection by one of them
    returns the draft to its author and cancels the other seat."""
    from procedures.documents.models import ApprovalRule

    rule = ApprovalRule.objects.get(document_type="procedure")
    client = Client()
    client.force_login(people["quality_mgr"])
    body = {"rule": rule.pk, f"r{rule.pk}-reviewing_departments": PROCEDURE_REVIEWERS,
            f"r{rule.pk}-approver_department": "management", f"r{rule.pk}-approver_role": "manager",
            f"r{rule.pk}-approver_group": "distribution_managers", f"r{rule.pk}-approvals_needed": "",
            f"r{rule.pk}-rejection_ends": "on", f"r{rule.pk}-reason": "分发部门经理会签 distribution managers co-sign"}
    assert client.post("/qms/documents/rules/approval-matrix/", body).status_code == 302
    rule.refresh_from_db()
    assert (rule.approver_group, rule.approvals_needed, rule.rejection_ends) == ("distribution_managers", None, True)
    page = client.get("/qms/documents/rules/approval-matrix/").content.decode()
    assert rule.quorum_summary() in page.replace("&#x27;", "'")
    entry = AuditEntry.objects.get(action="document.approval_rule_changed")
    assert entry.old_values["approver_group"] == "role" and entry.new_values["approver_group"] == "distribution_managers"
    bad = {**body, f"r{rule.pk}-approvals_needed": "0"}
    assert client.post("/qms/documents/rules/approval-matrix/", bad).status_code == 200  # the form shows the error

    process = register(people)  # distribution: market and quality
    draft(process, people["market"], "A/0")
    review_all(process, people, PROCEDURE_REVIEWERS)
    assert sorted(t.owner.username for t in open_tasks(process, "approve")) == ["market_mgr", "quality_mgr"]
    act(process, "approve", people["quality_mgr"], {"effective_date": today().isoformat()}, meaning="rejected",
        reason="缺少流程图 flowchart missing")
    assert Revision.objects.get().status == RevisionStatus.DRAFT
    assert open_tasks(process, "approve") == [] and [t.flow_task.name for t in open_tasks(process, "edit")] == ["edit"]
    draft(process, people["market"], "A/0 with flowchart")
    review_all(process, people, PROCEDURE_REVIEWERS)
    for name in ["market_mgr", "quality_mgr"]:
        act(process, "approve", people[name], {"effective_date": today().isoformat()}, meaning="approved")
    revision = Revision.objects.get()
    assert revision.status == RevisionStatus.APPROVED
    assert [(a.round, a.approver.username, a.approved) for a in revision.approvals.order_by("round", "pk")] == [
        (1, "quality_mgr", False), (2, "market_mgr", True), (2, "quality_mgr", True)]
