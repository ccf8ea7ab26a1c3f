"""Issue 11: the hash chain has no key. Signed checkpoints kept outside the database anchor it: a rewrite of a
signed record version that recomputes every hash and audit link after it, a truncated chain, a forged or removed
checkpoint are named by verify_audit; without a key the chain is said not to be anchored."""
import base64
import json
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from anchoring_support import (  # noqa: F401  (fixtures)
    checkpoint_key, intruder, no_checkpoint_key, relink_from, rewrite_signed_version,
)
from core import checkpoints
from core.canonical import canonical_json
from core.anchoring import make_checkpoint
from core.models import AuditEntry, AuditHead, RecordVersion, Signature
from evidence.tasks import make_audit_checkpoint, nightly_verification
from evidence_support import approved_order, record  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def verify(capsys, *args):
    """(exit code, output) of verify_audit."""
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", *args)
        raise SystemExit(0)
    return exit_info.value.code, capsys.readouterr().out


def stored(store):
    return sorted(p.name for p in store.glob("*.json"))


def read(path):
    return json.loads(path.read_text("utf-8"))


def signed_version():
    return Signature.objects.filter(meaning="approved").get().record_version


# --- writing checkpoints ---------------------------------------------------------------------------------------


def test_a_checkpoint_signs_the_audit_head_and_the_rows_it_anchors(record, checkpoint_key):
    head = AuditHead.objects.get()
    outcome = make_checkpoint(origin="test")
    assert outcome.status == "written"
    assert stored(checkpoint_key.store) == ["00000001.json"]
    document = read(checkpoint_key.store / "00000001.json")
    payload = document["payload"]
    assert payload["audit"] == {"seq": head.last_seq, "hash": head.last_hash}
    assert payload["anchored"]["versions"] == RecordVersion.objects.count()
    assert payload["anchored"]["signatures"] == Signature.objects.count() > 0
    assert payload["number"] == 1 and payload["previous"] is None and payload["key_id"] == checkpoint_key.key_id
    public = serialization.load_pem_public_key(checkpoint_key.public.read_bytes())
    public.verify(base64.b64decode(document["signature"]), canonical_json(payload))  # raises if it does not verify
    entry = AuditEntry.objects.get(action="audit.checkpoint_written")
    assert entry.seq == head.last_seq + 1
    assert entry.new_values["number"] == 1 and entry.new_values["seq"] == head.last_seq
    assert entry.new_values["payload_hash"] == checkpoints.payload_hash(payload)


def test_nothing_new_writes_no_checkpoint_and_new_activity_writes_the_next_one_linked_to_it(
        record, people, order_data, checkpoint_key):
    first = make_checkpoint(origin="test").checkpoint
    again = make_checkpoint(origin="test")
    assert again.status == "unchanged" and stored(checkpoint_key.store) == ["00000001.json"]
    approved_order(people, order_data, number="PO-EV-002")
    second = make_checkpoint(origin="test")
    assert second.status == "written" and stored(checkpoint_key.store) == ["00000001.json", "00000002.json"]
    assert second.checkpoint.payload["previous"] == checkpoints.payload_hash(first.payload)
    assert second.checkpoint.seq > first.seq
    assert AuditEntry.objects.filter(action="audit.checkpoint_written").count() == 2


def test_no_key_configured_skips_the_checkpoint_with_a_warning_and_verify_audit_says_not_anchored(
        record, no_checkpoint_key, capsys, caplog):
    with caplog.at_level(logging.WARNING, logger="core.anchoring"):
        outcome = make_checkpoint(origin="test")
    assert outcome.status == "no key"
    assert "QMS_CHECKPOINT_KEY_FILE" in caplog.text and "checkpoint skipped" in caplog.text
    assert not no_checkpoint_key.exists() or stored(no_checkpoint_key) == []
    assert not AuditEntry.objects.filter(action="audit.checkpoint_written").exists()
    code, out = verify(capsys)
    assert code == 0 and "OK: every hash and link verifies" in out
    assert "WARN audit chain anchoring: not anchored: no checkpoint key configured" in out
    assert "WARN checkpoint not written" in out


