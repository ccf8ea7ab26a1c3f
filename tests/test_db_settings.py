"""PostgreSQL connections: parameters bound by the server and statements prepared from their second run on a
connection (config.settings.base, issue 15: less parsing and planning per statement); DB_PREPARE_THRESHOLD=off
gives Django's defaults back (a pooler in transaction mode that does not track prepared statements)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User

ROOT = Path(__file__).resolve().parents[1]


def _options(**env):
    code = ("import json; from config.settings import base; "
            "print(json.dumps(base.DATABASES['default'].get('OPTIONS') or {}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_postgresql_binds_on_the_server_and_prepares_unless_told_not_to():
    assert _options() == {"server_side_binding": True, "prepare_threshold": 2}
    assert _options(DB_PREPARE_THRESHOLD="5") == {"server_side_binding": True, "prepare_threshold": 5}
    assert _options(DB_PREPARE_THRESHOLD="off") == {}


@pytest.mark.django_db
def test_a_statement_run_twice_on_a_connection_is_prepared(people):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(3):
        assert User.objects.filter(username="quality").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "accounts_user"' in statement and "$1" in statement for statement in prepared), prepared
