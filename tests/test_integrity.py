"""SIG-1, SIG-5, SIG-9: tampering with an audit entry, a record version, a signature
or a stored file is detected and named; on PostgreSQL the database refuses it."""
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from core.esign import signature_problems
from core.models import AuditEntry, RecordFile, RecordVersion, Signature
from p1_driver import act, review_all, start

pytestmark = pytest.mark.django_db


def tamper(sql, params=()):
    """Alter rows behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the append-only triggers
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def verify(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit")
    return exit_info.value.code, capsys.readouterr().out


@pytest.fixture
def approved(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "同意 OK"}, meaning="approved")
    return process


def test_an_untouched_system_verifies_clean(approved, capsys):
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "OK: every hash and link verifies" in out
    assert "FAIL" not in out


def test_altered_audit_entry_is_named(approved, capsys):
    entry = AuditEntry.objects.filter(action="esign.signed").order_by("seq")[1]
    tamper("UPDATE core_auditentry SET reason = %s WHERE id = %s", ["forged", entry.pk])
    code, out = verify(capsys)
    assert code == 1
    assert f"FAIL audit entry #{entry.seq}: content was altered" in out


def test_deleted_audit_entry_is_detected(approved, capsys):
    entry = AuditEntry.objects.order_by("seq")[5]
    tamper("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    code, out = verify(capsys)
    assert code == 1 and f"#{entry.seq}: missing" in out


def test_altered_record_version_voids_its_signatures_visibly(approved, capsys):
    signature = Signature.objects.filter(meaning="approved").get()
    version = signature.record_version
    assert signature_problems(signature) == []
    data = dict(version.data, conclusion="篡改 forged")
    import json

    tamper("UPDATE core_recordversion SET data = %s WHERE id = %s", [json.dumps(data, ensure_ascii=False), version.pk])
    signature = Signature.objects.get(pk=signature.pk)
    assert "the signed record version's data was altered" in signature_problems(signature)
    code, out = verify(capsys)
    assert code == 1
    assert f"FAIL record version {version.record.number} v{version.version}" in out
    assert f"FAIL signature #{signature.pk}" in out


def test_a_signature_moved_to_another_version_no_longer_verifies(approved, capsys):
    signature = Signature.objects.filter(meaning="reviewed").order_by("id").first()
    other = RecordVersion.objects.filter(record=signature.record_version.record).exclude(
        pk=signature.record_version_id).order_by("-version").first()
    tamper("UPDATE core_signature SET record_version_id = %s WHERE id = %s", [other.pk, signature.pk])
    problems = signature_problems(Signature.objects.get(pk=signature.pk))
    assert "the signature is bound to different content" in problems
    code, out = verify(capsys)
    assert code == 1 and f"FAIL signature #{signature.pk}" in out


def test_altered_signature_meaning_is_detected(approved, capsys):
    signature = Signature.objects.filter(meaning="approved").get()
    assert signature_problems(signature) == []
    tamper("UPDATE core_signature SET meaning = %s WHERE id = %s", ["rejected", signature.pk])
    altered = Signature.objects.get(pk=signature.pk)
    assert altered.meaning == "rejected"
    assert signature_problems(altered) == ["the signature itself was altered"]
    code, out = verify(capsys)
    assert code == 1 and f"FAIL signature #{signature.pk}" in out and "the signature itself was altered" in out


def test_altered_signer_printed_name_is_detected(approved, capsys):
    signature = Signature.objects.filter(meaning="approved").get()
    tamper("UPDATE core_signature SET printed_name = %s WHERE id = %s", ["Mallory", signature.pk])
    assert signature_problems(Signature.objects.get(pk=signature.pk)) == ["the signature itself was altered"]
    code, out = verify(capsys)
    assert code == 1 and f"FAIL signature #{signature.pk}" in out and "the signature itself was altered" in out


def test_altered_stored_pdf_is_detected(people, order_data, capsys):
    process = start(people["market"], order_data())
    review_all(process, people)
    act(process, "approve", people["market_mgr"], {"conclusion": "OK"}, meaning="approved")
    file = RecordFile.objects.filter(kind="pdf").first()
    assert file is not None, "the approval renders the record PDF"
    path = file.file.path
    with open(path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"X")
    code, out = verify(capsys)
    assert code == 1 and f"FAIL stored file {file.record_version.record.number}" in out


def test_model_guards_refuse_updates_and_deletes(approved):
    entry = AuditEntry.objects.first()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        Signature.objects.first().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers exist on PostgreSQL")
@pytest.mark.parametrize("table", ["core_auditentry", "core_recordversion", "core_signature"])
def test_postgresql_refuses_update_and_delete_on_append_only_tables(approved, table):
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)


def test_users_are_deactivated_never_deleted(people):
    with pytest.raises(PermissionError):
        people["quality"].delete()


# --- the audit batch (core.audit.atomic, issue 15 item 4) -----------------------------------------------------


def test_a_transactions_entries_are_appended_together_before_the_commit_in_log_order(people, django_assert_num_queries):
    from django.db import transaction

    from core import audit

    user = people["quality"]
    with transaction.atomic():
        audit.log("test.head", ("thing", "0", "x"), actor=user)  # the head row exists from here on
    before = AuditEntry.objects.order_by("seq").last().seq
    # one savepoint, then the lock of the head, one INSERT of five rows and the head's move: constant in entries
    with django_assert_num_queries(5), audit.atomic():
        entries = [audit.log(f"test.batch_{i}", ("thing", str(i), "x"), actor=user) for i in range(5)]
        assert all(entry.seq is None for entry in entries)  # still pending inside the block
    assert [e.seq for e in entries] == list(range(before + 1, before + 6))
    stored = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.action for e in stored] == [f"test.batch_{i}" for i in range(5)]
    assert len({e.timestamp for e in stored}) == 1 and stored[0].timestamp >= AuditEntry.objects.get(seq=before).timestamp
    assert list(audit.verify_chain()) == []


def test_an_entry_logged_in_a_rolled_back_savepoint_goes_with_it_and_a_failed_block_appends_nothing(people):
    from django.db import transaction

    from core import audit

    user = people["quality"]
    with audit.atomic():
        audit.log("test.kept_first", ("thing", "1", "x"), actor=user)
        try:
            with transaction.atomic():
                audit.log("test.rolled_back", ("thing", "2", "x"), actor=user)
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
        with transaction.atomic():
            audit.log("test.kept_in_savepoint", ("thing", "3", "x"), actor=user)
        with audit.atomic():  # nested: the same batch, appended by the outermost block
            audit.log("test.kept_nested", ("thing", "4", "x"), actor=user)
        assert not AuditEntry.objects.filter(action__startswith="test.kept").exists()
    assert list(AuditEntry.objects.filter(action__startswith="test.").order_by("seq").values_list("action", flat=True)) \
        == ["test.kept_first", "test.kept_in_savepoint", "test.kept_nested"]
    with pytest.raises(RuntimeError), audit.atomic():
        audit.log("test.failed", ("thing", "5", "x"), actor=user)
        raise RuntimeError("the action fails")
    assert not AuditEntry.objects.filter(action="test.failed").exists()
    assert list(audit.verify_chain()) == []
