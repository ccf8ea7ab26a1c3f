"""DOC-11, SIG-3: records past their retention period are listed for disposition;
destruction needs the Quality manager's signed approval (password, reason), leaves
a tombstone, is audited, and keeps verify_audit clean; nothing is destroyed by a job."""
import os

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from core.errors import InvalidInput, NotPermitted, SignatureRefused, WrongState
from core.models import AuditEntry, Record, RecordFile, RecordVersion, Signature
from evidence import retention
from core.models import Tombstone
from evidence_support import record  # noqa: F401  (fixture)
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("credentials_kept_fresh")]  # years pass


def later(record, years=11):
    return time_machine.travel(record.created_at + relativedelta(years=years), tick=False)


def logged_in(user):
    """A browser session; the password counts as changed now (time has moved on by years)."""
    from django.utils import timezone

    type(user).objects.filter(pk=user.pk).update(password_changed_at=timezone.now())
    client = Client()
    client.force_login(user)
    return client


def verify(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
        raise SystemExit(0)
    return exit_info.value.code, capsys.readouterr().out


def test_retention_comes_from_the_governing_form_document_else_the_default(record):
    from procedures.documents.models import Document

    assert retention.retention_years(record.record_type) == 10
    Document.objects.create(number="QR-MK-001", title_zh="订单评审记录表", title_en="Order review record",
                            doc_type="form", owner_department="market", retention_years=3,
                            governs_record_type=record.record_type)
    assert retention.retention_years(record.record_type) == 3
    with later(record, years=4):
        assert list(retention.past_retention()) == [record]


def test_a_record_inside_its_retention_period_is_not_due_and_cannot_be_destroyed(record, people):
    with later(record, years=9):
        assert record not in retention.past_retention()
        with pytest.raises(WrongState, match=record.number):
            retention.destroy_record(record, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="due")
    assert not Tombstone.objects.exists()


def test_a_record_past_retention_cannot_be_destroyed_without_the_signed_approval(record, people):
    versions = {v.pk: v.data for v in record.versions.all()}
    with later(record):
        assert list(retention.past_retention()) == [record]
        with pytest.raises(SignatureRefused):
            retention.destroy_record(record, actor=people["quality_mgr"], password="wrong", reason="retention over")
        with pytest.raises(InvalidInput):
            retention.destroy_record(record, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason=" ")
        for someone in ("quality", "market_mgr", "gm"):
            with pytest.raises(NotPermitted):
                retention.destroy_record(record, actor=people[someone], password=DEMO_PASSWORD, reason="over")
        client = logged_in(people["quality_mgr"])
        response = client.post(f"/qms/evidence/disposition/{record.number}/", {"reason": "over", "password": ""})
        assert response.status_code == 400
        staff = logged_in(people["quality"])
        assert staff.get("/qms/evidence/disposition/").status_code == 403
        assert staff.post(f"/qms/evidence/disposition/{record.number}/",
                          {"reason": "over", "password": DEMO_PASSWORD}).status_code == 403
    record.refresh_from_db()
    assert record.status != retention.DESTROYED and not Tombstone.objects.exists()
    assert {v.pk: v.data for v in record.versions.all()} == versions
    assert AuditEntry.objects.filter(action="esign.failed", actor=people["quality_mgr"]).exists()


def test_destruction_with_the_quality_managers_signed_approval_leaves_a_tombstone(
        record, people, capsys, django_capture_on_commit_callbacks):
    hashes = {str(v.version): v.content_hash for v in record.versions.all()}
    paths = [f.file.path for f in RecordFile.objects.filter(record_version__record=record)]
    assert paths and all(os.path.exists(p) for p in paths)
    with later(record):
        client = logged_in(people["quality_mgr"])
        queue = client.get("/qms/evidence/disposition/")
        assert queue.status_code == 200 and record.number.encode() in queue.content
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/qms/evidence/disposition/{record.number}/",
                                   {"reason": "保存期满 retention period over", "password": DEMO_PASSWORD})
        assert response.status_code == 302
    record.refresh_from_db()
    tombstone = Tombstone.objects.get(number=record.number)
    assert record.status == "destroyed" and tombstone.record_type == record.record_type
    assert tombstone.version_hashes == hashes
    assert tombstone.last_content_hash == hashes[str(record.current_version)]
    assert tombstone.approved_by == people["quality_mgr"] and tombstone.reason == "保存期满 retention period over"
    assert tombstone.approval.meaning == "approved" and tombstone.approval.signer == people["quality_mgr"]
    assert all(v.data == {"destroyed": record.number} for v in RecordVersion.objects.filter(record=record))
    assert not any(os.path.exists(p) for p in paths)
    entry = AuditEntry.objects.get(action="record.destroyed")
    assert entry.actor == people["quality_mgr"] and entry.new_values["version_hashes"] == hashes
    code, out = verify(capsys)
    assert code == 0, out
    client = logged_in(people["quality"])
    page = client.get(f"/qms/records/{record.number}/")
    assert page.status_code == 200 and b'id="tombstone"' in page.content
    with later(record):
        assert record not in retention.past_retention()
        with pytest.raises(WrongState):
            retention.destroy_record(Record.objects.get(pk=record.pk), actor=people["quality_mgr"],
                                     password=DEMO_PASSWORD, reason="again")


