"""`manage.py` run in a subprocess against a new, empty database: a restore, a verification (the backup and
anchoring tests)."""
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
