"""P3's record snapshot reads the 8D report's nine child tables in one statement (core.prefetch.read_related,
issue 15.4: the signed plan approval 33 -> 25 queries). The report it prints is the one Django's
prefetch_related() gives, byte for byte (canonical JSON: the content hash), on SQLite and on PostgreSQL, with
every kind of value the tables hold: dates, aware date-times, booleans and a NULL boolean, files, NULL foreign
keys and foreign keys two joins away."""
import datetime

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import records as core_records
from core.canonical import canonical_json
from core.prefetch import read_related
from p3_support import skip_rendering, through_d7_with_a_document_change
from procedures.capa import records
from procedures.capa.models import (
    ActionAttachment, CapaAction, CapaCase, CapaSection, DueDateChange, EffectivenessCheck, PreventionItem,
)

pytestmark = pytest.mark.django_db

DJANGO_PREFETCHES = (  # what snapshot() was read with before: one query per table
    "members", "whys", "causes",
    Prefetch("checks", queryset=EffectivenessCheck.objects.select_related("planned_by", "verified_by")),
    Prefetch("sections", queryset=CapaSection.objects.select_related("owner")),
    Prefetch("actions", queryset=CapaAction.objects.select_related("owner")),
    "actions__attachments",
    Prefetch("actions__extensions", queryset=DueDateChange.objects.select_related("requested_by", "decided_by")),
    Prefetch("prevention_items", queryset=PreventionItem.objects.select_related(
        "document", "change_revision__document", "change_revision__record")),
)


@pytest.fixture
def full_case(people, monkeypatch):
    """A case through D7 with a document change raised, then every child table given rows of each shape."""
    skip_rendering(monkeypatch)
    process = through_d7_with_a_document_change(people, "IA-2026-08", owners=("production", "engineering"),
                                                members=("production", "warehouse"))
    case = CapaCase.objects.get(record__process=process)
    action = case.actions.order_by("position").first()
    ActionAttachment.objects.create(action=action, file="capa/2026/12/evidence.pdf", original_name="证据 evidence.pdf",
                                    content_type="application/pdf", size=48213, sha256="ab" * 32,
                                    uploaded_by=people["production"])
    moment = timezone.now().replace(microsecond=0)  # a whole second: stored without a fraction
    DueDateChange.objects.create(action=action, old_due_date=action.due_date,
                                 new_due_date=action.due_date + datetime.timedelta(days=7), reason="等待 waiting",
                                 requested_by=people["production"], requested_at=moment)
    DueDateChange.objects.create(action=action, old_due_date=action.due_date,
                                 new_due_date=action.due_date + datetime.timedelta(days=3), reason="再等 again",
                                 requested_by=people["production"], status="approved",
                                 decided_by=people["quality_mgr"], decided_at=timezone.now(), decision_reason="可以 ok")
    EffectivenessCheck.objects.create(case=case, round=2, verification_date=timezone.localdate(),
                                      planned_by=people["quality_mgr"], effective=None)
    return case


def test_the_snapshot_read_in_one_statement_is_the_one_prefetch_related_gives(full_case, people):
    reference = CapaCase.objects.select_related(*records.SNAPSHOT_RELATED).prefetch_related(
        *DJANGO_PREFETCHES).get(pk=full_case.pk)
    case = CapaCase.objects.select_related(*records.SNAPSHOT_RELATED).get(pk=full_case.pk)
    with CaptureQueriesContext(connection) as reads:
        read_related(case, records.SNAPSHOT_CHILDREN)
        data = records.snapshot(case)
    assert len(reads) == 1 and "UNION ALL" in reads[0]["sql"], [q["sql"][:200] for q in reads]
    expected = records.snapshot(reference)
    assert canonical_json(data) == canonical_json(expected)
    # every shape is there, so the comparison covers it
    actions = data["rounds"][0]["actions"]
    assert actions[0]["attachments"][0]["size"] == 48213 and len(actions[0]["due_date_history"]) == 2
    assert {e["decided_by"] == "" for e in actions[0]["due_date_history"]} == {True, False}
    assert data["rounds"][0]["effectiveness"]["effective"] is True
    assert any(c["causes"] for c in data["rounds"][0]["fishbone"])
    assert len(data["rounds"]) == 1 and data["team"]["members"] and data["sections"]
    assert [p["change_request"] is None for p in data["prevention"]] == [True, False]
    assert data["prevention"][1]["document"] == "QP-MK-01"
    # the rows are kept as prefetch_related() keeps them: each child knows its parent, nothing more is read
    with CaptureQueriesContext(connection) as more:
        action = case.actions.all()[0]
        assert action.case is case and action.attachments.all()[0].action is action
        assert action.owner.username and case.checks.all()[1].effective is None
        assert case.checks.all()[1].verified_by is None
        assert [c.round for c in case.checks.all()] == [1, 2]
    assert len(more) == 0, [q["sql"][:200] for q in more]

    # verify_audit's rebuild (snapshot_for_record) and a step's version (load_children) read the same way
    version = core_records.add_version(full_case.record, actor=people["quality_mgr"], reason="D7 prevention",
                                       data=records.snapshot_for_record(full_case.record), status=full_case.status)
    assert canonical_json(version.data) == canonical_json(records.snapshot_for_record(full_case.record))
    locked = CapaCase.objects.select_related(*records.SNAPSHOT_RELATED).get(pk=full_case.pk)
    assert canonical_json(records.snapshot(records.load_children(locked))) == canonical_json(version.data)


def test_a_relation_read_before_its_parent_or_below_a_many_to_many_is_refused():
    case = CapaCase(pk=1)  # refused before anything is read
    with pytest.raises(ValueError, match="name 'actions' before 'actions__attachments'"):
        read_related(case, {"actions__attachments": ()})
    with pytest.raises(ValueError, match="many-to-many"):
        read_related(case, {"members": (), "members__capa_actions": ()})
    with pytest.raises(ValueError, match="not a foreign key"):
        read_related(case, {"actions": ("attachments",)})


def test_rows_are_put_in_meta_ordering_with_nulls_where_postgresql_puts_them():
    from core.prefetch import _ordered

    rows = [EffectivenessCheck(pk=pk, round=round) for round, pk in [(2, None), (1, 7), (1, None), (1, 3)]]
    assert [(r.round, r.pk) for r in _ordered(EffectivenessCheck, rows)] == [(1, 3), (1, 7), (1, None), (2, None)]
