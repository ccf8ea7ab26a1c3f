"""Issue 14 items 6 and 7: internal nonconformities and holds that block.

7. Quality opens a quality anomaly report from an internal inspection — incoming (IQC),
   in-process (IPQC), outgoing (OQC) — through the API and the browser; the lot goes on hold and
   the case runs the customer path's judgement → disposition → re-inspection → release → CAPA
   decision. An IQC rejection raises a CAPA whose source is the supplier. NC-3's actions (customer
   informed, containment, …) are on the signed report.
6. A held lot is refused (409 naming the hold and the report) at the store's material receipt of a
   supplier lot and issue to production (`POST /api/material-movements/` and its page); once the
   disposition releases the lot it moves again."""
import datetime
import json

import pytest
from django.test import TestCase
from django.utils import timezone
from viewflow.workflow.models import Process

from accounts.models import User
from api_driver import signature
from core.models import AuditEntry, Record, Signature
from drivers import open_steps
from procedures.capa.models import CapaCase
from procedures.complaints.models import (
    AnomalyReport, ComplaintCase, ComplaintStatus, Lot, LotStatus, MaterialMovement,
)
from p2_support import disposition, judgement, p2_drivers, skip_rendering, web_base
from test_role_matrix import ROLES, api_client, check, web_client

pytestmark = pytest.mark.django_db

API_INTERNAL = "/api/complaints/internal/"
MOVEMENTS = "/api/material-movements/"
SUPPLIER = "宁波精工五金 Ningbo Precision Hardware"


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    skip_rendering(monkeypatch)


def today(days=0):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def internal(origin="iqc", lot="IQC-2026-1120", product="P-1001", **extra):
    data = {
        "origin": origin, "inspected_on": today(), "product": product, "lot_number": lot, "lot_size": "500",
        "quantity_inspected": "80", "sample_size": "80", "quantity_defective": "7", "defect_category": "dimension",
        "defect_grade": "B", "phenomenon": "外径超差 +0.05 mm outer diameter over tolerance",
        "cause_machine": "车床刀具磨损 worn lathe tool", "cause_summary": "刀具寿命管理缺失 no tool-life control",
        "interim_measure": "全批隔离待处置 whole lot segregated", "actions": ["containment", "inform_customer"],
    }
    if origin == "iqc":
        data["supplier"] = SUPPLIER
    if origin == "oqc":
        data["customer"] = "C001"
    return {**data, **extra}


def start_internal(drive, username, data):
    """Open the report through the API (JSON with the inspector's signature) or the browser page."""
    if drive.name == "api":
        response = drive.post_start(username, {**data, "signature": signature(username, "authored")},
                                    url=API_INTERNAL)
        assert response.status_code == 201, response.content
        return response.json()["process"]
    response = drive._post_step(drive.client(username), f"{drive.base}/start_internal/", username, data,
                                "authored", "")
    assert response.status_code == 302, response.content.decode()[:3000]
    return int(response["Location"].rstrip("/").rsplit("/", 1)[-1])


def case_of(pid):
    return ComplaintCase.objects.select_related("lot", "record").get(record__process_id=pid)


def movement(kind="issue", lot="IQC-2026-1120", product="P-1001", **extra):
    data = {"kind": kind, "moved_on": today(), "product": product, "lot_number": lot, "quantity": "100",
            "document": "PL-2026-0042"}
    data.update({"supplier": SUPPLIER} if kind == "receipt" else {"work_order": "WO-2026-0315 line 2"})
    return {**data, **extra}


@pytest.fixture(params=["api", "web"])
def drive(request, people):
    return p2_drivers()[request.param]()


# --- 7: the three internal starts, the hold, the same downstream path ---------------------------------------------


