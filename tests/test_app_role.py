"""docs/sql/roles.sql and docs/sql/app-role.sql on a real PostgreSQL: the owner role migrates, the application's
role runs the application (records, signatures, a destruction, verify_audit with a checkpoint) and is refused
what an intruder holding its credentials would do to the evidence: UPDATE, DELETE, TRUNCATE … CASCADE, ALTER TABLE
… DISABLE TRIGGER, SET session_replication_role, CREATE TRIGGER, DROP TABLE."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are a PostgreSQL matter"),
    pytest.mark.skipif(shutil.which("psql") is None, reason="needs the psql client"),
]

ROOT = Path(settings.BASE_DIR)

APP_SCENARIO = """
import datetime, sys
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from core.models import Record
from evidence import retention
from p1_driver import act, review_all, start
from workflows.demo import DEMO_PASSWORD, create_catalog, create_people
from procedures.order_review.models import order_review_of

people = create_people()
create_catalog()
day = lambda n: (timezone.localdate() + datetime.timedelta(days=n)).isoformat()
order = lambda number: {
    "kind": "order", "customer": "C001", "order_number": number, "order_date": day(0),
    "payment_terms": "Net 30", "delivery_place": "Shanghai", "transport": "Carton", "special_requirements": "",
    "lines": [{"product": "P-1001", "quantity": "500", "unit_price": "12.50", "delivery_date": day(30)}]}
process = start(people["market"], order("PO-ROLE-1"))
start(people["market"], order("PO-ROLE-2"))  # a record that stays
review_all(process, people)
act(process, "approve", people["market_mgr"], {"conclusion": "OK"}, meaning="approved")
record = order_review_of(process).record
with time_machine.travel(record.created_at + relativedelta(years=11), tick=False):
    people["quality_mgr"].password_changed_at = timezone.now()  # eleven years on, it would have expired
    people["quality_mgr"].save(update_fields=["password_changed_at"])
    retention.destroy_record(Record.objects.get(pk=record.pk), actor=people["quality_mgr"], password=DEMO_PASSWORD,
                             reason="retention over")
call_command("verify_audit")
print("APP-ROLE-SCENARIO-DONE", Record.objects.get(pk=record.pk).status)
"""


@pytest.fixture
def roles(tmp_path):
    """A database owned by a new owner role, migrated by it, with app-role.sql applied; dropped afterwards."""
    import psycopg

    params = connection.settings_dict
    host, port = params["HOST"] or "127.0.0.1", str(params["PORT"] or 5432)
    suffix = os.getpid()
    names = {"owner": f"qms_owner_{suffix}", "app": f"qms_app_{suffix}", "db": f"qms_roles_{suffix}"}
    admin = dict(host=host, port=port, user=params["USER"], password=params["PASSWORD"] or None, dbname="postgres",
                 autocommit=True)
    pg_env = {**os.environ, "PGPASSWORD": params["PASSWORD"] or ""}

    def drop():
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{names["app"]}"')
            conn.execute(f'DROP ROLE IF EXISTS "{names["owner"]}"')

    drop()
    created = subprocess.run(
        ["psql", "-h", host, "-p", port, "-U", params["USER"], "-d", "postgres", "-v", f"owner={names['owner']}",
         "-v", f"app={names['app']}", "-v", f"db={names['db']}", "-v", "owner_password=owner-pw",
         "-v", "app_password=app-pw", "-f", str(ROOT / "docs/sql/roles.sql")],
        env=pg_env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    url = lambda role, pw: f"postgres://{role}:{pw}@{host}:{port}/{names['db']}"  # noqa: E731
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "QMS_VAR_DIR": str(tmp_path / "var"),
           "CELERY_TASK_ALWAYS_EAGER": "1", "PYTHONPATH": str(ROOT / "tests")}
    try:
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                                  env={**env, "DATABASE_URL": url(names["owner"], "owner-pw")},
                                  capture_output=True, text=True, timeout=900)
        assert migrated.returncode == 0, migrated.stderr
        granted = subprocess.run(["psql", url(names["owner"], "owner-pw"), "-v", f"app={names['app']}",
                                  "-f", str(ROOT / "docs/sql/app-role.sql")], capture_output=True, text=True)
        assert granted.returncode == 0, granted.stderr
        yield {**names, "env": env, "app_url": url(names["app"], "app-pw"),
               "app_conninfo": dict(host=host, port=port, user=names["app"], password="app-pw", dbname=names["db"],
                                    autocommit=True)}
    finally:
        drop()


def test_the_application_role_runs_the_application_but_cannot_rewrite_or_unprotect_the_evidence(roles, tmp_path):
    import psycopg
    from psycopg import errors

    from core.checkpoints import generate_key_pair

    key = generate_key_pair(tmp_path / "keys" / "checkpoint.pem")[0]
    scenario = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", APP_SCENARIO], cwd=ROOT, capture_output=True, text=True,
        timeout=900, env={**roles["env"], "DATABASE_URL": roles["app_url"], "QMS_CHECKPOINT_KEY_FILE": str(key),
                          "QMS_CHECKPOINT_DIR": str(tmp_path / "checkpoints")})
    assert scenario.returncode == 0, scenario.stdout + scenario.stderr
    assert "APP-ROLE-SCENARIO-DONE destroyed" in scenario.stdout
    assert "OK: every hash and link verifies" in scenario.stdout
    assert "Checkpoint: checkpoint #1 (00000001.json) written" in scenario.stdout

    refused = [
        "UPDATE core_auditentry SET reason = 'forged'",
        "DELETE FROM core_signature",
        "UPDATE core_recordversion SET content_hash = content_hash",
        "TRUNCATE core_auditentry CASCADE",
        "TRUNCATE core_record CASCADE",
        "ALTER TABLE core_recordversion DISABLE TRIGGER core_recordversion_append_only",
        "ALTER TABLE core_auditentry DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "CREATE TRIGGER t BEFORE UPDATE ON core_auditentry FOR EACH ROW EXECUTE FUNCTION qms_refuse_change()",
        "DROP TABLE core_auditentry CASCADE",
        "UPDATE evidence_tombstone SET reason = 'forged'",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('core', 'x', now())",
    ]
    with psycopg.connect(**roles["app_conninfo"]) as conn:
        before = conn.execute("SELECT count(*), max(seq) FROM core_auditentry").fetchone()
        assert before[0] > 0
        for statement in refused:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        # a record without a tombstone cannot be blanked through the owner-rights function
        kept = conn.execute("SELECT id FROM core_record WHERE status <> 'destroyed'").fetchone()
        with pytest.raises(errors.InsufficientPrivilege, match="no tombstone"):
            conn.execute("SELECT qms_blank_destroyed_versions(%s)", kept)
        assert conn.execute("SELECT count(*), max(seq) FROM core_auditentry").fetchone() == before
        # the allowed case beside: reading, appending and moving the head forward are what the application does
        conn.execute("SELECT * FROM core_signature LIMIT 1")
        conn.execute("UPDATE core_audithead SET last_seq = last_seq")
