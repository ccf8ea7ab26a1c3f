"""Bad input on P1: a clear field error (HTTP 400/403/409) and nothing half-saved."""
import datetime

import pytest

from api_driver import client_for, do, find_task, signature
from p1_driver import REVIEW_STEPS, review_data
from core.models import AuditEntry, Record, Signature
from procedures.order_review.models import OrderReview

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(people):
    return {name: client_for(name) for name in people if name != "admin"}


def counts():
    return (Record.objects.count(), OrderReview.objects.count(), Signature.objects.count())


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("customer"), "customer"),
    (lambda d: d.update(customer="NOPE"), "customer"),
    (lambda d: d.pop("order_number"), "order_number"),
    (lambda d: d["lines"][0].update(quantity="0"), "lines[0].quantity"),
    (lambda d: d["lines"][1].update(quantity="-5"), "lines[1].quantity"),
    (lambda d: d["lines"][0].update(product="NOPE"), "lines[0].product"),
    (lambda d: d["lines"][1].update(product="NOPE"), "lines[1].product"),  # the others' products read together
    (lambda d: d["lines"][1].update(product=7), "lines[1].product"),  # not a code: looked up alone, refused
    (lambda d: d["lines"][0].update(delivery_date=(datetime.date.today() - datetime.timedelta(days=1)).isoformat()),
     "lines[0].delivery_date"),
    (lambda d: d.update(lines=[]), "lines"),
    (lambda d: d.update(verbal=True), "verbal_confirmation"),
    (lambda d: d.update(order_date=(datetime.date.today() + datetime.timedelta(days=3)).isoformat()), "order_date"),
])
def test_invalid_intake_is_refused_with_a_field_error_and_saves_nothing(api, order_data, change, field):
    data = order_data()
    change(data)
    before = counts()
    response = api["market"].post("/api/order-reviews/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert counts() == before


def test_duplicate_order_number_for_the_same_customer_is_refused(api, order_data):
    assert api["market"].post("/api/order-reviews/", order_data(), format="json").status_code == 201
    response = api["market"].post("/api/order-reviews/", order_data(), format="json")
    assert response.status_code == 400 and "order_number" in response.json()["errors"]


def test_only_market_may_start_a_review(api, order_data):
    response = api["quality"].post("/api/order-reviews/", order_data(), format="json")
    assert response.status_code == 403
    assert Record.objects.count() == 0


@pytest.fixture
def started(api, order_data):
    return api["market"].post("/api/order-reviews/", order_data(), format="json").json()["process"]


def test_a_task_of_another_department_is_invisible_and_cannot_be_claimed(api, started):
    task = find_task(api["quality"], started, "review_quality")
    assert api["production"].get(f"/api/tasks/{task['id']}/").status_code == 404
    assert api["production"].post(f"/api/tasks/{task['id']}/claim/").status_code == 404


def test_a_task_claimed_by_someone_else_cannot_be_completed(api, people, started):
    from accounts.models import Membership

    Membership.objects.create(user=people["production"], department="quality", role="staff")
    task = find_task(api["quality"], started, "review_quality")
    assert api["quality"].post(f"/api/tasks/{task['id']}/claim/").status_code == 200
    response = api["production"].post(f"/api/tasks/{task['id']}/claim/")
    assert response.status_code == 404  # no longer in anyone's queue
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("production", "reviewed")}
    assert api["production"].post(f"/api/tasks/{task['id']}/complete/", body, format="json").status_code == 404


def test_completing_an_unclaimed_task_is_a_conflict(api, started):
    task = find_task(api["quality"], started, "review_quality")
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed")}
    response = api["quality"].post(f"/api/tasks/{task['id']}/complete/", body, format="json")
    assert response.status_code == 409 and response.json()["current_state"] == "NEW"


def test_a_replayed_completion_is_a_conflict_and_signs_nothing_twice(api, started):
    response = do(api["quality"], started, "review_quality", review_data("quality", verdict="can_meet"), meaning="reviewed")
    assert response.status_code == 200
    task_id = response.json()["task"]
    signatures = Signature.objects.count()
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed")}
    replay = api["quality"].post(f"/api/tasks/{task_id}/complete/", body, format="json")
    assert replay.status_code == 409 and replay.json()["current_state"] == "DONE"
    assert Signature.objects.count() == signatures


def test_review_other_than_can_meet_needs_a_comment(api, started):
    response = do(api["production"], started, "review_production", review_data("production", verdict="conditions"), meaning="reviewed")
    assert response.status_code == 400 and "comment" in response.json()["errors"]


def test_materials_review_needs_material_readiness(api, started):
    response = do(api["materials"], started, "review_materials", review_data("materials", verdict="can_meet"), meaning="reviewed")
    assert response.status_code == 400 and "material_readiness" in response.json()["errors"]


def test_wrong_password_is_refused_counted_and_audited_and_nothing_is_saved(api, people, started):
    task = find_task(api["quality"], started, "review_quality")
    api["quality"].post(f"/api/tasks/{task['id']}/claim/")
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed", password="wrong-one")}
    response = api["quality"].post(f"/api/tasks/{task['id']}/complete/", body, format="json")
    assert response.status_code == 400 and "password" in response.json()["errors"]
    people["quality"].refresh_from_db()
    assert people["quality"].signing_failures == 1
    assert AuditEntry.objects.filter(action="esign.failed", actor=people["quality"]).count() == 1
    assert not Signature.objects.filter(signer=people["quality"]).exists()
    assert find_task(api["quality"], started, "review_quality")["status"] == "ASSIGNED"