@pytest.mark.parametrize("origin", ["iqc", "ipqc", "oqc"])
def test_internal_report_holds_the_lot_and_runs_the_same_path(drive, origin):
    lot = f"{origin.upper()}-LOT-7"
    pid = start_internal(drive, "quality", internal(origin, lot=lot))
    case = case_of(pid)
    assert case.origin == origin and case.internal and case.status == ComplaintStatus.JUDGEMENT
    assert case.lot.status == LotStatus.ON_HOLD and case.lot_held and case.lot.quantity == 500  # NC-1
    report = case.anomaly_report
    assert report.record_id == case.record_id and report.record.record_type == "anomaly_report"
    assert report.source == origin and report.sample_size == 80 and report.quantity_inspected == 80
    assert report.quantity_defective == 7 and report.defect_rate == pytest.approx(8.75)
    assert case.supplier == (SUPPLIER if origin == "iqc" else "")
    assert (case.customer.code if case.customer else None) == ("C001" if origin == "oqc" else None)
    # the inspector signed the report; no quality information feedback form (no customer sent one)
    assert Signature.objects.filter(record_version__record=report.record, meaning="authored").count() == 1
    assert not Record.objects.filter(process_id=pid, record_type="quality_feedback").exists()
    assert open_steps(pid) == ["judge"]

    # the same judgement → disposition → re-inspection → release → CAPA decision
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert open_steps(pid) == ["dispose"]  # no handover / receipt: the lot is already in the house
    assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "200"), ("scrap", "250")),
                    meaning="approved") == 400  # 450 ≠ the 500 held
    assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "200"), ("scrap", "300")),
                    meaning="approved") == 200
    assert open_steps(pid) == ["reinspect"]
    assert case_of(pid).lot.status == LotStatus.ON_HOLD
    assert drive.do("quality", pid, "reinspect", {"quantity_passed": "200", "quantity_failed": "0",
                                                  "result": "返工后全检合格 all good after rework"},
                    meaning="verified") == 200
    case = case_of(pid)
    assert case.lot.status == LotStatus.RELEASED and not case.lot_held
    assert open_steps(pid) == ["decide_capa"]
    assert drive.do("quality_mgr", pid, "decide_capa", {"capa_required": "no", "reason": "刀具寿命已纳入点检 covered"},
                    meaning="reviewed") == 200
    assert Process.objects.get(pk=pid).status == "DONE"
    case = case_of(pid)
    assert case.status == ComplaintStatus.CLOSED
    trail = list(AuditEntry.objects.filter(process_id=pid).order_by("seq").values_list("action", flat=True))
    assert trail.index("lot.held") < trail.index("complaint.internal_reported") < trail.index("complaint.judged") \
        < trail.index("complaint.disposed") < trail.index("complaint.reinspected") < trail.index("lot.released") \
        < trail.index("complaint.closed")
    data = case.record.get_version().data
    assert data["internal"] is True and data["source"] == origin and data["lot"]["status"] == "released"
    assert data["dispositions"][0]["reinspection"]["passed"] is True and data["status"] == "closed"


def test_not_confirmed_releases_the_hold_and_closes(drive):
    pid = start_internal(drive, "quality", internal("ipqc", lot="IPQC-OK-1"))
    assert Lot.objects.get(number="IPQC-OK-1").status == LotStatus.ON_HOLD
    assert drive.do("quality_mgr", pid, "judge", judgement(False), meaning="reviewed") == 200
    assert Process.objects.get(pk=pid).status == "DONE"
    case = case_of(pid)
    assert case.status == ComplaintStatus.CLOSED and case.justified is False
    assert case.lot.status == LotStatus.RELEASED and "not confirmed" in case.lot.release_note
    assert not case.anomaly_report.dispositions.exists()


def test_nc3_actions_taken_and_customer_informed_are_on_the_signed_report(people):
    drive = p2_drivers()["api"]()
    pid = start_internal(drive, "quality", internal("oqc", lot="OQC-NC3", actions=["containment", "stop_shipment",
                                                                                    "inform_customer"]))
    report = case_of(pid).anomaly_report
    assert report.actions == ["containment", "stop_shipment", "inform_customer"]
    version = report.record.get_version()
    assert [a["code"] for a in version.data["actions"]] == ["containment", "stop_shipment", "inform_customer"]
    assert {"code": "inform_customer", "label": "通知客户 Customer informed"} in version.data["actions"]
    assert Signature.objects.get(record_version=version).meaning == "authored"  # the signature covers the actions
    entry = AuditEntry.objects.get(process_id=pid, action="complaint.internal_reported")
    assert entry.new_values["actions"] == ["containment", "stop_shipment", "inform_customer"]
    # none chosen: the report says so (an empty list), it does not invent one
    pid = start_internal(drive, "quality", internal("ipqc", lot="IPQC-NC3", actions=[]))
    assert case_of(pid).anomaly_report.record.get_version().data["actions"] == []


def test_iqc_rejection_raises_a_capa_whose_source_is_the_supplier(drive):
    pid = start_internal(drive, "quality", internal("iqc", lot="IQC-CAPA-1"))
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert drive.do("quality_mgr", pid, "dispose", disposition(("scrap", "500")), meaning="approved") == 200
    assert open_steps(pid) == ["decide_capa"]
    assert drive.do("quality_mgr", pid, "decide_capa", {"capa_required": "yes", "reason": ""},
                    meaning="reviewed") == 200
    case = case_of(pid)
    capa = CapaCase.objects.get(complaint_case=case)
    assert capa.source == "supplier" and capa.source_reference == case.record.number
    assert capa.customer_name == SUPPLIER and "IQC-CAPA-1" in capa.product_text
    assert case.capa_reference == capa.record.number and case.status == ComplaintStatus.CLOSED


