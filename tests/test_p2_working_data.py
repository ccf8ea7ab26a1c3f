"""SIG-1: verify_audit compares each record's working data with its last version. A
freshly made complaint must verify without a warning: amounts are snapshotted as one
canonical type (a Decimal, stored as its normalised string), whether the case was
just created in memory (default 0) or read back from the database (Decimal('0.00'))."""
import pytest
from django.core.management import call_command
from flow_driver import act, start
from p2_support import FLOW, disposition, inspection, intake, judgement, receipt

from core.canonical import jsonable
from core.verification import working_data_warnings
from procedures.complaints import actions as p2
from procedures.complaints.models import ComplaintCase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_pdfs(monkeypatch):
    from p2_support import skip_rendering

    skip_rendering(monkeypatch)


def test_a_freshly_registered_complaint_verifies_without_a_warning(people, capsys):
    process = start(FLOW, "start", people["market"], intake())
    case = ComplaintCase.objects.get(record__process=process)
    stored = case.record.get_version().data
    assert stored["cost"] == "0"
    assert jsonable(p2.feedback_snapshot(case)) == stored
    assert [w for w in working_data_warnings() if w.ident == case.record.number] == []
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "working data differs" not in out and "OK: every hash and link verifies" in out


def test_an_open_case_with_a_disposition_cost_verifies_without_a_warning(people, capsys):
    process = start(FLOW, "start", people["market"], intake())
    act(process, "inspect", people["quality"], inspection(), meaning="authored")
    act(process, "judge", people["quality_mgr"], judgement(True), meaning="reviewed")
    act(process, "hand_over", people["market"], {})
    act(process, "receive", people["materials"], receipt(), meaning="authored")
    act(process, "dispose", people["quality_mgr"], disposition(("scrap", "120"), cost="350.50"), meaning="approved")
    case = ComplaintCase.objects.get(record__process=process)
    assert case.record.get_version().data["cost"] == "350.5"
    assert list(working_data_warnings()) == []


def test_an_altered_cost_in_the_working_data_is_still_reported(people):
    """The denied case: the comparison still catches a working row that differs."""
    process = start(FLOW, "start", people["market"], intake())
    case = ComplaintCase.objects.get(record__process=process)
    ComplaintCase.objects.filter(pk=case.pk).update(cost="12.00")
    warnings = [w for w in working_data_warnings() if w.ident == case.record.number]
    assert len(warnings) == 1 and "working data differs" in warnings[0].detail