def test_five_wrong_passwords_in_a_row_lock_signing(api, people, started):
    task = find_task(api["quality"], started, "review_quality")
    api["quality"].post(f"/api/tasks/{task['id']}/claim/")
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed", password="wrong")}
    for _ in range(5):
        api["quality"].post(f"/api/tasks/{task['id']}/complete/", body, format="json")
    good = {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed")}
    response = api["quality"].post(f"/api/tasks/{task['id']}/complete/", good, format="json")
    assert response.status_code == 400 and "password" in response.json()["errors"]
    people["quality"].refresh_from_db()
    assert people["quality"].signing_locked_at is not None
    assert AuditEntry.objects.filter(action="esign.locked", actor=people["quality"]).count() == 1


def test_signing_with_another_users_id_is_refused(api, started):
    task = find_task(api["quality"], started, "review_quality")
    api["quality"].post(f"/api/tasks/{task['id']}/claim/")
    body = {"data": review_data("quality", verdict="can_meet"), "signature": signature("production", "reviewed")}
    response = api["quality"].post(f"/api/tasks/{task['id']}/complete/", body, format="json")
    assert response.status_code == 400 and not Signature.objects.exists()


def test_signature_without_a_meaning_allowed_for_the_step_is_refused(api, started):
    response = do(api["quality"], started, "review_quality", review_data("quality", verdict="can_meet"), meaning="approved")
    assert response.status_code == 400 and "meaning" in response.json()["errors"]


def test_first_signature_requires_accepting_the_accountability_statement(api, people, started):
    from core.models import AccountabilityAcceptance

    AccountabilityAcceptance.objects.filter(user=people["quality"]).delete()
    response = do(api["quality"], started, "review_quality", review_data("quality", verdict="can_meet"), meaning="reviewed")
    assert response.status_code == 400 and "accept_accountability" in response.json()["errors"]
    assert api["quality"].post("/api/me/accept-accountability/").status_code == 200
    task = find_task(api["quality"], started, "review_quality")
    response = api["quality"].post(f"/api/tasks/{task['id']}/complete/",
                                   {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed")},
                                   format="json")
    assert response.status_code == 200
    assert AccountabilityAcceptance.objects.filter(user=people["quality"]).exists()


@pytest.fixture
def reviewed(api, started):
    for dept, step in REVIEW_STEPS.items():
        data = review_data(dept, verdict="can_meet")
        if dept == "materials":
            data["material_readiness"] = "ready"
        assert do(api[dept], started, step, data, meaning="reviewed").status_code == 200
    return started


def test_rejecting_without_a_reason_is_refused(api, reviewed):
    response = do(api["market_mgr"], reviewed, "approve", {"conclusion": "no"}, meaning="rejected")
    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_rejection_with_a_reason_ends_the_review(api, reviewed):
    response = do(api["market_mgr"], reviewed, "approve", {"conclusion": "价格过低 price too low"},
                  meaning="rejected", reason="价格过低 price too low")
    assert response.status_code == 200 and response.json()["process_status"] == "DONE"
    assert OrderReview.objects.get(record__process_id=reviewed).status == "rejected"


def test_the_person_who_started_the_review_cannot_approve_it(api, people, reviewed):
    from accounts.models import Membership

    Membership.objects.create(user=people["market"], department="market", role="manager")
    market = client_for("market")
    task = find_task(api["market_mgr"], reviewed, "approve")
    assert market.post(f"/api/tasks/{task['id']}/claim/").status_code == 403
    assert market.get(f"/api/tasks/{task['id']}/").status_code == 200  # visible in the queue, but refused
    assert api["market_mgr"].post(f"/api/tasks/{task['id']}/claim/").status_code == 200


# --- attachments (P1.1) -------------------------------------------------------------------

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def multipart(data, *files):
    import json

    return {"payload": json.dumps(data), "attachments": list(files)}


def upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_attachments_are_stored_with_their_hash_inside_the_signed_version(api, order_data):
    import hashlib

    response = api["market"].post("/api/order-reviews/", multipart(order_data(), upload("PO 采购单.pdf", PDF_BYTES)),
                                  format="multipart")
    assert response.status_code == 201, response.content
    review = OrderReview.objects.get(record__number=response.json()["record"])
    attachment = review.attachments.get()
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.file.read() == PDF_BYTES
    data = review.record.versions.get(version=review.record.current_version).data
    assert data["attachments"] == [{"name": "PO 采购单.pdf", "size": len(PDF_BYTES), "sha256": attachment.sha256}]


@pytest.mark.parametrize("name, content, why", [
    ("run.exe", b"MZ\x90\x00", "type"),
    ("fake.pdf", b"<html>not a pdf</html>", "content"),
    ("photo.png", b"\xff\xd8\xff\xe0 jpeg bytes", "content"),
])
def test_an_attachment_of_the_wrong_type_is_refused_and_nothing_is_saved(api, order_data, name, content, why):
    before = counts()
    response = api["market"].post("/api/order-reviews/", multipart(order_data(), upload(name, content)),
                                  format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()["errors"], response.content
    assert counts() == before


def test_an_attachment_over_the_size_limit_is_refused(api, order_data, settings):
    settings.QMS = {**settings.QMS, "MAX_UPLOAD_MB": 1}
    big = PDF_BYTES + b"0" * (1024 * 1024 + 1)
    response = api["market"].post("/api/order-reviews/", multipart(order_data(), upload("big.pdf", big)),
                                  format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()["errors"]
    assert Record.objects.count() == 0


def test_a_multipart_payload_that_is_not_json_is_a_clear_error(api):
    response = api["market"].post("/api/order-reviews/", {"payload": "{not json"}, format="multipart")
    assert response.status_code == 400 and "payload" in response.json()["errors"]