def test_ipqc_capa_is_an_internal_nonconformity(people):
    drive = p2_drivers()["api"]()
    pid = start_internal(drive, "quality", internal("ipqc", lot="IPQC-CAPA-1"))
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert drive.do("quality_mgr", pid, "dispose", disposition(("scrap", "500")), meaning="approved") == 200
    assert drive.do("quality_mgr", pid, "decide_capa", {"capa_required": "yes", "reason": ""},
                    meaning="reviewed") == 200
    assert CapaCase.objects.get(complaint_case=case_of(pid)).source == "internal_nc"


def test_internal_cases_stay_out_of_the_complaint_analysis(people):
    from procedures.complaints.actions import compute_analysis

    drive = p2_drivers()["api"]()
    start_internal(drive, "quality", internal("iqc", lot="IQC-ANALYSIS"))
    figures = compute_analysis(timezone.localdate() - datetime.timedelta(days=5), timezone.localdate())
    assert figures["totals"]["cases"] == 0


# --- 6: a held lot blocks the material receipt / issue ------------------------------------------------------------


def test_held_lot_is_refused_at_receipt_and_issue_then_moves_once_released(people):
    drive = p2_drivers()["api"]()
    pid = start_internal(drive, "quality", internal("iqc", lot="IQC-HOLD-1"))
    number = case_of(pid).anomaly_report.record.number
    store = api_client("materials")
    for kind in ("receipt", "issue"):
        response = store.post(MOVEMENTS, movement(kind, lot="IQC-HOLD-1"), format="json")
        assert response.status_code == 409, response.content
        body = response.json()
        assert number in body["detail"] and "IQC-HOLD-1" in body["detail"]
        assert "IQC" in body["detail"]  # the hold's reason: the incoming inspection that held it
        assert body["current_state"] == "on_hold" and number in body["errors"]["lot_number"][0]
    assert not MaterialMovement.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="material.").exists()
    # another lot of the same product moves
    assert store.post(MOVEMENTS, movement("receipt", lot="IQC-GOOD-1"), format="json").status_code == 201
    # the disposition completes: the hold is released and the lot may be issued
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert drive.do("quality_mgr", pid, "dispose", disposition(("regrade", "500")), meaning="approved") == 200
    assert Lot.objects.get(number="IQC-HOLD-1").status == LotStatus.RELEASED
    response = api_client("warehouse").post(MOVEMENTS, movement("issue", lot="IQC-HOLD-1"), format="json")
    assert response.status_code == 201, response.content
    row = MaterialMovement.objects.get(lot_number="IQC-HOLD-1")
    assert row.kind == "issue" and row.quantity == 100 and row.recorded_by.username == "warehouse"
    entry = AuditEntry.objects.get(action="material.issued")
    assert entry.new_values["lot"] == "IQC-HOLD-1" and entry.new_values["work_order"] == "WO-2026-0315 line 2"
    listed = api_client("quality").get(MOVEMENTS + "?kind=issue").json()
    assert listed["count"] == 1 and listed["results"][0]["lot_number"] == "IQC-HOLD-1"


def test_a_customer_return_holds_the_lot_against_issue_too(people):
    """The hold of a customer return (inspected) blocks an issue of that lot the same way."""
    drive = p2_drivers()["api"]()
    from p2_support import inspection, intake

    pid = drive.start("market", intake(lot="L2026-0815"))
    assert drive.do("quality", pid, "inspect", inspection(), meaning="authored") == 200
    number = case_of(pid).anomaly_report.record.number
    response = api_client("materials").post(MOVEMENTS, movement("issue", lot="L2026-0815"), format="json")
    assert response.status_code == 409 and number in response.json()["detail"]


def test_the_page_records_a_movement_and_refuses_a_held_lot(people):
    drive = p2_drivers()["api"]()
    start_internal(drive, "quality", internal("ipqc", lot="IPQC-PAGE-1"))
    client = web_client("materials")
    url = "/qms/material_movements/"
    assert client.get(url).status_code == 200
    response = client.post(url, movement("issue", lot="IPQC-PAGE-1"))
    assert response.status_code == 409
    assert "IPQC-PAGE-1" in response.content.decode() and 'id="movement-error"' in response.content.decode()
    assert not MaterialMovement.objects.exists()
    response = client.post(url, movement("issue", lot="IPQC-FREE-1"))
    assert response.status_code == 302
    assert MaterialMovement.objects.get().lot_number == "IPQC-FREE-1"
    assert "IPQC-FREE-1" in client.get(url).content.decode()


