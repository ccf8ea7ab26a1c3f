"""P4 through the REST API only, as an external client: register, draft with the
controlled PDF (multipart), reviews, signed approval, in force, acknowledgements and a
change request, every step through the generic task endpoints."""
import json

import pytest
from django.utils import translation
from django.test import TestCase
from django.utils import timezone

from api_driver import client_for, signature
from p4_support import fire_timers, pdf_upload
from procedures.documents.models import Document, RevisionStatus

pytestmark = pytest.mark.django_db


def tasks_of(client, process, step, queue):
    url = "/api/tasks/?queue=1" if queue else "/api/tasks/"
    return [t for t in client.get(url).json()["results"] if t["process"] == process and t["step"] == step]


def complete(client, process, step, data, meaning, files=None):
    task = (tasks_of(client, process, step, True) or tasks_of(client, process, step, False))[0]
    if task["status"] == "NEW":
        assert client.post(f"/api/tasks/{task['id']}/claim/").status_code == 200
    body = {"data": data, "signature": signature(client.username, meaning)}
    with TestCase.captureOnCommitCallbacks(execute=True):
        if files:
            response = client.post(f"/api/tasks/{task['id']}/complete/", {"payload": json.dumps(body), **files},
                                   format="multipart")
        else:
            response = client.post(f"/api/tasks/{task['id']}/complete/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_document_is_registered_drafted_reviewed_approved_and_acknowledged_through_the_api(people):
    quality, market = client_for("quality"), client_for("market")
    response = quality.post("/api/documents/", {
        "number": "WI-PR-010", "title_zh": "注塑作业指导书", "title_en": "Injection moulding work instruction",
        "doc_type": "work_instruction", "owner_department": "production", "review_interval_months": 24,
        "retention_years": 5, "distribution": ["production"], "reason": "新设备 new machine"}, format="json")
    assert response.status_code == 201, response.content
    process = response.json()["process"]
    production = client_for("production")
    task = tasks_of(production, process, "edit", True)[0]
    fields = {f["name"]: f for f in production.get(f"/api/tasks/{task['id']}/").json()["form"]}
    assert fields["pdf"]["type"] == "file" and fields["effective_date"]["type"] == "date"
    today = timezone.localdate().isoformat()
    complete(production, process, "edit", {"outcome": "submit", "change_summary": "首版 first issue",
                                           "effective_date": today}, "authored",
             files={"pdf": pdf_upload("注塑 WI-PR-010")})
    for department in ["quality", "production"]:  # the matrix for work instructions
        complete(client_for(department) if department != "production" else client_for("production_mgr"),
                 process, "review", {"accepted": "yes"}, "reviewed")
    complete(client_for("quality_mgr"), process, "approve", {"effective_date": today}, "approved")
    fire_timers()
    document = Document.objects.get(number="WI-PR-010")
    assert document.effective_revision().label == "A/0"
    detail = market.get(f"/api/documents/{document.pk}/").json()
    assert detail["status"] == "effective" and detail["revisions"][0]["status"] == RevisionStatus.EFFECTIVE
    assert {row["user"] for row in detail["acknowledgements"]} == {"production", "production_mgr"}
    for username in ["production", "production_mgr"]:
        complete(client_for(username), process, "acknowledge", {"confirm": True}, "acknowledged")
    detail = market.get(f"/api/documents/{document.pk}/").json()
    assert all(row["acknowledged_at"] for row in detail["acknowledgements"])
    # a change request from another department opens revision A/1
    response = market.post(f"/api/documents/{document.pk}/change-requests/", {"reason": "节拍变更 new cycle time"},
                           format="json")
    assert response.status_code == 201
    assert document.revisions.get(label="A/1").status == RevisionStatus.DRAFT


def test_the_api_filters_documents_by_type_status_and_owner(people):
    quality = client_for("quality")
    for number, doc_type, owner in [("QP-T-1", "procedure", "quality"), ("QR-T-1", "form", "market")]:
        quality.post("/api/documents/", {"number": number, "title_zh": "测试", "title_en": "Test", "doc_type": doc_type,
                                         "owner_department": owner, "review_interval_months": 12,
                                         "retention_years": 3, "reason": "r"}, format="json")
    assert [d["number"] for d in quality.get("/api/documents/?type=form").json()] == ["QR-T-1"]
    assert [d["number"] for d in quality.get("/api/documents/?owner=quality").json()] == ["QP-T-1"]
    assert [d["number"] for d in quality.get("/api/documents/?status=draft").json()] == ["QP-T-1", "QR-T-1"]
    assert quality.get("/api/documents/?status=effective").json() == []


def test_an_external_document_needs_its_issuer(people):
    response = client_for("quality").post("/api/documents/", {
        "number": "EXT-GB-2828", "title_zh": "计数抽样检验程序", "title_en": "Sampling procedures for inspection by attributes",
        "doc_type": "external", "owner_department": "quality", "review_interval_months": 36, "retention_years": 10,
        "reason": "客户要求 customer requirement"}, format="json")
    assert response.status_code == 400 and "external_issuer" in response.json()["errors"]
    assert not Document.objects.exists()


def test_the_approval_matrix_api_shows_and_edits_a_group_rule_and_the_flow_asks_the_group(people):
    """DOC-3/DOC-4 with a quorum: a work instruction approved by 2 of the 3 Engineering
    managers; each is asked at once, the second approval settles it and the third seat
    is cancelled."""
    from accounts.models import Membership
    from procedures.documents.models import ApprovalRule

    for name in ["production_mgr", "materials_mgr"]:
        Membership.objects.create(user=people[name], department="engineering", role="manager")
    quality_mgr = client_for("quality_mgr")
    rule = next(r for r in quality_mgr.get("/api/approval-rules/").json() if r["document_type"] == "work_instruction")
    assert (rule["approver_group"], rule["approvals_needed"], rule["rejection_ends"]) == ("role", None, True)
    response = quality_mgr.patch(f"/api/approval-rules/{rule['id']}/", {
        "approver_department": "engineering", "approver_role": "manager", "approver_group": "members",
        "approvals_needed": 2, "reason": "工程经理会签 engineering managers co-sign"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["approver_group"], response.json()["approvals_needed"]) == ("members", 2)
    with translation.override("en"):
        assert ApprovalRule.objects.get(pk=rule["id"]).quorum_summary().startswith("Every person holding the role")
    bad = quality_mgr.patch(f"/api/approval-rules/{rule['id']}/", {"approver_group": "everyone", "reason": "x"},
                            format="json")
    assert bad.status_code == 400 and "approver_group" in bad.json()["errors"]

    response = client_for("quality").post("/api/documents/", {
        "number": "WI-EN-020", "title_zh": "模具保养作业指导书", "title_en": "Mould maintenance work instruction",
        "doc_type": "work_instruction", "owner_department": "production", "review_interval_months": 24,
        "retention_years": 5, "distribution": ["production"], "reason": "新模具 new moulds"}, format="json")
    process = response.json()["process"]
    today = timezone.localdate().isoformat()
    complete(client_for("production"), process, "edit", {"outcome": "submit", "change_summary": "首版 first issue",
                                                          "effective_date": today}, "authored",
             files={"pdf": pdf_upload("模具 WI-EN-020")})
    for department in ["quality", "production"]:
        complete(client_for(department), process, "review", {"accepted": "yes"}, "reviewed")
    seats = {name: tasks_of(client_for(name), process, "approve", False)
             for name in ["engineering_mgr", "production_mgr", "materials_mgr"]}
    assert all(len(tasks) == 1 and tasks[0]["status"] == "ASSIGNED" for tasks in seats.values()), seats
    complete(client_for("engineering_mgr"), process, "approve", {"effective_date": today}, "approved")
    assert Document.objects.get(number="WI-EN-020").revisions.get().status == RevisionStatus.IN_REVIEW
    complete(client_for("production_mgr"), process, "approve", {"effective_date": today}, "approved")
    assert Document.objects.get(number="WI-EN-020").revisions.get().status == RevisionStatus.APPROVED
    assert tasks_of(client_for("materials_mgr"), process, "approve", False) == [], "the third seat is cancelled"
