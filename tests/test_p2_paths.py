"""P2 paths (complaints and returns), each walked through the REST API and through the
browser URLs: the resulting state, lot holds, records, signatures and audit rows."""
import pytest
from viewflow.workflow.models import Process

from core.models import AuditEntry, Record, RecordFile, Signature
from drivers import open_steps
from procedures.complaints.models import (
    ComplaintCase,
    ComplaintStatus,
    Disposition,
    DispositionRule,
    DispositionStatus,
    LotStatus,
)
from p2_support import (
    acceptance,
    capa,
    disposition,
    inspection,
    intake,
    judgement,
    p2_drivers,
    photo,
    walk_to_disposition,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["api", "web"])
def drive(request, people):
    return p2_drivers()[request.param]()


@pytest.fixture
def no_pdfs(monkeypatch):
    """Paths whose PDFs are not under test skip WeasyPrint (the kinds and the
    not-justified path check that every record of a case is rendered)."""
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)


def case_of(pid):
    return ComplaintCase.objects.select_related("lot", "record").get(record__process_id=pid)


def actions(pid):
    return list(AuditEntry.objects.filter(process_id=pid).order_by("seq").values_list("action", flat=True))


def finish_with_capa(drive, pid, required=True):
    assert open_steps(pid) == ["decide_capa"]
    reason = "" if required else "单次运输事故，已有措施 one-off transport damage, already handled"
    assert drive.do("quality_mgr", pid, "decide_capa", capa(required, reason), meaning="reviewed") == 200
    assert open_steps(pid) == []
    assert Process.objects.get(pk=pid).status == "DONE"


def test_return_not_justified_goes_to_negotiation_and_closes_releasing_the_hold(drive):
    pid = drive.start("market", intake())
    assert open_steps(pid) == ["inspect"]
    assert drive.do("quality", pid, "inspect", inspection(defective="0"), meaning="authored") == 200
    case = case_of(pid)
    assert case.lot.status == LotStatus.ON_HOLD and case.lot_held  # NC-1
    assert drive.do("quality_mgr", pid, "judge", judgement(False), meaning="reviewed") == 200
    assert open_steps(pid) == ["negotiate"]
    assert drive.do("market", pid, "negotiate", {"outcome": "goods_sent_back", "amount": "80",
                                                 "notes": "货物退回客户，运费我司承担 goods back, we pay freight"},
                    meaning="authored") == 200
    assert Process.objects.get(pk=pid).status == "DONE"
    case = case_of(pid)
    assert case.status == ComplaintStatus.CLOSED and case.justified is False and case.cost == 80
    assert case.lot.status == LotStatus.RELEASED and not case.lot_held
    assert not hasattr(case, "material_receipt") or case.material_receipt is None
    trail = actions(pid)
    assert trail.index("lot.held") < trail.index("complaint.judged") < trail.index("lot.released")
    case.record.refresh_from_db()
    data = case.record.get_version().data
    assert data["judgement"]["label"] == "不成立 Not justified" and data["outcome"]["code"] == "goods_sent_back"
    assert data["lot"]["status"] == "released"
    assert RecordFile.objects.filter(record_version__record=case.record, kind="pdf").exists()


