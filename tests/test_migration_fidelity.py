"""Issue 12's no-data-loss constraint, end to end: a database made by the last commit before the
one-app-per-procedure reorganisation (BEFORE_REORGANISATION), with the demo seeded and its PDFs
rendered, migrates to the current layout; then `verify_audit` passes and every record version's
content hash, every signature and every stored file is byte-for-byte what it was. The current
code's demo seeds the same numbers of processes, tasks, records and signatures.

Slow (two demo seeds with PDF rendering, about four minutes on two cores): marked `fidelity`, run
by `.ci/run` as its own command (`bash scripts/test.sh -m fidelity`). The old commit is checked
out with `git worktree` beside this working copy and run with this virtualenv."""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fidelity

ROOT = Path(__file__).resolve().parent.parent
BEFORE_REORGANISATION = "5c527d1"  # main before issue 12 (one app per procedure)
# Controlled documents the demo register issues since then (issue 13: the complaint analysis form
# QR-MK-004; issue 16: the customer requirement form QR-MK-005); their processes, tasks, records and
# signatures are not compared.
DOCUMENTS_ADDED_SINCE = ("QR-MK-004", "QR-MK-005", "QR-MK-006", "QR-EN-001",
                         "QR-QA-005", "QR-MK-007")  # issue 17: the management-review pack, the satisfaction survey
# Procedures added since (issue 16: P5 customer requirements): their demo processes are not compared.
APPS_ADDED_SINCE = ("requirements", "management_review")  # issue 17: the management review's flow
# Processes of older procedures that the P5 demo starts (issue 16): the CAPA raised from a requirement, and the
# P1 order of C001 whose reviews address its customer-specific requirement (P1's late_seed).
# Record types added since that belong to no process (issue 16: a KANO study, a house of quality).
RECORD_TYPES_ADDED_SINCE = ("kano_study", "house_of_quality",
                            "satisfaction_survey", "contract_ledger")  # issue 17 surveys, issue 14 printed ledgers
# Steps added since to older flows (issue 14: Market's own review of an order, src 6.3.8): their tasks and
# signatures in the P1 demo processes are not compared.
STEPS_ADDED_SINCE = ("review_market",)
PROCESSES_ADDED_SINCE = (
    "SELECT r.process_id FROM requirements_requirementraised x JOIN core_record r ON r.id = x.record_id",
    "SELECT r.process_id FROM forms_orderreview o JOIN core_record r ON r.id = o.record_id "
    "WHERE o.order_number = 'PO-DEMO-005'",
    # issue 14: the internal (IQC) nonconformity the P2 demo now opens
    "SELECT r.process_id FROM forms_complaintcase c JOIN core_record r ON r.id = c.record_id "
    "WHERE c.origin <> 'customer'",
)


def _run(cwd, var_dir, *args, timeout=1200):
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER"}}
    env.update(QMS_VAR_DIR=str(var_dir), CELERY_TASK_ALWAYS_EAGER="1", DJANGO_SETTINGS_MODULE="config.settings.base",
               PYTHONPATH=str(cwd))
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)} in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _demo_counts(db, leave_out_documents=(), leave_out_apps=(), leave_out_processes=()):
    """Processes, tasks, records and signatures of the demo, leaving out the processes that issued
    `leave_out_documents` (by document number) and those of the flows of `leave_out_apps`."""
    marks = ",".join("?" * len(leave_out_documents)) or "NULL"
    left_out = [row[0] for row in db.execute(
        f"SELECT r.process_id FROM procedures_revision r JOIN procedures_document d ON d.id = r.document_id "  # noqa: S608
        f"WHERE d.number IN ({marks}) AND r.process_id IS NOT NULL", leave_out_documents)]
    for app in leave_out_apps:
        left_out += [row[0] for row in db.execute("SELECT id FROM viewflow_process WHERE flow_class LIKE ?",
                                                  [f"{app}/%"])]
    for sql in leave_out_processes:
        left_out += [row[0] for row in db.execute(sql) if row[0] is not None]
    keep = f"NOT IN ({','.join('?' * len(left_out)) or 'NULL'})" if left_out else "IS NOT -1"
    new_world = bool(leave_out_processes)  # the old one has none of the record types and steps added since
    types = (" AND r.record_type NOT IN (" + ",".join(f"'{t}'" for t in RECORD_TYPES_ADDED_SINCE) + ")"
             if new_world else "")
    task_steps = "".join(f" AND flow_task NOT LIKE '%.{step}'" for step in STEPS_ADDED_SINCE) if new_world else ""
    sign_steps = (" AND s.step NOT IN (" + ",".join(f"'{step}'" for step in STEPS_ADDED_SINCE) + ")"
                  if new_world else "")
    queries = {
        "viewflow_process": f"SELECT COUNT(*) FROM viewflow_process WHERE id {keep}",
        "viewflow_task": f"SELECT COUNT(*) FROM viewflow_task WHERE process_id {keep}{task_steps}",
        "core_record": f"SELECT COUNT(*) FROM core_record r WHERE COALESCE(process_id, -1) {keep}{types}",
        "core_signature": "SELECT COUNT(*) FROM core_signature s JOIN core_recordversion v ON v.id = s.record_version_id "
                          f"JOIN core_record r ON r.id = v.record_id WHERE COALESCE(r.process_id, -1) {keep}{types}"
                          f"{sign_steps}",
    }
    return {table: db.execute(sql, left_out).fetchone()[0] for table, sql in queries.items()}


