"""SIG-15: `manage.py backup` writes database + stored files + manifest; `restore`
into a fresh, empty database reproduces every record hash and verifies clean, and
refuses a database that is not empty."""
import json
import os
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import RecordFile, RecordVersion
from procedures.complaints.models import DispositionRule
from procedures.documents.models import ApprovalRule
from evidence_support import approved_order
from manage_support import fresh_database, manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def backed_up(people, order_data, tmp_path, capsys):
    first = approved_order(people, order_data, number="PO-BK-001")
    approved_order(people, order_data, number="PO-BK-002", customer="C002")
    # Rules as an administrator left them: one edited, one entered again under a new key.
    ApprovalRule.objects.filter(document_type="form").update(approver_department="engineering")
    DispositionRule.objects.filter(code="scrap").delete()
    DispositionRule.objects.create(code="scrap", signers=["finance:manager"])
    archive = tmp_path / "qms-backup.tar.gz"
    call_command("backup", str(archive))
    assert "OK: backup written" in capsys.readouterr().out
    return archive, first


def test_the_backup_holds_the_database_every_stored_file_and_a_manifest(backed_up):
    archive, record = backed_up
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    files = RecordFile.objects.all()
    assert files and {f"media/{f.file.name}" for f in files} <= names
    assert {"database.xml", "manifest.json"} <= names
    assert manifest["record_hashes"][record.number] == {
        str(v.version): v.content_hash for v in RecordVersion.objects.filter(record=record)}
    assert set(manifest["files"]) == names - {"manifest.json"}


def test_backup_then_restore_into_a_fresh_database_reproduces_every_hash(backed_up, tmp_path, migrated_sqlite):
    archive, _record = backed_up
    env = fresh_database(migrated_sqlite, tmp_path, "restored.sqlite3")
    restored = manage(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "record version hashes reproduced and every hash and link verifies" in restored.stdout
    hashes = sum(1 for _ in RecordVersion.objects.all())
    assert f"OK: restored; {hashes} record version hashes" in restored.stdout
    check = manage(env, "verify_audit")
    assert check.returncode == 0 and "OK: every hash and link verifies" in check.stdout
    for f in RecordFile.objects.all():
        assert (tmp_path / "var" / "media" / f.file.name).exists()
    again = manage(env, "restore", str(archive))
    assert again.returncode != 0 and "not empty" in again.stderr
    rules = manage(env, "shell", "-c", "from procedures.complaints.models import DispositionRule as D; "
                   "from procedures.documents.models import ApprovalRule as A; "
                   "print(A.objects.get(document_type='form').approver_department, A.objects.count(), "
                   "D.objects.get(code='scrap').signers, D.objects.count())")
    # the backup's rules, not the defaults `migrate` entered into the new database
    assert rules.stdout.strip().splitlines()[-1].split() == ["engineering", "4", "['finance:manager']", "6"], rules.stdout + rules.stderr


def test_restore_refuses_a_database_that_is_not_empty(backed_up):
    archive, _record = backed_up
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive))


def test_a_backup_altered_after_it_was_written_is_refused(backed_up, tmp_path, migrated_sqlite):
    archive, _record = backed_up
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    dump = unpacked / "database.xml"
    dump.write_text(dump.read_text("utf-8").replace("PO-BK-001", "PO-BK-00X"), "utf-8")
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(forged, "w:gz") as tar:
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(unpacked)))
    env = fresh_database(migrated_sqlite, tmp_path, "forged.sqlite3")
    result = manage(env, "restore", str(forged))
    assert result.returncode != 0 and "database.xml: SHA-256 does not match the backup manifest" in result.stderr


def test_a_backup_of_another_schema_is_refused_with_advice(backed_up, tmp_path, migrated_sqlite):
    """Rows load only into the schema that made them (model labels moved with the one-app-per-
    procedure layout): the manifest names the migrations, and restore says what to do."""
    archive, _record = backed_up
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    manifest = json.loads((unpacked / "manifest.json").read_text("utf-8"))
    assert "0007_tombstone_accountabilityacceptance" in manifest["migrations"]["core"]
    manifest["migrations"]["core"].remove("0007_tombstone_accountabilityacceptance")  # as an older release
    (unpacked / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    older = tmp_path / "older.tar.gz"
    with tarfile.open(older, "w:gz") as tar:
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(unpacked)))
    env = fresh_database(migrated_sqlite, tmp_path, "older.sqlite3")
    result = manage(env, "restore", str(older))
    assert result.returncode != 0 and "different database schema" in result.stderr
    assert "restore it with the release that made it" in result.stderr


@pytest.fixture
def fresh_postgres_url():
    """A new, empty PostgreSQL database beside the test database (dropped afterwards)."""
    import psycopg
    from django.db import connection

    params = connection.settings_dict
    name = f"qms_restore_{os.getpid()}"
    conninfo = dict(host=params["HOST"] or "127.0.0.1", port=params["PORT"] or 5432, user=params["USER"],
                    password=params["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**conninfo) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    yield f"postgres://{auth}@{conninfo['host']}:{conninfo['port']}/{name}"
    with psycopg.connect(**conninfo) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(__import__("django.db").db.connection.vendor != "postgresql",
                    reason="a PostgreSQL to PostgreSQL restore needs PostgreSQL")
def test_backup_then_restore_into_a_fresh_postgresql_database(backed_up, tmp_path, fresh_postgres_url):
    archive, _record = backed_up
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "QMS_VAR_DIR": str(tmp_path / "var"),
           "DATABASE_URL": fresh_postgres_url, "CELERY_TASK_ALWAYS_EAGER": "1"}
    migrated = manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    restored = manage(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every hash and link verifies" in restored.stdout
    check = manage(env, "verify_audit")
    assert check.returncode == 0 and "OK: every hash and link verifies" in check.stdout
