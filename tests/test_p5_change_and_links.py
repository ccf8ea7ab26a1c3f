"""P5 (issue 16) CR-5 and CR-4: a change to an approved requirement reviewed and approved again
with its history kept; the customer-specific requirements in every later P1 review of the
customer's orders; a CAPA or a document change raised from a requirement, linked both ways."""
import datetime

import pytest
from api_driver import client_for, do, signature
from django.utils import timezone
from flow_driver import act, open_tasks, start
from p1_driver import review_data

from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import Record, Signature
from core.verification import working_data_warnings
from procedures.order_review.flows import OrderReviewFlow
from procedures.requirements.flows import RequirementChangeFlow as CHANGE
from procedures.requirements.flows import RequirementFlow as FLOW
from procedures.requirements.models import ChangeStatus, CustomerRequirement, RequirementChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


def day(n):
    return (TODAY + datetime.timedelta(days=n)).isoformat()


def approved_requirement(people, requirement_type="explicit", customer="C001", words="外壳颜色 RAL 7035 colour"):
    process = start(FLOW, "start", people["market"], {
        "customer": customer, "channel": "visit", "requirement_type": requirement_type, "product": "P-1001",
        "received_on": day(0), "customer_words": words, "meaning": "涂装 painting"})
    act(process, "analyse", people["market"], {"importance": 2, "urgency": 2, "feasibility": "可行 feasible",
                                               "review_departments": ["quality", "engineering"]}, meaning="authored")
    for dept in ("quality", "engineering"):
        act(process, "review", people[dept], {"verdict": "feasible"}, meaning="reviewed")
    act(process, "approve", people["market_mgr"], {"conclusion": "同意 agreed", "owner": "engineering",
                                                   "due_date": day(10)}, meaning="approved")
    return CustomerRequirement.objects.select_related("record").get(record__process=process), process


def request(people, req, user="market", **values):
    return start(CHANGE, "start", people[user], {"requirement": req.record.number, "reason": "客户来函 customer letter",
                                                 **values}, meaning="authored")


def review_change(process, people, departments=("quality", "engineering")):
    for dept in departments:
        act(process, "review", people[dept], {"verdict": "feasible", "comment": "ok"}, meaning="reviewed")


# --- CR-5 change -------------------------------------------------------------------------------------------


def test_an_approved_change_alters_the_requirement_reclassifies_it_and_keeps_the_history(people):
    req, main = approved_requirement(people)
    assert req.priority == "C" and req.record.current_version
    change_process = request(people, req, importance=5, urgency=5, due_date=day(20),
                             customer_words="外壳颜色 RAL 9005 colour black")
    change = RequirementChange.objects.get(requirement=req)
    assert change.number == 1 and change.status == ChangeStatus.IN_REVIEW
    assert change.changes["importance"] == [2, 5] and change.changes["due_date"] == [day(10), day(20)]
    review_change(change_process, people)
    change.refresh_from_db()
    assert change.status == ChangeStatus.AWAITING_APPROVAL
    act(change_process, "approve", people["market_mgr"], {"conclusion": "同意变更 agreed"}, meaning="approved")

    req.refresh_from_db()
    assert (req.importance, req.urgency, req.priority) == (5, 5, "A")
    assert req.customer_words == "外壳颜色 RAL 9005 colour black" and req.due_date.isoformat() == day(20)
    version = req.record.get_version()
    assert version.reason == "change 1 approved"
    history = version.data["changes"]
    assert history[0]["status"] == "approved" and history[0]["decided_by"]
    assert {f["field"] for f in history[0]["fields"]} == {"importance", "urgency", "due_date", "customer_words"}
    assert [r["department"] for r in history[0]["reviews"]] == ["engineering", "quality"]
    # the change's request, two reviews and the approval are each signed on the requirement's record
    meanings = list(Signature.objects.filter(record_version__record=req.record).values_list("meaning", flat=True))
    assert meanings.count("reviewed") == 4 and meanings.count("approved") == 2 and meanings.count("authored") == 2
    # the owner's tracking task stays, now due on the new date
    track = open_tasks(main, "track")
    assert len(track) == 1 and track[0].flow_task.due_date_for(track[0]).isoformat() == day(20)
    assert not list(working_data_warnings([req.record_id]))


