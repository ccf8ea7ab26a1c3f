"""P2 rules tested on the actions directly (the ones the views, the API and the
scheduler call): the lot hold (NC-1), a lot shared by two cases, the CAPA hook,
the record filters and the working data matching the last record versions."""
from decimal import Decimal

import pytest

from accounts.models import scheduler_user
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from api_driver import client_for
from core.canonical import jsonable
from core.errors import InvalidInput, WrongState
from core.models import AuditEntry, Record
from flow_driver import act, start
from procedures.complaints import actions as p2
from procedures.complaints.models import ComplaintCase, Lot, LotStatus
from procedures.complaints.records import snapshot_for_record
from forms.models import Product
from p2_support import FLOW, capa, disposition, inspection, intake, judgement, receipt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)


def to_disposition(people, **extra):
    process = start(FLOW, "start", people["market"], intake(**extra))
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    act(process, "hand_over", people["market"], {})
    act(process, "receive", people["materials"], receipt(), meaning="authored")
    return process


def case_of(process):
    return ComplaintCase.objects.select_related("lot").get(record__process=process)


def test_a_held_lot_may_not_be_used_or_shipped_until_its_disposition_is_complete(people):
    product = Product.objects.get(code="P-1001")
    p2.assert_lot_usable(product, "L2026-0815")  # unknown lot: not held
    process = to_disposition(people)
    with pytest.raises(WrongState) as refused:
        p2.assert_lot_usable(product, "L2026-0815")
    assert refused.value.current_state == LotStatus.ON_HOLD and "L2026-0815" in refused.value.message
    case = case_of(process)
    with pytest.raises(WrongState), transaction.atomic():  # the hold is not released before the disposition
        p2.release_after_disposition(case, actor=people["quality_mgr"])
    act(process, "dispose", people["quality_mgr"], disposition(("scrap", "120")), meaning="approved")
    p2.assert_lot_usable(product, "L2026-0815")
    held = AuditEntry.objects.get(action="lot.held")
    released = AuditEntry.objects.get(action="lot.released")
    # the release is the flow's own step after the last sign-off: the system's, triggered by the approver
    assert held.actor == people["quality"] and released.actor == scheduler_user()
    assert released.new_values.get("triggered_by") == people["quality_mgr"].printed_name
    assert held.new_values["status"] == "on_hold" and released.old_values == {"status": "on_hold"}
    assert held.record == case.record and "QAR-" in released.reason


def test_the_disposition_locks_the_case_with_its_lot_and_sums_the_receipt_in_one_statement(people):
    """Issue 15.4: the disposition's lock is one statement: the case and its lot both locked (PostgreSQL: FOR UPDATE
    OF both), the quantity received summed from the receipt's lines and a first disposition known to have no
    earlier one to read. The split is checked against that sum, fractions included."""
    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    act(process, "hand_over", people["market"], {})
    lines = [{"product": "P-1001", "quantity": q, "lot_number": "L2026-0815", "unit": "pcs"} for q in ("60.1", "59.9")]
    act(process, "receive", people["materials"], receipt(lines=lines), meaning="authored")
    case = case_of(process)
    with pytest.raises(InvalidInput) as refused:  # 120.1 is not what was received
        with transaction.atomic():
            p2.dispose_lot(case, actor=people["quality_mgr"], sign=None,
                           data={"lines": [{"code": "scrap", "quantity": Decimal("120.1")}]})
    assert "120.1" in str(refused.value.field_errors["lines"]) and "120" in refused.value.message
    with CaptureQueriesContext(connection) as queries:
        act(process, "dispose", people["quality_mgr"], disposition(("scrap", "100.05"), ("rework", "19.95")),
            meaning="approved")
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in statements if sql.startswith(('SELECT "forms_lot".', 'SELECT "forms_materialreceiptline".',
                                                            'SELECT "forms_disposition".'))]
    (lock,) = [sql for sql in statements if 'FROM "forms_complaintcase"' in sql and 'INNER JOIN "forms_lot"' in sql]
    if connection.vendor == "postgresql":
        assert 'FOR UPDATE OF "forms_complaintcase", "forms_lot"' in lock
    made = case_of(process).anomaly_report.dispositions.get()
    assert made.lot_quantity == Decimal("120") and made.revision == 1


