"""Every P4 URL and API endpoint × every role → allowed or refused."""
import pytest

from accounts.models import User
from flow_driver import act
from p4_support import draft, fire_timers, register, review_all
from procedures.documents.models import Document, Revision
from test_role_matrix import MEMBERS, api_client, check, web_client

pytestmark = pytest.mark.django_db

LOGIN = 302
QUALITY = {"quality": 200, "quality_mgr": 200}


@pytest.fixture
def docs(people):
    import datetime

    User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
    process = register(people)
    draft(process, people["market"], "A/0")
    review_all(process, people, ["quality", "market", "production"])
    act(process, "approve", people["gm"], {"effective_date": datetime.date.today().isoformat()}, meaning="approved")
    fire_timers()
    in_review = register(people, number="WI-PR-001", doc_type="work_instruction")
    draft(in_review, people["market"], "draft")
    effective = Revision.objects.get(document__number="QP-MK-01")
    pending = Revision.objects.get(document__number="WI-PR-001")
    return {"doc": effective.document, "effective": effective, "effective_file": effective.files.get(),
            "pending": pending, "pending_file": pending.files.get()}


ALL = {role: 200 for role in MEMBERS}


def test_web_document_pages_for_members(docs):
    for url in ["/qms/documents/", f"/qms/documents/{docs['doc'].number}/", "/qms/documents/rules/approval-matrix/",
                "/qms/inbox/", "/qms/queue/", "/qms/flows/documentcontrol/",
                "/qms/flows/documentcontrol/start/"]:
        check(web_client, lambda c: c.get(url), {**ALL, "*": 403, "anonymous": LOGIN})


def test_web_only_quality_registers_new_documents(docs):
    check(web_client, lambda c: c.get("/qms/flows/documentcontrol/start_new/"), {**QUALITY, "*": 403, "anonymous": LOGIN})


def test_web_released_copies_for_members_drafts_for_the_people_involved(docs):
    effective = f"/qms/documents/QP-MK-01/A/0/files/{docs['effective_file'].pk}/"
    check(web_client, lambda c: c.get(effective), {**ALL, "*": 404, "outsider": 403, "anonymous": LOGIN})
    pending = f"/qms/documents/WI-PR-001/A/0/files/{docs['pending_file'].pk}/"
    # work instructions: owner market, reviewed by quality and production, approved by the Quality manager
    involved = {"market": 200, "market_mgr": 200, "quality": 200, "quality_mgr": 200, "production": 200}
    check(web_client, lambda c: c.get(pending), {**involved, "*": 404, "outsider": 403, "anonymous": LOGIN})


def test_web_only_the_quality_manager_changes_the_approval_matrix(docs):
    from procedures.documents.models import ApprovalRule

    rule = ApprovalRule.objects.get(document_type="form")
    body = {"rule": rule.pk, f"r{rule.pk}-reviewing_departments": ["quality"],
            f"r{rule.pk}-approver_department": "quality", f"r{rule.pk}-approver_role": "manager",
            f"r{rule.pk}-reason": "x"}
    check(web_client, lambda c: c.post("/qms/documents/rules/approval-matrix/", body),
          {"*": 403, "quality_mgr": 302, "anonymous": LOGIN})


def test_api_documents_for_members(docs):
    pk = docs["doc"].pk
    for url in ["/api/documents/", f"/api/documents/{pk}/", "/api/approval-rules/",
                f"/api/documents/{pk}/files/{docs['effective_file'].pk}/"]:
        check(api_client, lambda c: c.get(url), {**ALL, "*": 404, "anonymous": 401})


def test_api_change_requests_from_any_member_registration_by_quality(docs):
    pk = docs["doc"].pk
    check(api_client, lambda c: c.post(f"/api/documents/{pk}/change-requests/", {"reason": "改进 improve"},
                                       format="json"), {**{r: 201 for r in MEMBERS}, "*": 404, "anonymous": 401})
    body = {"number": "QP-NEW-01", "title_zh": "新程序", "title_en": "New procedure", "doc_type": "procedure",
            "owner_department": "quality", "review_interval_months": 12, "retention_years": 10, "reason": "新建 new"}
    check(api_client, lambda c: c.post("/api/documents/", body, format="json"),
          {"quality": 201, "quality_mgr": 201, "*": 403, "anonymous": 401})


def test_api_only_the_quality_manager_changes_the_approval_matrix(docs):
    from procedures.documents.models import ApprovalRule

    rule = ApprovalRule.objects.get(document_type="form")
    check(api_client, lambda c: c.patch(f"/api/approval-rules/{rule.pk}/", {"reviewing_departments": ["quality"],
                                                                            "reason": "x"}, format="json"),
          {**{r: 403 for r in MEMBERS}, "quality_mgr": 200, "*": 404, "anonymous": 401})


def test_api_pending_drafts_only_for_the_people_involved(docs):
    url = f"/api/documents/{docs['pending'].document_id}/files/{docs['pending_file'].pk}/"
    involved = {"market": 200, "market_mgr": 200, "quality": 200, "quality_mgr": 200, "production": 200}
    check(api_client, lambda c: c.get(url), {**involved, "*": 404, "anonymous": 401})
    assert Document.objects.count() == 2
