"""CA-7 / ISO 9001 9.3.2: the management-review input pack. Each figure equals what the database
says when it is compiled and stays frozen in the record version; the Quality manager signs, then the
General Manager; the review's decisions become actions in their owners' inboxes and appear, with
their status, in the next pack; bad input is refused with nothing saved; who may compile, sign and
read; the controlled PDF embeds its CJK font; the beat job compiles a pack once per period."""
import datetime
import shutil
import subprocess

import pytest
from api_driver import client_for
from django.conf import settings
from django.db.models import Count
from django.test import Client
from django.utils import timezone, translation
from flow_driver import act, open_tasks, start
from p2_support import FLOW as COMPLAINT_FLOW
from p2_support import intake
from p3_support import FLOW as CAPA_FLOW
from p3_support import raise_data
from viewflow.workflow.status import STATUS

from core.errors import InvalidInput, WrongState
from core.models import AuditEntry, Record, RecordFile, Signature
from procedures.capa.models import CapaAction, CapaCase, CapaStatus, EffectivenessCheck
from procedures.complaints.models import ComplaintCase
from procedures.documents.models import Acknowledgement, Document, RevisionStatus
from procedures.management_review import actions as mr
from procedures.management_review.flows import ManagementReviewFlow as FLOW
from procedures.management_review.models import ManagementReview, ReviewAction
from procedures.management_review.tasks import compile_scheduled_management_review
from procedures.requirements.models import CustomerRequirement

pytestmark = pytest.mark.django_db
API = "/api/management-reviews/"


def skip_rendering(monkeypatch):
    import forms.pdf

    monkeypatch.setattr(forms.pdf, "queue_render", lambda version: None)
    monkeypatch.setattr(FLOW.render_pack, "_func", lambda activation: None)


@pytest.fixture
def period():
    today = timezone.localdate()
    return today - datetime.timedelta(days=60), today


@pytest.fixture
def world(people, period, monkeypatch):
    """Complaints and returns inside and outside the period, and corrective actions in several states."""
    skip_rendering(monkeypatch)
    end_day = period[1]
    for index, (kind, defect, days_ago) in enumerate([("return", "appearance", 5), ("return", "appearance", 10),
                                                      ("complaint", "dimension", 20), ("both", "function", 30),
                                                      ("complaint", "appearance", 200)]):
        process = start(COMPLAINT_FLOW, "start", people["market"], intake(
            kind=kind, defect=defect, lot=f"L-MR-{index}",
            received_on=(end_day - datetime.timedelta(days=days_ago)).isoformat()))
        ComplaintCase.objects.filter(record__process=process).update(justified=index % 2 == 0,
                                                                     capa_required=index == 0)
    for _ in range(3):
        start(CAPA_FLOW, "start", people["quality"], raise_data())
    closed, old, audit_finding = CapaCase.objects.order_by("pk")[:3]
    CapaCase.objects.filter(pk=closed.pk).update(status=CapaStatus.CLOSED, closed_at=timezone.now())
    CapaCase.objects.filter(pk=old.pk).update(raised_at=timezone.now() - datetime.timedelta(days=400))
    CapaCase.objects.filter(pk=audit_finding.pk).update(source="audit_finding")
    CapaAction.objects.create(case=audit_finding, description="overdue", owner=people["production"],
                              due_date=end_day - datetime.timedelta(days=3),
                              original_due_date=end_day - datetime.timedelta(days=3))
    CapaAction.objects.create(case=audit_finding, description="not yet due", owner=people["production"],
                              due_date=end_day + datetime.timedelta(days=3),
                              original_due_date=end_day + datetime.timedelta(days=3))
    EffectivenessCheck.objects.create(case=old, round=1, verification_date=end_day, planned_by=people["quality_mgr"],
                                      effective=False, result="again", verified_by=people["quality"],
                                      verified_at=timezone.now())
    return people


def compile_pack(people, period, who="quality_mgr"):
    start_day, end_day = period
    process = start(FLOW, "start", people[who], {"period_start": start_day.isoformat(),
                                                 "period_end": end_day.isoformat()})
    return ManagementReview.objects.get(record__process=process)