@pytest.mark.parametrize("code, signer, reinspect", [
    ("concession", "gm", False),
    ("rework", None, True),
    ("repair", None, True),
    ("regrade", None, False),
    ("scrap", None, False),
    ("return_to_supplier", "materials", False),
])
def test_justified_return_through_each_disposition_kind_to_release(drive, code, signer, reinspect):
    pid = walk_to_disposition(drive)
    assert open_steps(pid) == ["dispose"]
    assert drive.do("quality_mgr", pid, "dispose", disposition((code, "120")), meaning="approved") == 200, \
        drive.last_response.content[:2000]
    if signer:
        assert open_steps(pid) == ["sign_disposition"]
        assert case_of(pid).lot.status == LotStatus.ON_HOLD  # not released on the QM's signature alone
        assert drive.do(signer, pid, "sign_disposition", {"comment": "同意 agreed"}, meaning="approved") == 200
    if reinspect:
        assert open_steps(pid) == ["reinspect"]
        assert case_of(pid).lot.status == LotStatus.ON_HOLD  # NC-5: not before the re-inspection
        assert drive.do("quality", pid, "reinspect", {"quantity_passed": "120", "quantity_failed": "0",
                                                      "result": "全检合格 100 % inspected, all pass"},
                        meaning="verified") == 200
    case = case_of(pid)
    assert case.lot.status == LotStatus.RELEASED, "the hold is released once the disposition is complete"
    finish_with_capa(drive, pid)
    case = case_of(pid)
    assert case.status == ComplaintStatus.CLOSED and case.capa_required is True
    d = Disposition.objects.get(report__case=case)
    assert d.status == DispositionStatus.COMPLETED and [l.code for l in d.lines.all()] == [code]
    report = case.anomaly_report.record
    meanings = sorted(Signature.objects.filter(record_version__record=report).values_list("meaning", flat=True))
    expected = ["approved", "authored", "reviewed"] + (["approved"] if signer else []) \
        + (["verified"] if reinspect else [])
    assert meanings == sorted(expected)
    trail = actions(pid)
    assert trail.index("lot.held") < trail.index("complaint.disposed") < trail.index("lot.released")
    assert "complaint.capa_decided" in trail
    # the three records of the case, each with its PDF
    types = set(Record.objects.filter(process_id=pid).values_list("record_type", flat=True))
    assert types == {"quality_feedback", "anomaly_report", "material_receipt"}
    for record in Record.objects.filter(process_id=pid):
        assert RecordFile.objects.filter(record_version__record=record, kind="pdf").exists(), record.number


def test_split_disposition_collects_every_signature_the_codes_need(drive, no_pdfs):
    pid = walk_to_disposition(drive, intake(contract_requires_acceptance=True))
    assert drive.do("quality_mgr", pid, "dispose",
                    disposition(("concession", "50"), ("rework", "30"), ("scrap", "25"), ("return_to_supplier", "15")),
                    meaning="approved") == 200, drive.last_response.content[:2000]
    # NC-8: General Manager (concession) and procurement (return to supplier), one task each
    assert open_steps(pid) == ["sign_disposition", "sign_disposition"]
    assert drive.do("gm", pid, "sign_disposition", {"comment": "同意特采"}, meaning="approved") == 200
    assert open_steps(pid) == ["sign_disposition"]
    assert drive.do("materials", pid, "sign_disposition", {}, meaning="approved") == 200
    # NC-4: the contract requires the customer's acceptance of the concession
    assert open_steps(pid) == ["customer_acceptance"]
    assert drive.do("market", pid, "customer_acceptance", acceptance(True), meaning="authored") == 200
    assert open_steps(pid) == ["reinspect"]
    assert case_of(pid).lot.status == LotStatus.ON_HOLD
    assert drive.do("quality", pid, "reinspect", {"quantity_passed": "30", "quantity_failed": "0",
                                                  "result": "返工品全检合格 reworked parts all pass"},
                    meaning="verified") == 200
    assert case_of(pid).lot.status == LotStatus.RELEASED
    finish_with_capa(drive, pid, required=False)
    case = case_of(pid)
    assert case.capa_required is False and "one-off" in case.capa_reason
    d = Disposition.objects.get(report__case=case)
    assert {l.code: int(l.quantity) for l in d.lines.all()} == {
        "concession": 50, "rework": 30, "scrap": 25, "return_to_supplier": 15}
    assert sorted(s.signer_role for s in d.signoffs.all()) == ["management:manager", "materials:staff"]
    acc = d.customer_acceptance
    assert acc.accepted and acc.customer_person == "陈先生 Mr. Chen (SQE)" and acc.reference.startswith("E-mail")
    report = case.anomaly_report
    report.record.refresh_from_db()
    data = report.record.get_version().data
    assert [s["label"] for s in data["dispositions"][0]["required_signers"]] == [
        "总经理 General Manager", "资材部 Materials / Procurement staff"]
    assert data["dispositions"][0]["customer_acceptance"]["accepted"] is True
    assert data["lot"]["status"] == "released"


