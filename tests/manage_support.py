"""`manage.py` run in a subprocess against a new, empty database: a restore, a verification (the backup and
anchoring tests)."""
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sqlite_env(var_dir, database, **extra):
    """The environment of a `manage.py` subprocess on the SQLite database `database`, files in `var_dir`."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "QMS_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{database}", "CELERY_TASK_ALWAYS_EAGER": "1", **extra}


def manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def migrate_empty(directory):
    """A new SQLite database in `directory`, migrated by `manage.py migrate` (about half a minute)."""
    database = directory / "empty.sqlite3"
    result = manage(sqlite_env(directory / "var", database), "migrate", "--noinput")
    assert result.returncode == 0, result.stdout + result.stderr
    return database


def fresh_database(migrated, tmp_path, name, **extra):
    """The environment of `manage.py` on `name`, a fresh, empty, migrated database of this test: a copy of
    `migrated` (the migrated_sqlite fixture), byte for byte what a migrate of its own would make."""
    shutil.copyfile(migrated, tmp_path / name)
    return sqlite_env(tmp_path / "var", tmp_path / name, **extra)


# --- One migrated SQLite database per migration state --------------------------------------------------------------
# `manage.py migrate` from nothing takes 45 s of CPU (Django renders the model state of 135 migrations), and every
# test process used to pay it at least once: the test database of each pytest-xdist worker, and the empty database
# the restore tests copy. The migrated database is kept in build/test-db/, named by a digest of everything that
# shapes it (the Django version and every migration file of every installed app, with the project modules those
# files import); a change to any of them names a new file, made by a real migrate. Test processes that start at
# once wait for the one that builds it (a file lock), and a test database loaded from it is then migrated as
# usual, which applies nothing and runs the post_migrate receivers as on any database.
TEMPLATE_DIR = ROOT / "build" / "test-db"


def _imported_project_files(path):
    """The project's own source files a migration file imports (core.migration_ops, accounts.models …)."""
    import ast

    files = []
    for node in ast.walk(ast.parse(path.read_bytes())):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else (
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            candidate = ROOT.joinpath(*name.split("."))
            for source in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if source.is_file():
                    files.append(source)
    return files


@functools.cache
def migration_state_digest():
    """A digest of what a migrate from nothing depends on: Django's version and, for every installed app, each
    migration file with the project files it imports (worked out once per test process: the test databases and
    the restore tests' empty database both ask)."""
    import hashlib
    import importlib

    import django
    from django.apps import apps

    digest = hashlib.sha256(f"django {django.get_version()}\n".encode())
    for app in sorted(apps.get_app_configs(), key=lambda config: config.label):
        try:
            module = importlib.import_module(f"{app.name}.migrations")
        except ModuleNotFoundError:
            continue
        for path in sorted(Path(module.__file__).parent.glob("*.py")):
            for source in [path, *sorted(set(_imported_project_files(path)))]:
                digest.update(f"{app.label}/{path.name} {source.name}\n".encode())
                digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def migrated_template():
    """The path of an empty SQLite database migrated to the current migration state, built on first use (about
    45 s) and kept in build/test-db/ for the next test process and run."""
    import fcntl
    import sqlite3
    import tempfile

    TEMPLATE_DIR.mkdir(parents=True, exist_ok=True)
    target = TEMPLATE_DIR / f"migrated-{migration_state_digest()}.sqlite3"
    with open(TEMPLATE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process building the same file: wait for it
        if not target.exists():
            with tempfile.TemporaryDirectory(dir=TEMPLATE_DIR) as directory:
                database = migrate_empty(Path(directory))
                db = sqlite3.connect(database)
                try:  # one self-contained file: no write-ahead log beside it
                    db.execute("PRAGMA journal_mode=DELETE")
                finally:
                    db.close()
                database.replace(target)
            for stale in TEMPLATE_DIR.glob("migrated-*.sqlite3"):
                if stale != target:
                    stale.unlink(missing_ok=True)
    return target


def load_template_into(connection, template):
    """Copy the migrated `template` into the (empty, new) SQLite test database of `connection`."""
    import sqlite3

    connection.ensure_connection()
    source = sqlite3.connect(template)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def migrated_postgres_template(settings_dict):
    """The name of a PostgreSQL database migrated to the current migration state (`qms_migrated_<digest>`), made
    on first use by `manage.py migrate` on the server of `settings_dict` and kept there: a test database is then
    created from it (CREATE DATABASE … TEMPLATE) instead of migrating from nothing. Older ones are dropped."""
    import fcntl
    import tempfile
    from urllib.parse import quote

    import psycopg

    name = f"qms_migrated_{migration_state_digest()}"
    building = f"{name}_building"
    server = {"host": settings_dict.get("HOST") or "localhost", "port": settings_dict.get("PORT") or 5432,
              "user": settings_dict.get("USER") or None, "password": settings_dict.get("PASSWORD") or None}
    TEMPLATE_DIR.mkdir(parents=True, exist_ok=True)
    with open(TEMPLATE_DIR / ".lock-postgres", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process building the same database: wait for it
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as db:
            names = {row[0] for row in
                     db.execute("SELECT datname FROM pg_database WHERE datname LIKE 'qms_migrated_%'")}
            if name not in names:
                db.execute(f'DROP DATABASE IF EXISTS "{building}"')
                db.execute(f'CREATE DATABASE "{building}"')
                password = f":{quote(server['password'], safe='')}" if server["password"] else ""
                user = f"{quote(server['user'], safe='')}{password}@" if server["user"] else ""
                url = f"postgres://{user}{server['host']}:{server['port']}/{building}"
                with tempfile.TemporaryDirectory() as directory:
                    result = manage({**sqlite_env(directory, "unused"), "DATABASE_URL": url}, "migrate", "--noinput")
                assert result.returncode == 0, result.stdout + result.stderr
                db.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
            for stale in names - {name}:
                db.execute(f'DROP DATABASE IF EXISTS "{stale}"')
    return name