def test_a_rejected_change_changes_nothing_but_is_kept(people):
    req, _main = approved_requirement(people)
    before = (req.importance, req.urgency, req.customer_words, req.due_date)
    change_process = request(people, req, importance=5)
    review_change(change_process, people)
    act(change_process, "approve", people["market_mgr"], {"conclusion": "不同意 no"}, meaning="rejected",
        reason="不同意 no")
    req.refresh_from_db()
    assert (req.importance, req.urgency, req.customer_words, req.due_date) == before
    change = req.changes.get()
    assert change.status == ChangeStatus.REJECTED and change.decision_reason == "不同意 no"
    assert req.record.get_version().data["changes"][0]["status"] == "rejected"
    # a new change may then be requested (numbered 2)
    request(people, req, urgency=4)
    assert list(req.changes.values_list("number", flat=True)) == [1, 2]


def test_only_one_open_change_per_requirement_409_and_only_market_requests_over_the_api(people):
    req, _main = approved_requirement(people)
    market = client_for("market")
    url = f"/api/requirements/{req.record.number}/changes/"
    body = {"reason": "客户来函 letter", "importance": 4, "signature": signature("market", "authored")}
    first = market.post(url, body, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["change"] == 1
    second = market.post(url, {**body, "urgency": 5}, format="json")
    assert second.status_code == 409, second.content
    refused = client_for("quality").post(url, {**body, "signature": signature("quality", "authored")}, format="json")
    assert refused.status_code == 403
    listed = market.get(url).json()
    assert listed["count"] == 1 and listed["results"][0]["fields"][0] == {"field": "importance", "old": 2, "new": 4}
    assert RequirementChange.objects.count() == 1


def test_a_change_needs_a_reason_and_a_new_value_and_a_requirement_that_is_approved(people):
    req, _main = approved_requirement(people)
    with pytest.raises(InvalidInput) as nothing:
        request(people, req)  # no new value
    assert "non_field_errors" in nothing.value.field_errors
    with pytest.raises(NotPermitted):
        request(people, req, user="quality", importance=5)
    with pytest.raises(InvalidInput):
        request(people, req, importance=9)
    market = client_for("market")
    registered = start(FLOW, "start", people["market"], {
        "customer": "C001", "channel": "visit", "requirement_type": "explicit", "received_on": day(0),
        "customer_words": "新需求 new", "meaning": "m"})
    number = Record.objects.get(process=registered).number
    response = market.post(f"/api/requirements/{number}/changes/",
                           {"reason": "r", "importance": 4, "signature": signature("market", "authored")},
                           format="json")
    assert response.status_code == 400 and "requirement" in response.json()["errors"]
    assert RequirementChange.objects.count() == 0


def test_the_requester_cannot_approve_the_change(people):
    req, _main = approved_requirement(people)
    change_process = request(people, req, user="market", importance=4)
    review_change(change_process, people)
    task = open_tasks(change_process, "approve")[0]
    assert task.flow_task.forbidden_reason(people["market"], task)


# --- CR-4 customer-specific requirements in P1 ----------------------------------------------------------


def order_body(customer, number):
    return {"kind": "order", "customer": customer, "order_number": number, "order_date": day(0),
            "lines": [{"product": "P-1001", "quantity": "500", "delivery_date": day(30)}]}


def test_p1_reviews_of_the_customer_show_and_must_address_its_specific_requirements(people):
    csr, _main = approved_requirement(people, requirement_type="customer_specific",
                                      words="每批附 CoC 合格证 a CoC with every lot")
    order = start(OrderReviewFlow, "start", people["market"], order_body("C001", "PO-CSR-1"))
    record = Record.objects.get(process=order)
    assert record.get_version().data["customer_specific_requirements"] == [
        {"number": csr.record.number, "words": "每批附 CoC 合格证 a CoC with every lot"}]
    assert not list(working_data_warnings([record.pk])), "the first version is the order as read back"

    quality = client_for("quality")
    refused = do(quality, order.pk, "review_quality", review_data("quality", verdict="can_meet"), meaning="reviewed")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["csr_addressed"]
    done = do(quality, order.pk, "review_quality",
              review_data("quality", verdict="can_meet", csr_addressed="CoC 随货 CoC shipped"), meaning="reviewed")
    assert done.status_code == 200, done.content
    record.refresh_from_db()
    review = record.get_version().data["rounds"][0]["reviews"][0]
    assert review["department"] == "quality" and review["csr_addressed"] == "CoC 随货 CoC shipped"

    # the list is frozen: a change to the requirement later does not alter this review's
    change_process = request(people, csr, customer_words="每批附 CoC 和 RoHS 报告 CoC and RoHS report")
    review_change(change_process, people)
    act(change_process, "approve", people["market_mgr"], {"conclusion": "ok"}, meaning="approved")
    record.refresh_from_db()
    assert record.get_version().data["customer_specific_requirements"][0]["words"].startswith("每批附 CoC 合格证")
    assert not list(working_data_warnings([record.pk]))


def test_other_customers_orders_are_unaffected(people):
    approved_requirement(people, requirement_type="customer_specific")
    order = start(OrderReviewFlow, "start", people["market"], order_body("C002", "PO-OTHER-1"))
    record = Record.objects.get(process=order)
    assert "customer_specific_requirements" not in record.get_version().data
    done = do(client_for("quality"), order.pk, "review_quality", review_data("quality", verdict="can_meet"),
              meaning="reviewed")
    assert done.status_code == 200, done.content
    record.refresh_from_db()
    assert "csr_addressed" not in record.get_version().data["rounds"][0]["reviews"][0]


# --- raise a CAPA / a document change, linked both ways ------------------------------------------------------


def test_quality_raises_a_capa_from_a_requirement_linked_both_ways(people):
    req, _main = approved_requirement(people)
    url = f"/api/requirements/{req.record.number}/raise/"
    refused = client_for("market").post(url, {"kind": "capa", "reason": "未满足 not met"}, format="json")
    assert refused.status_code == 403
    bad = client_for("quality").post(url, {"kind": "capa", "reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    raised = client_for("quality").post(url, {"kind": "capa", "reason": "未满足 not met"}, format="json")
    assert raised.status_code == 201, raised.content
    capa_record = Record.objects.get(number=raised.json()["number"])
    assert capa_record.capa_case.source == "customer_requirement"
    assert capa_record.capa_case.source_reference == req.record.number
    assert capa_record.get_version().data["source_reference"] == req.record.number
    req.record.refresh_from_db()
    assert req.record.get_version().data["raised"][0]["number"] == capa_record.number
    assert client_for("market").get(url).json()["results"][0]["kind"] == "capa"


def test_market_raises_a_document_change_from_a_requirement_linked_both_ways(people):
    from procedures.documents.models import Document

    Document.objects.create(number="WI-PT-001", title_zh="涂装作业指导书", title_en="Painting instruction",
                            doc_type="work_instruction", owner_department="production")
    req, _main = approved_requirement(people)
    url = f"/api/requirements/{req.record.number}/raise/"
    unknown = client_for("market").post(url, {"kind": "document_change", "document": "NOPE", "reason": "r"},
                                        format="json")
    assert unknown.status_code == 400 and "document" in unknown.json()["errors"]
    raised = client_for("market").post(url, {"kind": "document_change", "document": "WI-PT-001",
                                             "reason": "颜色变更 colour change"}, format="json")
    assert raised.status_code == 201, raised.content
    revision_record = Record.objects.get(number=raised.json()["number"])
    assert revision_record.document_revision.raised_from == req.record
    req.record.refresh_from_db()
    assert req.record.get_version().data["raised"][0]["kind"] == "document_change"
    assert not list(working_data_warnings([req.record_id]))


def test_a_change_cannot_be_opened_twice_through_the_flow_either(people):
    req, _main = approved_requirement(people)
    request(people, req, importance=4)
    with pytest.raises(WrongState):
        request(people, req, importance=5)