def sign_both(people, review):
    process = review.record.process
    act(process, "sign_quality", people["quality_mgr"], {"comment": "ok"}, meaning="approved")
    act(process, "sign_management", people["gm"], {"comment": "agreed"}, meaning="approved")


def decide(people, review, owner="production_mgr", days=20):
    due = (timezone.localdate() + datetime.timedelta(days=days)).isoformat()
    act(review.record.process, "decide", people["quality_mgr"], {
        "conclusions": "体系有效 the QMS is effective",
        "actions": [{"description": "改进包装 improve packing", "owner": owner, "due_date": due}]})


# --- each figure equals a direct count -----------------------------------------------------------------------------


def test_each_pack_figure_equals_a_direct_database_count(world, period):
    start_day, end_day = period
    review = compile_pack(world, period)
    f = review.record.get_version().data["figures"]
    today = timezone.localdate()

    cases = ComplaintCase.objects.filter(received_on__range=(start_day, end_day))
    assert f["complaints"]["cases"] == cases.count() == 4
    assert {r["kind"]: r["count"] for r in f["complaints"]["by_kind"]} == {
        kind: cases.filter(kind=kind).count() for kind in ("complaint", "return", "both")}
    assert {r["defect"]: r["count"] for r in f["complaints"]["by_defect"]} == dict(
        cases.order_by().values_list("defect_category").annotate(n=Count("pk")))
    assert f["complaints"]["justified"] == cases.filter(justified=True).count()
    assert f["complaints"]["not_justified"] == cases.filter(justified=False).count()
    assert f["complaints"]["capa_requested"] == cases.filter(capa_required=True).count()

    capa = f["capa"]
    assert capa["open"] == CapaCase.objects.exclude(status=CapaStatus.CLOSED).count() == 2
    assert capa["raised"] == CapaCase.objects.filter(raised_at__date__range=(start_day, end_day)).count() == 2
    assert capa["closed"] == CapaCase.objects.filter(closed_at__date__range=(start_day, end_day)).count() == 1
    assert capa["overdue_actions"] == CapaAction.objects.filter(status="open", due_date__lt=today).exclude(
        case__status=CapaStatus.CLOSED).count() == 1
    assert capa["checks_not_effective"] == EffectivenessCheck.objects.filter(effective=False).count() == 1
    assert capa["checks_effective"] == 0
    assert f["audits"]["findings_raised"] == CapaCase.objects.filter(
        source="audit_finding", raised_at__date__range=(start_day, end_day)).count() == 1
    assert f["audits"]["held"] is False

    docs = f["documents"]
    assert docs["overdue_reviews"] == Document.objects.filter(
        revisions__status=RevisionStatus.EFFECTIVE, next_review_due__lt=today).distinct().count()
    assert docs["unacknowledged"] == Acknowledgement.objects.filter(
        acknowledged_at__isnull=True, revision__status=RevisionStatus.EFFECTIVE).count()

    assert f["requirements"]["registered"] == CustomerRequirement.objects.filter(
        created_at__date__range=(start_day, end_day)).exclude(status="duplicate").count()
    assert f["previous_actions"] == {"review": None, "actions": [], "open": 0, "done": 0, "overdue": 0}
    assert "<svg" in f["charts"]["complaints_by_kind"] and "<svg" in f["charts"]["capa_status"]


def test_the_compiled_version_is_frozen_later_data_changes_only_a_new_pack(world, period):
    review = compile_pack(world, period)
    frozen = review.record.get_version().data
    start(COMPLAINT_FLOW, "start", world["market"], intake(lot="L-LATE", received_on=period[1].isoformat()))
    review.refresh_from_db()
    assert review.record.get_version().data == frozen
    assert review.figures["complaints"]["cases"] == 4
    sign_both(world, review)  # later versions keep the compiled figures
    review.record.refresh_from_db()
    assert review.record.get_version().data["figures"] == frozen["figures"]
    assert compile_pack(world, period).figures["complaints"]["cases"] == 5


# --- signatures: the Quality manager, then the General Manager -------------------------------------------------------