def test_a_tampered_destroyed_record_is_still_detected(record, people, capsys):
    from test_integrity import tamper

    with later(record):
        retention.destroy_record(record, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="over")
    version = RecordVersion.objects.filter(record=record).order_by("version").first()
    tamper("UPDATE core_recordversion SET content_hash = %s WHERE id = %s", ["f" * 64, version.pk])
    code, out = verify(capsys)
    assert code == 1 and f"FAIL record version {record.number} v{version.version}: destroyed record" in out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers exist on PostgreSQL")
def test_the_append_only_trigger_is_back_after_a_destruction(record, people):
    with later(record):
        retention.destroy_record(record, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="over")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_recordversion SET data = '{}'")
    assert Signature.objects.filter(step="disposition").count() == 1


def test_no_scheduled_job_destroys_records():
    from django.conf import settings

    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert not any("destroy" in task or "dispos" in task for task in tasks)


def test_the_queue_and_the_tombstones_are_paged_with_their_totals_nothing_cut(record, people, monkeypatch):
    """Issue 15.2, nothing silently cut: the disposition queue stopped at 500 records and the tombstones at 100,
    with no sign. Each list is paged with its total, and each keeps its own page in the address."""
    from evidence import views

    monkeypatch.setattr(views, "DISPOSITION_PAGE", 2)
    from core.records import create_record

    with time_machine.travel(record.created_at, tick=False):  # four more records of the same type and age
        others = [create_record(record.record_type, actor=people["market"], status="approved",
                                data={"note": f"记录 record {n}"}) for n in range(1, 5)]
    with later(record):
        client = logged_in(people["quality_mgr"])
        for other in others[2:]:
            retention.destroy_record(other, actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="over")
        first = client.get("/qms/evidence/disposition/").content.decode()
        assert "3 条记录已超过保存期限。" in first  # the page speaks the default language, zh-Hans
        due_numbers = [n for n in [record.number, *[o.number for o in others[:2]]] if f">{n}</a>" in first]
        assert due_numbers == [record.number, others[0].number]  # oldest first, two to a page
        assert 'href="?page=2#due"' in first and 'id="tombstones-total">2<' in first
        assert "tombstones-pages" not in first  # two tombstones: one page, no pager
        second = client.get("/qms/evidence/disposition/?page=2").content.decode()
        assert f">{others[1].number}</a>" in second and f">{record.number}</a>" not in second
        assert 'href="?page=1#due"' in second
        retention.destroy_record(others[1], actor=people["quality_mgr"], password=DEMO_PASSWORD, reason="over")
        page = client.get("/qms/evidence/disposition/?page=1&tombstones=2").content.decode()
        assert 'id="tombstones-total">3<' in page and "2 条记录已超过保存期限。" in page
        assert page.count("class=\"qms-hash\">") == 1  # the third tombstone alone on its page
        assert 'href="?page=1&amp;tombstones=1#tombstones"' in page  # the queue's page kept
        assert client.get("/qms/evidence/disposition/?page=x&tombstones=99").status_code == 200  # the nearest page