def test_a_lot_held_by_two_cases_stays_on_hold_until_both_are_disposed(people):
    first, second = to_disposition(people), to_disposition(people)
    assert Lot.objects.count() == 1
    act(first, "dispose", people["quality_mgr"], disposition(("scrap", "120")), meaning="approved")
    lot = Lot.objects.get()
    assert lot.status == LotStatus.ON_HOLD, "the other case still holds it"
    assert AuditEntry.objects.filter(action="lot.hold_kept").exists()
    act(second, "dispose", people["quality_mgr"], disposition(("regrade", "120")), meaning="approved")
    lot.refresh_from_db()
    assert lot.status == LotStatus.RELEASED
    # the release shows on every record naming the lot
    for case in (case_of(first), case_of(second)):
        case.record.refresh_from_db()
        assert case.record.get_version().data["lot"]["status"] == "released"


def test_the_api_shows_held_lots_and_filters_p2_records_by_lot_product_customer_and_status(people):
    to_disposition(people)
    other = start(FLOW, "start", people["market"], intake(customer="C002", product="P-2001", lot="L-OTHER"))
    client = client_for("quality")
    lots = client.get("/api/lots/?status=on_hold").json()
    assert [(l["number"], l["status"], l["on_hold"]) for l in lots["results"]] == [("L2026-0815", "on_hold", True)]
    assert lots["results"][0]["cases"] == [case_of(Record.objects.filter(record_type="quality_feedback")
                                                   .order_by("id").first().process).record.number]

    def numbers(query):
        return sorted(r["number"][:3] for r in client.get(f"/api/records/?{query}").json()["results"])

    assert numbers("lot=L2026-0815") == ["MR-", "QAR", "QF-"]
    assert numbers("lot=L-OTHER") == ["QF-"]
    assert numbers("product=P-2001") == ["QF-"]
    assert numbers("customer=North&type=quality_feedback") == ["QF-"]
    assert numbers("status=inspection") == ["QF-"]
    assert numbers("status=disposition&type=anomaly_report") == ["QAR"]
    record = client.get(f"/api/records/{case_of(other).record.pk}/").json()
    assert record["data"]["lot"] == {**record["data"]["lot"], "number": "L-OTHER", "on_hold": False}


def test_yes_to_corrective_action_calls_the_capa_hook_and_links_its_record(people, monkeypatch):
    calls = []

    def fake_request_capa(case, *, actor):
        calls.append((case.record.number, actor.username))
        return "CA-2026-0007"

    monkeypatch.setattr(p2, "request_capa", fake_request_capa)
    process = to_disposition(people)
    act(process, "dispose", people["quality_mgr"], disposition(("scrap", "120")), meaning="approved")
    act(process, "decide_capa", people["quality_mgr"], capa(True), meaning="reviewed")
    case = case_of(process)
    assert calls == [(case.record.number, "quality_mgr")]
    assert case.capa_reference == "CA-2026-0007"
    entry = AuditEntry.objects.get(action="complaint.capa_decided")
    assert entry.new_values == {"capa_required": True, "capa_reference": "CA-2026-0007"}


def test_no_to_corrective_action_records_the_reason_and_does_not_call_the_hook(people, monkeypatch):
    monkeypatch.setattr(p2, "request_capa", lambda case, actor: pytest.fail("no CAPA was asked for"))
    process = to_disposition(people)
    act(process, "dispose", people["quality_mgr"], disposition(("scrap", "120")), meaning="approved")
    act(process, "decide_capa", people["quality_mgr"], capa(False, "偶发运输损坏 one-off transport damage"),
        meaning="reviewed")
    case = case_of(process)
    assert case.capa_required is False and case.capa_reference == ""
    assert AuditEntry.objects.get(action="complaint.capa_decided").reason == "偶发运输损坏 one-off transport damage"
    assert case.record.get_version().data["capa"]["required"] is False