def test_the_quality_manager_signs_first_then_the_general_manager(world, period):
    review = compile_pack(world, period)
    process = review.record.process
    assert open_tasks(process, "sign_management") == []  # nothing for the GM before the QM signed
    (task,) = open_tasks(process, "sign_quality")
    assert task.owner == world["quality_mgr"]
    assert not task.flow_task.can_assign(world["quality"], task)  # Quality staff may not sign
    act(process, "sign_quality", world["quality_mgr"], {"comment": "ok"}, meaning="approved")
    (gm_task,) = open_tasks(process, "sign_management")
    assert gm_task.owner == world["gm"]
    act(process, "sign_management", world["gm"], {"comment": "agreed"}, meaning="approved")
    signatures = list(Signature.objects.filter(record_version__record=review.record).order_by("signed_at", "pk"))
    assert [(s.signer_username, s.meaning, s.role) for s in signatures] == [
        ("quality_mgr", "approved", mr.QUALITY_MANAGER), ("gm", "approved", mr.GENERAL_MANAGER)]
    assert signatures[0].record_version.version < signatures[1].record_version.version
    assert AuditEntry.objects.filter(action="management_review.signed_by_general_manager").count() == 1
    review.refresh_from_db()
    assert review.status == "awaiting_decisions"


def test_the_general_manager_cannot_sign_before_the_quality_manager(world, period):
    review = compile_pack(world, period)
    with translation.override("en"), pytest.raises(WrongState, match="Quality manager's signature first"):
        mr.sign_as_general_manager(review, actor=world["gm"], data={}, sign=lambda *a, **k: None)
    review.refresh_from_db()
    assert review.gm_signed_by is None and review.status == "awaiting_qm"


# --- decisions: the owner's inbox and the next pack -------------------------------------------------------------------


def test_decisions_wait_in_the_owners_inbox_and_appear_in_the_next_pack(world, period):
    review = compile_pack(world, period)
    sign_both(world, review)
    decide(world, review)
    (task,) = open_tasks(review.record.process, "do_action")
    assert task.owner == world["production_mgr"] and task.status == STATUS.ASSIGNED
    action = ReviewAction.objects.get(review=review)
    # the owner's inbox (the same list the browser and /api/tasks/ show)
    inbox = client_for("production_mgr").get("/api/tasks/").json()["results"]
    assert any(t["process"] == review.record.process_id and t["step"] == "do_action" for t in inbox)

    second = compile_pack(world, period)
    previous = second.figures["previous_actions"]
    assert previous["review"] == review.record.number
    assert [(a["description"], a["owner"], a["status"]) for a in previous["actions"]] == [
        (action.description, world["production_mgr"].printed_name, "open")]

    act(review.record.process, "do_action", world["production_mgr"], {"note": "新隔板已验证 new separators validated"})
    action.refresh_from_db()
    assert action.status == "done"
    entry = AuditEntry.objects.get(action="management_review.action_done")
    assert entry.actor == world["production_mgr"] and entry.new_values["status"] == "done"
    review.refresh_from_db()
    assert review.status == "closed"
    assert second.record.get_version().data["figures"]["previous_actions"]["open"] == 1  # frozen
    third = compile_pack(world, period)
    assert third.figures["previous_actions"]["done"] == 1 and third.figures["previous_actions"]["open"] == 0


def test_only_the_owner_may_mark_the_action_done(world, period):
    review = compile_pack(world, period)
    sign_both(world, review)
    decide(world, review)
    (task,) = open_tasks(review.record.process, "do_action")
    assert not task.flow_task.can_execute(world["production"], task)
    assert task.flow_task.can_execute(world["production_mgr"], task)


# --- bad input: 400, nothing saved ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"period_start": "2026-06-30", "period_end": "2026-01-01"},  # ends before it starts
    {"period_start": "2026-01-01"},  # no end
    {"period_start": "2026-01-01", "period_end": "not a date"},
    {"period_start": "2026-01-01", "period_end": "2026-06-30", "extra": 1},  # a field the step does not take
])
def test_bad_input_is_refused_with_400_and_nothing_saved(world, body):
    records, entries = Record.objects.count(), AuditEntry.objects.count()
    response = client_for("quality_mgr").post(API, body, format="json")
    assert response.status_code == 400, response.content
    assert ManagementReview.objects.count() == 0 and Record.objects.count() == records
    assert AuditEntry.objects.filter(action__startswith="management_review").count() == 0
    assert AuditEntry.objects.count() >= entries