# --- role matrix: Quality opens internal reports; Materials and the store move lots --------------------------------


@pytest.fixture
def world(people):
    User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")


def test_api_internal_start_only_quality(world):
    def client_of(role):
        client = api_client(role)
        client.role = role  # who signs
        return client

    def post(client):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return client.post(API_INTERNAL, {**internal("ipqc", lot="IPQC-ROLE"),
                                              "signature": signature(client.role, "authored")}, format="json")

    check(client_of, post, {"*": 403, "anonymous": 401, "quality": 201, "quality_mgr": 201})


def test_web_internal_start_page_only_quality(world):
    check(web_client, lambda c: c.get(f"{web_base()}/start_internal/"),
          {"*": 403, "anonymous": 302, "quality": 200, "quality_mgr": 200})


def test_api_material_movements_only_materials_and_the_store(world):
    check(api_client, lambda c: c.post(MOVEMENTS, movement("receipt", lot="FREE-ROLE"), format="json"),
          {"*": 403, "anonymous": 401, "materials": 201, "warehouse": 201})
    members = {role: 200 for role in ROLES if role not in ("anonymous", "outsider")}
    check(api_client, lambda c: c.get(MOVEMENTS), {**members, "*": 200, "anonymous": 401})
    check(web_client, lambda c: c.get("/qms/material_movements/"),
          {**members, "*": 403, "anonymous": 302})


# --- bad input: 400, nothing saved ---------------------------------------------------------------------------------


def nothing_saved():
    assert not ComplaintCase.objects.exists() and not AnomalyReport.objects.exists()
    assert not Lot.objects.exists() and not Record.objects.filter(record_type="anomaly_report").exists()
    assert not Process.objects.exists()


@pytest.mark.parametrize("change, field", [
    ({"supplier": ""}, "supplier"),  # an IQC names its supplier
    ({"quantity_defective": "81"}, "quantity_defective"),  # more defects than inspected
    ({"quantity_inspected": "501"}, "quantity_inspected"),  # more inspected than the lot
    ({"sample_size": "600"}, "sample_size"),
    ({"lot_size": "0"}, "lot_size"),
    ({"quantity_defective": "0"}, "quantity_defective"),  # no defect: no anomaly report
    ({"lot_number": "  "}, "lot_number"),
    ({"origin": "customer_return"}, "origin"),
    ({"product": "NO-SUCH"}, "product"),
    ({"inspected_on": today(3)}, "inspected_on"),
    ({"actions": ["bribe"]}, "actions"),
])
def test_bad_internal_report_is_refused_with_nothing_saved(people, change, field):
    client = api_client("quality")
    response = client.post(API_INTERNAL, {**internal("iqc"), **change, "signature": signature("quality", "authored")},
                           format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    nothing_saved()


def test_bad_internal_report_in_the_browser_shows_the_errors_and_saves_nothing(people):
    drive = p2_drivers()["web"]()
    response = drive._post_step(drive.client("quality"), f"{drive.base}/start_internal/", "quality",
                                internal("iqc", supplier=""), "authored", "")
    assert response.status_code == 200 and 'id="field-supplier"' in response.content.decode()
    nothing_saved()


def test_unknown_field_and_missing_signature_are_refused(people):
    client = api_client("quality")
    response = client.post(API_INTERNAL, {**internal(), "signature": signature("quality", "authored"),
                                          "colour": "red"}, format="json")
    assert response.status_code == 400
    assert client.post(API_INTERNAL, internal(), format="json").status_code == 400
    nothing_saved()


@pytest.mark.parametrize("body, field", [
    (movement("issue", quantity="0"), "quantity"),
    (movement("issue", work_order=""), "work_order"),
    (movement("receipt", supplier=""), "supplier"),
    (movement("transfer"), "kind"),
    (movement("issue", product="NO-SUCH"), "product"),
    (movement("issue", moved_on=today(2)), "moved_on"),
    ({**movement("issue"), "colour": "red"}, "colour"),
])
def test_bad_movement_is_refused_with_nothing_saved(people, body, field):
    response = api_client("materials").post(MOVEMENTS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not MaterialMovement.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="material.").exists()


def test_movement_body_must_be_a_json_object(people):
    response = api_client("materials").post(MOVEMENTS, json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert not MaterialMovement.objects.exists()