def test_the_working_data_rebuilds_every_p2_record_exactly_as_last_signed_or_stored(people):
    process = to_disposition(people, contract_requires_acceptance=True)
    act(process, "dispose", people["quality_mgr"], disposition(("concession", "120")), meaning="approved")
    act(process, "sign_disposition", people["gm"], {}, meaning="approved")
    act(process, "customer_acceptance", people["market"], {
        "accepted": "yes", "customer_person": "Mr. Chen", "accepted_on": "2026-01-05", "reference": "mail"},
        meaning="authored")
    act(process, "decide_capa", people["quality_mgr"], capa(True), meaning="reviewed")
    records = Record.objects.filter(process=process)
    assert records.count() == 3
    for record in records:
        assert jsonable(snapshot_for_record(record)) == record.get_version().data, record.number


def test_a_disposition_is_versioned_as_the_report_reads_back_first_and_after_a_rejection(people):
    """dispose_lot() prints the disposition it just made without reading it back (its lines kept from the INSERT,
    no sign-off, acceptance or re-inspection yet) and the earlier revisions from the read that numbers it: the
    version must equal the report read afresh, with the earlier revision's sign-offs."""
    process = to_disposition(people)
    report = case_of(process).anomaly_report.record
    act(process, "dispose", people["quality_mgr"], disposition(("concession", "100"), ("scrap", "20")),
        meaning="approved")
    report.refresh_from_db()
    assert jsonable(snapshot_for_record(report)) == report.get_version().data
    assert [line["quantity"] for line in report.get_version().data["dispositions"][0]["lines"]] == ["100", "20"]
    act(process, "sign_disposition", people["gm"], {}, meaning="rejected", reason="外观不可接受 not acceptable")
    act(process, "dispose", people["quality_mgr"], disposition(("rework", "120")), meaning="approved")
    report.refresh_from_db()
    data = report.get_version().data
    assert jsonable(snapshot_for_record(report)) == data
    assert [d["revision"] for d in data["dispositions"]] == [1, 2]
    assert data["dispositions"][0]["required_signers"][0]["decision"] == "rejected"


def test_a_judgement_signs_the_report_and_the_feedback_form_in_one_act(people):
    """The judgement's one signature act signs both records' new versions (written together): each signature
    is bound to its own version and verifies, each has its own audit entry."""
    from core.esign import signature_problems
    from core.models import Signature

    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    signed = Signature.objects.filter(step="judge").select_related("record_version__record").order_by("id")
    assert [s.record_version.record.record_type for s in signed] == ["anomaly_report", "quality_feedback"]
    for signature in signed:
        assert signature.record_version.version == signature.record_version.record.current_version
        assert signature_problems(signature) == []
        assert AuditEntry.objects.filter(action="esign.signed", object_id=str(signature.pk)).count() == 1


def test_the_default_rules_apply_where_none_is_stored_and_a_stored_rule_overrides_them(db):
    from procedures.complaints.models import DispositionRule

    DispositionRule.objects.all().delete()
    rules = p2.rules_for(["concession", "rework", "return_to_supplier"])
    assert rules["concession"].signers == ["management:manager"] and rules["concession"].customer_acceptance
    assert rules["rework"].reinspection and rules["return_to_supplier"].signers == ["materials:staff"]
    DispositionRule.objects.create(code="concession", signers=["management:manager", "quality:manager"])
    assert p2.required_signers(["concession", "return_to_supplier"]) == [
        "management:manager", "materials:staff", "quality:manager"]
    assert p2.rules_for(["concession"])["concession"].customer_acceptance is False