def test_decisions_with_a_past_due_date_are_refused_and_nothing_saved(world, period):
    review = compile_pack(world, period)
    sign_both(world, review)
    with pytest.raises(InvalidInput) as refused:
        decide(world, review, days=-1)
    assert "actions" in str(refused.value.field_errors)
    assert ReviewAction.objects.count() == 0
    review.refresh_from_db()
    assert review.status == "awaiting_decisions"


# --- role matrix --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username, expected", [
    ("quality_mgr", 201), ("quality", 403), ("market_mgr", 403), ("gm", 403), ("production", 403)])
def test_only_the_quality_manager_compiles(world, username, expected):
    response = client_for(username).post(API, {"period_start": "2026-01-01", "period_end": "2026-06-30"},
                                         format="json")
    assert response.status_code == expected, response.content
    assert ManagementReview.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("username, expected", [
    ("quality_mgr", 200), ("quality", 200), ("gm", 200), ("market", 403), ("production", 403), ("finance", 403)])
def test_quality_and_management_read_the_packs_others_do_not(world, period, username, expected):
    review = compile_pack(world, period)
    client = client_for(username)
    listing = client.get(API)
    assert listing.status_code == expected
    detail = client.get(f"{API}{review.record.number}/")
    assert detail.status_code == (200 if expected == 200 else 404)
    if expected == 200:
        assert listing.json()["count"] == 1 and listing.json()["results"][0]["number"] == review.record.number
        assert detail.json()["pack"]["figures"]["complaints"]["cases"] == 4
    web = Client()
    web.force_login(world[username])
    page = web.get(f"/qms/management_review/{review.record.number}/")
    assert page.status_code == (200 if expected == 200 else 403)
    listing_page = web.get("/qms/management_review/")
    assert listing_page.status_code == (200 if expected == 200 else 403)
    if expected == 200:
        html = page.content.decode()
        assert 'id="pack-content"' in html and "<svg" in html and "客诉与退货分析" in html
        assert review.record.number in listing_page.content.decode()
        assert ('id="compile-pack"' in listing_page.content.decode()) == (username == "quality_mgr")


def test_an_action_owner_outside_quality_sees_the_pack_naming_their_action(world, period):
    review = compile_pack(world, period)
    sign_both(world, review)
    decide(world, review, owner="production")
    client = client_for("production")
    assert [r["number"] for r in client.get(API).json()["results"]] == [review.record.number]


# --- the controlled PDF -------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils not installed")
def test_the_signed_pack_prints_as_a_pdf_with_its_cjk_font_embedded(people, period):
    review = compile_pack(people, period)
    sign_both(people, review)
    decide(people, review)
    review.record.refresh_from_db()
    version = review.record.get_version()
    pdf = RecordFile.objects.get(record_version=version, kind="pdf").file.path
    fonts = subprocess.run(["pdffonts", pdf], check=True, capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in row for row in fonts), fonts
    assert any("CJK" in row or "SC" in row for row in fonts), fonts
    text = subprocess.run(["pdftotext", pdf, "-"], check=True, capture_output=True, text=True).stdout
    assert "管理评审输入报告" in text and "QR-QA-005" in text and "No survey in the period" in text
    assert "Actions from the previous review" in text and "改进包装" in text


# --- the beat job ---------------------------------------------------------------------------------------------------------


def test_the_beat_job_compiles_the_previous_months_once(people, monkeypatch):
    skip_rendering(monkeypatch)
    entry = settings.CELERY_BEAT_SCHEDULE["management-review-pack"]
    assert entry["task"] == "procedures.management_review.tasks.compile_scheduled_management_review"
    number = compile_scheduled_management_review(today="2026-07-02", months=entry["kwargs"]["months"])
    review = ManagementReview.objects.get(record__number=number)
    assert (review.period_start, review.period_end, review.trigger) == (
        datetime.date(2026, 1, 1), datetime.date(2026, 6, 30), "scheduled")
    (task,) = open_tasks(review.record.process, "sign_quality")
    assert task.owner == people["quality_mgr"]
    assert compile_scheduled_management_review(today="2026-07-02", months=6) is None
    assert ManagementReview.objects.count() == 1