def _evidence(var_dir, leave_out_documents=(), leave_out_apps=(), leave_out_processes=()):
    """What must not change: versions (hash, data), signatures, stored files and their bytes."""
    db = sqlite3.connect(var_dir / "qms.sqlite3")
    try:
        demo = _demo_counts(db, leave_out_documents, leave_out_apps, leave_out_processes)
        versions = sorted(db.execute("SELECT r.number, v.version, v.content_hash, v.data FROM core_recordversion v "
                                     "JOIN core_record r ON r.id = v.record_id"))
        signatures = sorted(db.execute("SELECT id, signer_username, meaning, reason, signed_at, content_hash, "
                                       "signature_hash, record_version_id FROM core_signature"))
        files = sorted(db.execute("SELECT id, kind, file, sha256, size, record_version_id FROM core_recordfile"))
        counts = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 (fixed names)
                  for table in ("viewflow_process", "viewflow_task", "core_record", "core_signature",
                                "core_auditentry")}
    finally:
        db.close()
    media = var_dir / "media"
    contents = {}
    for _id, _kind, name, sha256, _size, _version in files:
        data = (media / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256, name
        contents[name] = sha256
    return {"versions": versions, "signatures": signatures, "files": files, "contents": contents, "counts": counts,
            "demo": demo}


@pytest.fixture(scope="module")
def old_world(tmp_path_factory):
    if shutil.which("git") is None or subprocess.run(
            ["git", "cat-file", "-e", f"{BEFORE_REORGANISATION}^{{commit}}"], cwd=ROOT,
            capture_output=True).returncode != 0:
        pytest.fail(f"commit {BEFORE_REORGANISATION} is not in this checkout: fetch the history (git fetch --unshallow)")
    base = tmp_path_factory.mktemp("fidelity")
    tree, var_dir = base / "old", base / "old-var"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), BEFORE_REORGANISATION], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        _run(tree, var_dir, "migrate", "-v", "0")
        _run(tree, var_dir, "seed_demo")
        yield var_dir
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def test_an_old_database_migrates_and_keeps_every_hash_signature_and_file(old_world, tmp_path):
    before = _evidence(old_world)
    assert before["counts"]["core_record"] > 0 and before["files"], "the old demo made records and PDFs"
    migrated = tmp_path / "migrated"
    shutil.copytree(old_world, migrated)
    _run(ROOT, migrated, "migrate", "-v", "0")
    report = _run(ROOT, migrated, "verify_audit")
    assert "FAIL" not in report, report[-3000:]
    after = _evidence(migrated)
    assert after["versions"] == before["versions"]
    assert after["signatures"] == before["signatures"]
    assert after["files"] == before["files"] and after["contents"] == before["contents"]
    # the migration itself writes no audit entry and changes no process or task
    assert after["counts"] == before["counts"]


def test_the_demo_seeds_the_same_numbers_as_before(old_world, tmp_path):
    before = _evidence(old_world)["demo"]
    _run(ROOT, tmp_path, "migrate", "-v", "0")
    _run(ROOT, tmp_path, "seed_demo")
    now = _evidence(tmp_path, DOCUMENTS_ADDED_SINCE, APPS_ADDED_SINCE, PROCESSES_ADDED_SINCE)["demo"]
    assert now == before