def test_verify_audit_writes_a_checkpoint_when_it_passes_and_then_verifies_against_it(record, checkpoint_key, capsys):
    code, out = verify(capsys)
    assert code == 0 and "WARN audit chain anchoring: not anchored yet" in out
    assert "Checkpoint: checkpoint #1 (00000001.json) written" in out
    code, out = verify(capsys, "--no-checkpoint")
    assert code == 0 and "Anchored: 1 signed checkpoint(s) verify" in out and "not anchored" not in out
    assert stored(checkpoint_key.store) == ["00000001.json"]


def test_the_checkpoint_job_is_scheduled_and_writes_a_checkpoint(record, checkpoint_key):
    jobs = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert jobs["evidence.tasks.make_audit_checkpoint"]["schedule"] == 3600.0
    assert make_audit_checkpoint.delay() is not None
    assert stored(checkpoint_key.store) == ["00000001.json"]
    assert read(checkpoint_key.store / "00000001.json")["payload"]["origin"] == "beat"


def test_the_nightly_verification_anchors_a_clean_chain(record, checkpoint_key):
    nightly_verification.delay()
    assert AuditEntry.objects.filter(action="verification.passed").count() == 1
    assert read(checkpoint_key.store / "00000001.json")["payload"]["origin"] == "nightly"