def test_a_rejected_disposition_goes_back_to_the_quality_manager_and_cancels_open_signatures(drive, no_pdfs):
    pid = walk_to_disposition(drive)
    assert drive.do("quality_mgr", pid, "dispose", disposition(("concession", "100"), ("return_to_supplier", "20")),
                    meaning="approved") == 200
    assert drive.do("gm", pid, "sign_disposition", {}, meaning="rejected", reason="外观不可接受 not acceptable") == 200
    assert open_steps(pid) == ["dispose"], "the procurement signature still open is cancelled"
    cancelled = AuditEntry.objects.get(action="task.cancelled", process_id=pid)
    assert cancelled.reason == "quorum reached" and cancelled.new_values["outcome"] == "rejected"
    case = case_of(pid)
    assert case.lot.status == LotStatus.ON_HOLD and case.status == ComplaintStatus.DISPOSITION
    assert drive.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")), meaning="approved") == 200
    assert case_of(pid).lot.status == LotStatus.RELEASED
    revisions = list(Disposition.objects.filter(report__case=case).order_by("revision"))
    assert [(d.revision, d.status) for d in revisions] == [
        (1, DispositionStatus.REJECTED), (2, DispositionStatus.COMPLETED)]
    assert revisions[0].signoffs.get().comment == "" and not revisions[0].signoffs.get().approved
    assert Signature.objects.filter(meaning="rejected", reason="外观不可接受 not acceptable").exists()
    signed = AuditEntry.objects.get(action="complaint.disposition_signed", process_id=pid)
    assert signed.reason == "外观不可接受 not acceptable", "the signer's stated reason reaches the audit entry"
    assert signed.new_values["decision"] == "rejected"
    finish_with_capa(drive, pid)


def test_a_customer_refusing_the_concession_sends_the_lot_back_to_disposition(drive, no_pdfs):
    pid = walk_to_disposition(drive, intake(contract_requires_acceptance=True))
    assert drive.do("quality_mgr", pid, "dispose", disposition(("concession", "120")), meaning="approved") == 200
    assert drive.do("gm", pid, "sign_disposition", {}, meaning="approved") == 200
    assert drive.do("market", pid, "customer_acceptance", acceptance(False), meaning="authored") == 200
    assert open_steps(pid) == ["dispose"]
    assert case_of(pid).lot.status == LotStatus.ON_HOLD
    assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "120")), meaning="approved") == 200
    assert drive.do("quality", pid, "reinspect", {"quantity_passed": "120", "quantity_failed": "0", "result": "OK"},
                    meaning="verified") == 200
    finish_with_capa(drive, pid)


def test_a_failed_re_inspection_sends_the_lot_back_to_disposition(drive, no_pdfs):
    pid = walk_to_disposition(drive)
    assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "100"), ("scrap", "20")),
                    meaning="approved") == 200
    assert drive.do("quality", pid, "reinspect", {"quantity_passed": "90", "quantity_failed": "10",
                                                  "result": "10 件仍有划伤 10 still scratched"},
                    meaning="verified") == 200
    assert open_steps(pid) == ["dispose"]
    assert case_of(pid).lot.status == LotStatus.ON_HOLD
    assert drive.do("quality_mgr", pid, "dispose", disposition(("rework", "90"), ("scrap", "30")),
                    meaning="approved") == 200
    assert drive.do("quality", pid, "reinspect", {"quantity_passed": "90", "quantity_failed": "0", "result": "OK"},
                    meaning="verified") == 200
    assert case_of(pid).lot.status == LotStatus.RELEASED
    finish_with_capa(drive, pid)


