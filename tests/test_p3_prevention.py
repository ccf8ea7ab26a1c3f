"""D7 / CA-4: a prevention item raises a document change request (P4) linked both ways;
a needed QMS change can then close the corrective action."""
import pytest

from core.models import AuditEntry, Record
from flow_driver import act, open_tasks, start
from procedures.capa.models import CapaCase, CapaStatus
from p3_support import (
    FLOW,
    closure_data,
    raise_data,
    skip_rendering,
    through_d7_with_a_document_change,
)
from procedures.documents.models import Document

pytestmark = pytest.mark.django_db


def test_a_d7_item_raises_a_document_change_linked_both_ways_and_closes_with_qms_change(people, monkeypatch):
    skip_rendering(monkeypatch)
    process = through_d7_with_a_document_change(people, "IA-2026-07")

    case = CapaCase.objects.get(record__process=process)
    item = case.prevention_items.get(kind="document")
    revision = item.change_revision
    assert revision is not None and revision.document == Document.objects.get(number="QP-MK-01")
    assert revision.raised_from_id == case.record_id  # P4 → P3
    assert list(Record.objects.get(pk=case.record_id).document_changes_raised.all()) == [revision]
    assert [t.flow_task.name for t in open_tasks(revision.process, "edit")] == ["edit"]
    assert AuditEntry.objects.filter(action="document.change_raised_from", record=case.record).exists()

    act(process, "close", people["quality_mgr"], closure_data(qms="yes"), meaning="approved")
    case.refresh_from_db()
    assert case.status == CapaStatus.CLOSED and case.qms_change_needed is True
    assert revision.record.number in case.record.get_version().data["prevention"][1]["change_request"]


def test_a_document_item_that_raises_a_change_must_name_the_document(people, monkeypatch):
    from core.errors import InvalidInput

    skip_rendering(monkeypatch)
    process = start(FLOW, "start", people["quality"], raise_data())
    case = CapaCase.objects.get(record__process=process)
    CapaCase.objects.filter(pk=case.pk).update(status=CapaStatus.PREVENTION)
    from procedures.capa import actions as p3

    with pytest.raises(InvalidInput) as refused:
        p3.record_prevention(case, actor=people["engineering"], data={"prevention": [
            {"kind": "document", "description": "改 change", "document": None, "raise_change": True}]})
    assert "prevention[0].document" in refused.value.field_errors
    assert not case.prevention_items.exists()