def test_a_copy_of_each_checkpoint_is_mailed_to_the_quality_managers_when_configured(
        record, people, order_data, checkpoint_key, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_checkpoint(origin="test")
    assert mail.outbox == []  # off by default
    approved_order(people, order_data, number="PO-EV-002")
    mail.outbox.clear()
    settings.QMS = {**settings.QMS, "CHECKPOINT_MAIL_QUALITY_MANAGERS": True, "CHECKPOINT_MAIL_TO": ["qa@example.com"]}
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = make_checkpoint(origin="test").checkpoint
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(["qa@example.com", people["quality_mgr"].email])
    assert "#2" in message.subject and f"audit seq: {checkpoint.seq}" in message.body
    assert f"audit hash: {checkpoint.hash}" in message.body and "审计链" in message.body
    entry = AuditEntry.objects.filter(action="audit.checkpoint_written").order_by("-seq").first()
    assert sorted(entry.new_values["mailed"]) == sorted(message.to)


def test_a_configured_timestamp_hook_is_kept_beside_the_signed_payload(record, checkpoint_key, settings):
    settings.QMS = {**settings.QMS, "CHECKPOINT_TIMESTAMPER": "anchoring_support.fake_timestamper"}
    checkpoint = make_checkpoint(origin="test").checkpoint
    document = read(checkpoint.path)
    assert document["timestamp"] == {"tsa": "test", "sha256": checkpoints.payload_hash(checkpoint.payload)}
    assert "timestamp" not in document["payload"]


# --- the tamper scenario of the issue --------------------------------------------------------------------------


def test_without_a_checkpoint_a_rewrite_that_recomputes_every_hash_goes_unnoticed(record, no_checkpoint_key, capsys):
    """The threat itself: what the chain alone cannot show (the reason for the checkpoints)."""
    version = signed_version()
    rewrite_signed_version(version, {"total_amount": "86500"})
    assert RecordVersion.objects.get(pk=version.pk).data["total_amount"] == "86500"
    code, out = verify(capsys, "--no-checkpoint")
    assert code == 0 and "FAIL" not in out
    assert "not anchored" in out


def test_a_rewrite_of_a_signed_version_after_a_checkpoint_fails_naming_the_checkpoint(record, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    version = signed_version()
    rewritten_from = rewrite_signed_version(version, {"total_amount": "86500"})
    assert rewritten_from < first.seq
    code, out = verify(capsys, "--full")
    assert code == 1
    assert f"FAIL checkpoint #1 (00000001.json): audit entry #{first.seq} no longer has the hash this checkpoint " \
           f"signed: the chain was rewritten" in out
    assert "FAIL checkpoint #1 (00000001.json): the record versions, signatures or stored files it anchored were " \
           "changed (digest differs)" in out
    # the chain itself verifies: only the checkpoint shows the rewrite
    assert "FAIL audit entry" not in out and "FAIL record version" not in out and "FAIL signature" not in out
    assert stored(checkpoint_key.store) == ["00000001.json"]  # no checkpoint over a failed verification


def test_a_row_rewrite_that_leaves_the_audit_trail_alone_is_named_with_or_without_a_checkpoint(
        record, no_checkpoint_key, capsys):
    """The audit entries that created a version and its signatures recorded their hashes, and each row is
    compared with them: so the checkpointed head hash fixes the rows too."""
    version = signed_version()
    signature = Signature.objects.filter(meaning="approved").get()
    rewrite_signed_version(version, {"total_amount": "86500"}, audit_trail=False)
    code, out = verify(capsys, "--no-checkpoint")
    assert code == 1
    created = AuditEntry.objects.get(action="record.version_created", object_id=str(version.pk))
    assert f"FAIL record version {version.record.number} v{version.version}: its hash differs from the one audit " \
           f"entry #{created.seq} recorded" in out
    assert f"FAIL signature #{signature.pk} " in out


def test_the_checkpoint_digest_names_a_row_rewrite_even_when_the_audit_trail_is_left_alone(
        record, checkpoint_key, capsys):
    make_checkpoint(origin="test")
    rewrite_signed_version(signed_version(), {"total_amount": "86500"}, audit_trail=False)
    code, out = verify(capsys)
    assert code == 1 and "FAIL checkpoint #1 (00000001.json): the record versions, signatures or stored files it " \
                         "anchored were changed (digest differs)" in out


def test_the_checkpoint_job_refuses_to_sign_over_a_rewrite_and_alerts_the_quality_managers(
        record, people, checkpoint_key):
    make_checkpoint(origin="test")
    rewrite_signed_version(signed_version(), {"total_amount": "86500"})
    assert make_audit_checkpoint.delay() is not None
    assert stored(checkpoint_key.store) == ["00000001.json"]
    refused = AuditEntry.objects.get(action="audit.checkpoint_refused")
    assert any("checkpoint #1" in p and "rewritten" in p for p in refused.new_values["problems"])
    assert people["quality_mgr"].email in refused.new_values["alerted"]
    assert len(mail.outbox) == 1 and "REFUSED" in mail.outbox[0].subject
    assert "checkpoint #1 (00000001.json)" in mail.outbox[0].body


def test_an_untouched_chain_after_a_checkpoint_still_verifies_including_a_record_destroyed_since(
        record, people, checkpoint_key, capsys):
    """Destroying a record past retention blanks its versions' data but keeps their hashes: the checkpoint holds."""
    import time_machine
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from evidence import retention
    from workflows.demo import DEMO_PASSWORD

    make_checkpoint(origin="test")
    with time_machine.travel(record.created_at + relativedelta(years=11), tick=False):
        manager = people["quality_mgr"]
        manager.password_changed_at = timezone.now()  # eleven years on, the password would have expired
        manager.save(update_fields=["password_changed_at"])
        retention.destroy_record(record, actor=manager, password=DEMO_PASSWORD, reason="over")
    code, out = verify(capsys)
    assert code == 0 and "Anchored: 1 signed checkpoint(s) verify" in out and "Checkpoint: checkpoint #2" in out


# --- truncation, forged and removed checkpoints ----------------------------------------------------------------


def test_a_truncated_chain_is_detected_against_the_last_checkpoint(record, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    keep = first.seq - 10
    with intruder():  # delete the tail and move the head back, as TRUNCATE … / DELETE and an UPDATE would
        AuditEntry.objects.filter(seq__gt=keep).delete()
        AuditHead.objects.filter(pk=1).update(last_seq=keep,
                                              last_hash=AuditEntry.objects.get(seq=keep).entry_hash)
    code, out = verify(capsys)
    assert code == 1
    assert f"FAIL audit chain end: ends at #{keep} but checkpoint #1 (00000001.json) anchors #{first.seq}" in out
    assert "entries removed (truncated)" in out


def test_an_emptied_audit_trail_is_detected(record, checkpoint_key, capsys):
    make_checkpoint(origin="test")
    with intruder():
        AuditEntry.objects.all().delete()
        AuditHead.objects.all().delete()
    code, out = verify(capsys)
    assert code == 1 and "FAIL audit chain end: ends at #0 but checkpoint #1 (00000001.json)" in out


def test_a_checkpoint_forged_with_another_key_is_rejected(record, checkpoint_key, capsys, tmp_path):
    """The intruder rewrites the version and re-signs the checkpoint over the new state with a key of his own."""
    first = make_checkpoint(origin="test").checkpoint
    rewrite_signed_version(signed_version(), {"total_amount": "86500"})
    head = AuditHead.objects.get()
    forger_key = checkpoints.Ed25519PrivateKey.generate()
    for key_id in (checkpoints.key_id(forger_key.public_key()), checkpoint_key.key_id):
        payload = dict(first.payload, audit={"seq": head.last_seq, "hash": head.last_hash}, key_id=key_id)
        document = {"payload": payload,
                    "signature": base64.b64encode(forger_key.sign(canonical_json(payload))).decode("ascii")}
        first.path.chmod(0o644)
        first.path.write_text(json.dumps(document), "utf-8")
        code, out = verify(capsys)
        assert code == 1
        if key_id == checkpoint_key.key_id:
            assert "FAIL checkpoint #1 (00000001.json): the signature does not verify: forged or altered" in out
        else:
            assert f"FAIL checkpoint #1 (00000001.json): signed with an unknown key {key_id}: forged" in out


def test_an_altered_checkpoint_file_does_not_verify(record, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    document = read(first.path)
    document["payload"]["audit"]["seq"] -= 1
    first.path.chmod(0o644)
    first.path.write_text(json.dumps(document), "utf-8")
    code, out = verify(capsys)
    assert code == 1 and "FAIL checkpoint #1 (00000001.json): the signature does not verify" in out


def test_a_removed_checkpoint_is_named(record, people, order_data, checkpoint_key, capsys):
    make_checkpoint(origin="test")
    approved_order(people, order_data, number="PO-EV-002")
    make_checkpoint(origin="test")
    (checkpoint_key.store / "00000002.json").unlink()
    code, out = verify(capsys)
    assert code == 1
    written = AuditEntry.objects.filter(action="audit.checkpoint_written").order_by("seq").last()
    assert f"FAIL checkpoint #2: written according to audit entry #{written.seq} but missing from the store" in out
    (checkpoint_key.store / "00000001.json").unlink()
    code, out = verify(capsys)
    assert code == 1 and "FAIL checkpoint #1: written according to audit entry" in out


def test_a_checkpoint_copied_under_another_number_is_rejected(record, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    (checkpoint_key.store / "00000002.json").write_bytes(first.path.read_bytes())
    code, out = verify(capsys)
    assert code == 1 and "FAIL checkpoint #1 (00000002.json): its file name does not match its number" in out


def test_a_verification_only_machine_verifies_with_the_public_key_alone(record, checkpoint_key, settings, capsys):
    make_checkpoint(origin="test")
    settings.QMS = {**settings.QMS, "CHECKPOINT_KEY_FILE": "", "CHECKPOINT_PUBLIC_KEY_FILE": str(checkpoint_key.public)}
    code, out = verify(capsys)
    assert code == 0 and "Anchored: 1 signed checkpoint(s) verify" in out
    assert "WARN checkpoint not written: no private checkpoint key configured" in out
    other = checkpoints.generate_key_pair(checkpoint_key.store.parent / "other" / "key.pem")[1]
    settings.QMS = {**settings.QMS, "CHECKPOINT_PUBLIC_KEY_FILE": str(other)}
    code, out = verify(capsys)
    assert code == 1 and "signed with an unknown key" in out


def test_an_unreadable_key_is_a_failure_not_a_silent_skip(record, checkpoint_key, capsys):
    checkpoint_key.private.write_text("not a key", "ascii")
    code, out = verify(capsys)
    assert code == 1 and "FAIL checkpoint configuration: QMS_CHECKPOINT_KEY_FILE" in out
    assert make_audit_checkpoint.delay() is not None  # logged as an error; nothing written, nothing audited
    assert stored(checkpoint_key.store) == []
    assert not AuditEntry.objects.filter(action__startswith="audit.checkpoint").exists()


# --- incremental verification --------------------------------------------------------------------------------


def test_since_checkpoint_verifies_only_what_came_after_the_last_checkpoint(
        record, people, order_data, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    approved_order(people, order_data, number="PO-EV-002")
    code, out = verify(capsys, "--since-checkpoint", "--no-checkpoint")
    assert code == 0, out
    assert f"Incremental: from checkpoint #1 (00000001.json): audit entry #{first.seq}" in out
    after = AuditEntry.objects.filter(seq__gte=first.seq).count()
    assert f"Checked: {after} audit entries" in out and after < AuditEntry.objects.count()


def test_since_checkpoint_still_detects_a_rewrite_before_the_checkpoint(record, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    rewrite_signed_version(signed_version(), {"total_amount": "86500"})
    code, out = verify(capsys, "--since-checkpoint")
    assert code == 1
    assert f"FAIL audit entry #{first.seq}: differs from the signed checkpoint this run starts from" in out
    assert "FAIL checkpoint #1 (00000001.json): audit entry" in out


def test_since_checkpoint_detects_a_broken_link_after_the_checkpoint(
        record, people, order_data, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    approved_order(people, order_data, number="PO-EV-002")
    entry = AuditEntry.objects.filter(seq__gt=first.seq + 3).order_by("seq").first()
    with intruder():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="forged")
    code, out = verify(capsys, "--since-checkpoint")
    assert code == 1 and f"FAIL audit entry #{entry.seq}: content was altered" in out


def test_verify_audit_is_incremental_by_default_and_full_on_request(record, people, order_data, checkpoint_key, capsys):
    first = make_checkpoint(origin="test").checkpoint
    approved_order(people, order_data, number="PO-EV-002")
    code, out = verify(capsys, "--no-checkpoint")
    assert code == 0 and f"Incremental: from checkpoint #1 (00000001.json): audit entry #{first.seq}" in out
    assert f"Checked: {AuditEntry.objects.filter(seq__gte=first.seq).count()} audit entries" in out
    code, out = verify(capsys, "--full", "--no-checkpoint")
    assert code == 0 and "Full: from the first audit entry" in out
    assert f"Checked: {AuditEntry.objects.count()} audit entries, {RecordVersion.objects.count()} record versions" \
        in out


def test_the_incremental_run_detects_naive_tampering_after_the_checkpoint(
        record, people, order_data, checkpoint_key, capsys):
    """A version created after the checkpoint, its data changed without recomputing anything."""
    first = make_checkpoint(origin="test").checkpoint
    approved_order(people, order_data, number="PO-EV-002")
    version = RecordVersion.objects.order_by("-pk").first()
    created = AuditEntry.objects.get(action="record.version_created", object_id=str(version.pk))
    assert created.seq > first.seq
    with intruder() as cursor:
        cursor.execute("UPDATE core_recordversion SET data = %s WHERE id = %s",
                       [json.dumps({**version.data, "forged": True}), version.pk])
    code, out = verify(capsys)
    assert code == 1 and "Incremental: from checkpoint #1" in out
    assert f"FAIL record version {version.record.number} v{version.version}: data does not match its content " \
           f"hash (altered)" in out
    assert stored(checkpoint_key.store) == ["00000001.json"]  # nothing signed over it


def test_the_full_run_detects_naive_tampering_before_the_checkpoint(record, checkpoint_key, capsys):
    """An audit entry anchored by the checkpoint, changed without recomputing its hash: the incremental run starts
    from the checkpoint's entry (which still recomputes to the signed hash) and re-hashes nothing before it; the
    full run recomputes every entry and names it."""
    first = make_checkpoint(origin="test").checkpoint
    entry = AuditEntry.objects.filter(seq__lt=first.seq - 1).order_by("seq")[1]
    with intruder():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="forged")
    code, out = verify(capsys, "--full", "--no-checkpoint")
    assert code == 1 and "Full: from the first audit entry" in out
    assert f"FAIL audit entry #{entry.seq}: content was altered (hash mismatch)" in out
    code, out = verify(capsys, "--no-checkpoint")
    assert f"FAIL audit entry #{entry.seq}" not in out  # what the incremental run leaves to the full (nightly) one


# --- keys ------------------------------------------------------------------------------------------------------


def test_checkpoint_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path, capsys):
    target = tmp_path / "etc" / "checkpoint.pem"
    call_command("checkpoint_keygen", str(target))
    out = capsys.readouterr().out
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "etc" / "checkpoint.pub.pem").exists()
    assert f"QMS_CHECKPOINT_KEY_FILE={target}" in out and "OUTSIDE the database and the repository" in out
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("checkpoint_keygen", str(target))


def test_checkpoint_keygen_refuses_a_path_inside_the_project():
    inside = settings.BASE_DIR / "var" / "checkpoint-test-key.pem"
    with pytest.raises(CommandError, match="inside the project directory"):
        call_command("checkpoint_keygen", str(inside))
    assert not inside.exists()


# --- backup and restore ----------------------------------------------------------------------------------------


def test_a_restore_verifies_against_the_checkpoints_or_names_those_written_after_the_backup(
        people, order_data, checkpoint_key, tmp_path, capsys, migrated_sqlite):
    import shutil

    from manage_support import fresh_database
    from manage_support import manage as run

    approved_order(people, order_data, number="PO-BK-001")
    first = make_checkpoint(origin="test").checkpoint
    archive = tmp_path / "qms-backup.tar.gz"
    call_command("backup", str(archive))
    capsys.readouterr()
    approved_order(people, order_data, number="PO-BK-002")
    second = make_checkpoint(origin="test").checkpoint  # anchors entries the backup does not hold
    env = fresh_database(migrated_sqlite, tmp_path, "restored.sqlite3", QMS_CHECKPOINT_KEY_FILE=str(
        checkpoint_key.private), QMS_CHECKPOINT_DIR=str(checkpoint_key.store))

    def manage(*args):
        return run(env, *args)

    restored = manage("restore", str(archive))
    assert restored.returncode == 1, restored.stdout + restored.stderr
    backup_end = first.seq + 1  # the backup holds checkpoint #1's own audit entry
    assert (f"FAIL audit chain end: ends at #{backup_end} but checkpoint #2 (00000002.json) anchors #{second.seq}"
            in restored.stdout)
    assert "restored from a backup older than the checkpoint" in restored.stdout
    assert "checkpoint #1" not in restored.stdout  # what the backup holds still verifies against #1
    # docs/AUDIT-ANCHORING.md: the checkpoints after the backup are set aside (kept), then it verifies and anchors
    aside = checkpoint_key.store / "after-restore"
    aside.mkdir()
    shutil.move(checkpoint_key.store / "00000002.json", aside / "00000002.json")
    check = manage("verify_audit")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Anchored: 1 signed checkpoint(s) verify" in check.stdout
    assert "Checkpoint: nothing new since checkpoint #1 (00000001.json)" in check.stdout
    assert stored(checkpoint_key.store) == ["00000001.json"]