def test_a_complaint_without_returned_goods_is_investigated_settled_and_never_holds_a_lot(drive, no_pdfs):
    pid = drive.start("market", intake(kind="complaint", lot="", quantity="30", defect="packaging"),
                      files={"photos": [photo("label.png"), photo("box.jpg", "JPEG")]})
    case = case_of(pid)
    assert case.photos.count() == 2 and not case.goods_returned
    assert drive.do("quality", pid, "inspect", inspection(inspected=None, defective=None), meaning="authored") == 200
    assert drive.do("quality_mgr", pid, "judge", judgement(True), meaning="reviewed") == 200
    assert open_steps(pid) == ["settle"]
    assert drive.do("market", pid, "settle", {"outcome": "replacement", "amount": "260",
                                              "notes": "补发 30 件 30 pcs replaced"}, meaning="authored") == 200
    finish_with_capa(drive, pid)
    case = case_of(pid)
    assert case.lot is None and case.cost == 260 and case.outcome == "replacement"
    assert not any(a.startswith("lot.") for a in actions(pid))
    assert set(Record.objects.filter(process_id=pid).values_list("record_type", flat=True)) == {
        "quality_feedback", "anomaly_report"}
    data = case.anomaly_report.record.get_version().data
    assert data["source"] == "customer_complaint" and data["quantity_inspected"] is None


def test_a_complaint_without_goods_not_justified_closes_after_negotiation(drive, no_pdfs):
    pid = drive.start("market", intake(kind="complaint", lot="", quantity="5"))
    assert drive.do("quality", pid, "inspect", inspection(inspected=None, defective=None), meaning="authored") == 200
    assert drive.do("quality_mgr", pid, "judge", judgement(False), meaning="reviewed") == 200
    assert drive.do("market", pid, "negotiate", {"outcome": "customer_withdrew", "notes": "客户撤诉 withdrawn"},
                    meaning="authored") == 200
    assert Process.objects.get(pk=pid).status == "DONE"
    assert case_of(pid).capa_required is None


def test_photos_at_intake_and_inspection_are_stored_with_their_hashes(drive, no_pdfs):
    pid = drive.start("market", intake(), files={"photos": [photo("a.png")]})
    assert drive.do("quality", pid, "inspect", inspection(), meaning="authored",
                    files={"photos": [photo("b.jpg", "JPEG"), photo("c.png")]}) == 200
    case = case_of(pid)
    assert sorted((p.stage, p.original_name) for p in case.photos.all()) == [
        ("inspection", "b.jpg"), ("inspection", "c.png"), ("intake", "a.png")]
    report = case.anomaly_report.record.get_version().data
    assert [p["name"] for p in report["photos"]] == ["b.jpg", "c.png"]
    assert all(len(p["sha256"]) == 64 for p in report["photos"])


def test_a_repeat_complaint_is_flagged_with_its_count(drive, settings, no_pdfs):
    first = drive.start("market", intake(kind="complaint", lot=""))
    second = drive.start("market", intake(kind="complaint", lot=""))
    other_defect = drive.start("market", intake(kind="complaint", lot="", defect="dimension"))
    assert case_of(first).repeat_count == 0
    assert case_of(second).repeat_count == 1
    assert case_of(other_defect).repeat_count == 0
    data = case_of(second).record.get_version().data
    assert data["repeat_count"] == 1 and data["repeat_window_days"] == 180
    settings.QMS = {**settings.QMS, "REPEAT_COMPLAINT_DAYS": 0}
    ComplaintCase.objects.filter(record__process_id=first).update(
        received_on=case_of(first).received_on.replace(year=case_of(first).received_on.year - 1))
    third = drive.start("market", intake(kind="complaint", lot=""))
    assert case_of(third).repeat_count == 1  # only the second one is within the (0-day) window


def test_the_disposition_rules_are_configurable(drive, no_pdfs):
    DispositionRule.objects.filter(code="scrap").update(signers=["production:manager"])
    pid = walk_to_disposition(drive)
    assert drive.do("quality_mgr", pid, "dispose", disposition(("scrap", "120")), meaning="approved") == 200
    assert open_steps(pid) == ["sign_disposition"]
    assert drive.do("production", pid, "sign_disposition", {}, meaning="approved") in (403, 404)
    assert drive.do("production_mgr", pid, "sign_disposition", {}, meaning="approved") == 200
    assert case_of(pid).lot.status == LotStatus.RELEASED
