"""Bad input on P2: a clear field error (HTTP 400 with {"detail", "errors"}) and
nothing half-saved — no record, version, signature, photo, lot change or task move."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEntry, Record, RecordVersion, Signature
from drivers import ApiDriver, open_steps
from procedures.complaints.models import ComplaintCase, ComplaintPhoto, Disposition, Lot, LotStatus, MaterialReceipt
from p2_support import (
    API_START,
    capa,
    disposition,
    image_bytes,
    inspection,
    intake,
    judgement,
    p2_drivers,
    photo,
    receipt,
    walk_to_disposition,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)


@pytest.fixture
def api(people):
    return ApiDriver(start_url=API_START)


def counts():
    return (Record.objects.count(), RecordVersion.objects.count(), Signature.objects.count(),
            ComplaintCase.objects.count(), ComplaintPhoto.objects.count(), Lot.objects.count(),
            list(Lot.objects.values_list("status", "quantity")), MaterialReceipt.objects.count(),
            Disposition.objects.count())


def refused(driver, field, call):
    """`call()` is refused with a field error on `field` and changes nothing."""
    before = counts()
    status = call()
    body = driver.last_response.json()
    assert status == 400 or getattr(status, "status_code", None) == 400, body
    assert "detail" in body and field in body.get("errors", {}), body
    assert counts() == before
    return body


def days(n):
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(quantity_affected="0"), "quantity_affected"),
    (lambda d: d.update(quantity_affected="-3"), "quantity_affected"),
    (lambda d: d.update(quantity_delivered="0"), "quantity_delivered"),
    (lambda d: d.update(quantity_affected="600", quantity_delivered="500"), "quantity_affected"),
    (lambda d: d.update(customer="NOPE"), "customer"),
    (lambda d: d.update(product="NOPE"), "product"),
    (lambda d: d.update(lot_number=""), "lot_number"),
    (lambda d: d.update(received_on=days(2)), "received_on"),
    (lambda d: d.update(kind="gift"), "kind"),
    (lambda d: d.update(defect_category="ugly"), "defect_category"),
    (lambda d: d.pop("description"), "description"),
])
def test_invalid_intake_is_refused_with_a_field_error_and_saves_nothing(api, change, field):
    data = intake()
    change(data)
    refused(api, field, lambda: api.post_start("market", data).status_code)


@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("spec.pdf", b"%PDF-1.4 not a photo", content_type="application/pdf"),
    SimpleUploadedFile("fake.png", b"MZ\x90\x00 an executable", content_type="image/png"),
    SimpleUploadedFile("photo.gif", b"GIF89a....", content_type="image/gif"),
], ids=["pdf", "executable-named-png", "gif"])
def test_a_photo_that_is_not_an_image_is_refused(api, upload):
    body = refused(api, "photos", lambda: api.post_start("market", intake(), files={"photos": [upload]}).status_code)
    assert upload.name in " ".join(body["errors"]["photos"])


def test_a_photo_that_is_too_large_is_refused(api, settings):
    settings.QMS = {**settings.QMS, "MAX_UPLOAD_MB": 0}
    body = refused(api, "photos", lambda: api.post_start("market", intake(), files={"photos": [photo()]}).status_code)
    assert "defect.png" in " ".join(body["errors"]["photos"]) and " 0 MB" in " ".join(body["errors"]["photos"])


def test_too_many_photos_are_refused(api):
    photos = [photo(f"p{i}.png") for i in range(11)]
    refused(api, "photos", lambda: api.post_start("market", intake(), files={"photos": photos}).status_code)


def test_an_order_of_another_customer_is_refused(api, people, order_data):
    from p1_driver import start as start_p1

    review = start_p1(people["market"], order_data(number="PO-C2-1", customer="C002"))
    number = review.order_review.record.number if hasattr(review, "order_review") else None
    from procedures.order_review.models import order_review_of

    number = order_review_of(review).record.number
    refused(api, "order_reference", lambda: api.post_start("market", intake(order_reference=number)).status_code)
    refused(api, "product", lambda: api.post_start("market", intake(customer="C002", product="P-3001",
                                                                     order_reference="PO-C2-1")).status_code)
    # the right customer and product: linked
    pid = api.start("market", intake(customer="C002", product="P-1001", order_reference="PO-C2-1"))
    assert ComplaintCase.objects.get(record__process_id=pid).order_review.record.number == number


@pytest.fixture
def at_inspection(api):
    return api.start("market", intake())


@pytest.mark.parametrize("data, field", [
    (inspection(inspected="10", defective="11"), "quantity_defective"),
    (inspection(inspected="0", defective="0"), "quantity_inspected"),
    (inspection(inspected="-5", defective="1"), "quantity_inspected"),
    (inspection(inspected="10", defective="-1"), "quantity_defective"),
    (inspection(inspected=None, defective=None), "quantity_inspected"),  # returned goods need quantities
    (inspection(cause_summary=""), "cause_summary"),
])
def test_invalid_inspection_is_refused_and_the_lot_is_not_held(api, at_inspection, data, field):
    refused(api, field, lambda: api.do("quality", at_inspection, "inspect", data, meaning="authored"))
    assert open_steps(at_inspection) == ["inspect"]
    assert not Lot.objects.exists()


def test_a_photo_at_inspection_that_is_not_an_image_is_refused(api, at_inspection):
    bad = SimpleUploadedFile("report.docx", b"PK\x03\x04 docx", content_type="application/octet-stream")
    refused(api, "photos", lambda: api.do("quality", at_inspection, "inspect", inspection(), meaning="authored",
                                          files={"photos": [bad]}))


def test_a_judgement_without_reasoning_is_refused(api, at_inspection):
    api.do("quality", at_inspection, "inspect", inspection(), meaning="authored")
    refused(api, "judgement", lambda: api.do("quality_mgr", at_inspection, "judge", {"justified": "yes"},
                                             meaning="reviewed"))
    refused(api, "justified", lambda: api.do("quality_mgr", at_inspection, "judge", {"judgement": "x"},
                                             meaning="reviewed"))


@pytest.fixture
def at_receipt(api):
    pid = api.start("market", intake())
    api.do("quality", pid, "inspect", inspection(), meaning="authored")
    api.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed")
    api.do("market", pid, "hand_over", {})
    return pid


@pytest.mark.parametrize("data, field", [
    (receipt(quantity="0"), "lines[0].quantity"),
    (receipt(quantity="-1"), "lines[0].quantity"),
    (receipt(lot="L-OTHER"), "lines[0].lot_number"),
    (receipt(product="P-2001"), "lines[0].product"),
    ({**receipt(), "lines": []}, "lines"),
    ({**receipt(), "store_location": ""}, "store_location"),
])
def test_invalid_receipt_is_refused(api, at_receipt, data, field):
    refused(api, field, lambda: api.do("materials", at_receipt, "receive", data, meaning="authored"))
    assert open_steps(at_receipt) == ["receive"]


@pytest.fixture
def at_disposition(people):
    driver = ApiDriver(start_url=API_START)
    return driver, walk_to_disposition(driver)


@pytest.mark.parametrize("data, field", [
    (disposition(("scrap", "100")), "lines"),  # 100 ≠ 120 received
    (disposition(("scrap", "100"), ("rework", "30")), "lines"),  # 130 ≠ 120
    (disposition(("scrap", "120"), ("rework", "0")), "lines[1].quantity"),
    (disposition(("scrap", "130"), ("rework", "-10")), "lines[1].quantity"),
    (disposition(("scrap", "60"), ("scrap", "60")), "non_field_errors"),
    (disposition(("melt", "120")), "lines[0].code"),
    (disposition(("scrap", "120"), cost="-1"), "cost"),
    ({"lines": []}, "lines"),
])
def test_a_disposition_that_does_not_add_up_is_refused(at_disposition, data, field):
    driver, pid = at_disposition
    body = refused(driver, field, lambda: driver.do("quality_mgr", pid, "dispose", data, meaning="approved"))
    assert open_steps(pid) == ["dispose"]
    if field == "lines" and data["lines"]:
        assert "120" in " ".join(body["errors"]["lines"])


def test_a_disposition_on_a_lot_not_on_hold_is_refused(at_disposition):
    driver, pid = at_disposition
    Lot.objects.update(status=LotStatus.RELEASED)  # released behind the procedure's back
    refused(driver, "lot", lambda: driver.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")),
                                             meaning="approved"))


def test_rejecting_a_disposition_without_a_reason_is_refused(at_disposition):
    driver, pid = at_disposition
    driver.do("quality_mgr", pid, "dispose", disposition(("concession", "120")), meaning="approved")
    refused(driver, "reason", lambda: driver.do("gm", pid, "sign_disposition", {}, meaning="rejected"))
    assert open_steps(pid) == ["sign_disposition"]


def test_a_refusal_by_the_customer_needs_a_note_and_the_date_cannot_be_in_the_future(people):
    driver = ApiDriver(start_url=API_START)
    pid = walk_to_disposition(driver, intake(contract_requires_acceptance=True))
    driver.do("quality_mgr", pid, "dispose", disposition(("concession", "120")), meaning="approved")
    driver.do("gm", pid, "sign_disposition", {}, meaning="approved")
    base = {"customer_person": "Mr. Chen", "reference": "mail", "accepted_on": days(0)}
    refused(driver, "notes", lambda: driver.do("market", pid, "customer_acceptance", {**base, "accepted": "no"},
                                               meaning="authored"))
    refused(driver, "accepted_on", lambda: driver.do("market", pid, "customer_acceptance",
                                                     {**base, "accepted": "yes", "accepted_on": days(3)},
                                                     meaning="authored"))
    refused(driver, "accepted", lambda: driver.do("market", pid, "customer_acceptance", base, meaning="authored"))


def test_re_inspection_quantities_must_add_up_to_the_reworked_quantity(at_disposition):
    driver, pid = at_disposition
    driver.do("quality_mgr", pid, "dispose", disposition(("rework", "100"), ("scrap", "20")), meaning="approved")
    refused(driver, "quantity_passed", lambda: driver.do("quality", pid, "reinspect", {
        "quantity_passed": "100", "quantity_failed": "5", "result": "x"}, meaning="verified"))
    refused(driver, "quantity_failed", lambda: driver.do("quality", pid, "reinspect", {
        "quantity_passed": "100", "quantity_failed": "-1", "result": "x"}, meaning="verified"))


def test_no_corrective_action_needs_a_reason(at_disposition):
    driver, pid = at_disposition
    driver.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")), meaning="approved")
    refused(driver, "reason", lambda: driver.do("quality_mgr", pid, "decide_capa", capa(False), meaning="reviewed"))
    assert open_steps(pid) == ["decide_capa"]


def test_an_analysis_period_ending_before_it_starts_is_refused(people):
    driver = ApiDriver(start_url="/api/complaint-analyses/")
    refused(driver, "period_end", lambda: driver.post_start(
        "market_mgr", {"period_start": days(-1), "period_end": days(-30)}).status_code)


def test_the_browser_shows_the_field_error_and_keeps_the_task_open(people):
    web = p2_drivers()["web"]()
    pid = walk_to_disposition(web)
    status = web.do("quality_mgr", pid, "dispose", disposition(("scrap", "100")), meaning="approved")
    assert status == 400
    page = web.last_response.content.decode()
    assert 'id="form-error"' in page and "120" in page[page.find('id="form-error"'):][:300]
    assert open_steps(pid) == ["dispose"]
    assert not Disposition.objects.exists()
    assert not AuditEntry.objects.filter(action="complaint.disposed").exists()


def test_an_oversized_image_through_the_browser_is_refused(people, settings):
    web = p2_drivers()["web"]()
    settings.QMS = {**settings.QMS, "MAX_UPLOAD_MB": 0}
    response = web.post_start("market", intake(), files={"photos": [photo()]})
    page = response.content.decode()
    assert response.status_code == 200 and 'qms-field--error" id="field-photos"' in page
    assert not ComplaintCase.objects.exists()


def test_image_bytes_helper_makes_real_images():
    assert image_bytes("PNG").startswith(b"\x89PNG") and image_bytes("JPEG").startswith(b"\xff\xd8\xff")
