"""The migrated SQLite database the test processes load their test database from (manage_support.migrated_template)
is what `manage.py migrate` makes today: same schema, same rows. Marked `fidelity` (run by .ci/run's part (d)),
as it migrates from nothing once more (about 45 s)."""
import sqlite3

import pytest

from manage_support import migrate_empty, migrated_template

pytestmark = pytest.mark.fidelity


def contents(path):
    """Every statement that rebuilds the database (schema and rows), and the migrations it records as applied
    (without the time each was applied)."""
    db = sqlite3.connect(path)
    try:
        dump = sorted(line for line in db.iterdump() if 'INSERT INTO "django_migrations"' not in line)
        applied = sorted(db.execute("SELECT app, name FROM django_migrations").fetchall())
    finally:
        db.close()
    return dump, applied


def test_the_kept_template_is_what_a_migrate_from_nothing_makes(tmp_path):
    template = migrated_template()
    fresh = migrate_empty(tmp_path)
    template_dump, template_applied = contents(template)
    fresh_dump, fresh_applied = contents(fresh)
    assert template_applied == fresh_applied and len(fresh_applied) > 100
    assert template_dump == fresh_dump
