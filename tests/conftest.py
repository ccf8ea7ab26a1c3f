import datetime

import pytest
from django.utils import timezone

pytest_plugins = ["worker"]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The token endpoint's rate limit counts attempts in Django's cache: every test starts from none."""
    from django.core.cache import cache

    cache.clear()


def make_people():
    """The demo's people (by user name) and its catalogue of customers and products."""
    from workflows.demo import create_catalog, create_people

    users = create_people()
    create_catalog()
    return users


@pytest.fixture
def media_root(settings, tmp_path):
    """The stored files (MEDIA_ROOT) in the test's own folder: a module whose tests write PDFs or uploads names it in
    `pytestmark = [..., pytest.mark.usefixtures("media_root")]`; a test that looks at the files asks for it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(db):
    return make_people()


@pytest.fixture(scope="module")
def module_people(django_db_setup, django_db_blocker):
    """For a module whose tests share data made once: the people (make_people), made in a transaction that stays
    open for the whole module and is rolled back at its end. A module-scoped fixture that requests this one makes
    its own data in the same transaction; each test then runs in a savepoint of it, rolled back after the test.
    Such a module overrides `people` to return these (a second set could not have the same user names)."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield make_people()
        transaction.set_rollback(True)


@pytest.fixture
def english(settings):
    """For tests that read the English messages (the UI's default language is zh-Hans):
    pytestmark = [..., pytest.mark.usefixtures("english")]."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def credentials_kept_fresh(settings):
    """For tests that move the clock months or years ahead to reach a date (a periodic review,
    a retention period): people change their passwords and sign in again in the meantime, so
    neither the password expiry nor the API token's age is what these tests are about (both
    are tested in tests/test_tokens_and_lockout.py and tests/test_security.py)."""
    settings.QMS = {**settings.QMS, "PASSWORD_MAX_AGE_DAYS": 0, "API_TOKEN_MAX_AGE_HOURS": 0}


def in_days(days=30):
    """The ISO date `days` from today (the `future` fixture; usable where a fixture is not)."""
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def order_payload(kind="order", number="PO-2026-001", quantity="500", customer="C001", **extra):
    """A P1 order review's start data (the `order_data` fixture; usable where a fixture is not)."""
    return {
        "kind": kind, "customer": customer, "order_number": number,
        "order_date": timezone.localdate().isoformat(),
        "payment_terms": "月结 30 天 Net 30", "delivery_place": "上海 Shanghai", "transport": "纸箱 Carton",
        "special_requirements": "RoHS 合规 RoHS compliant",
        "lines": [
            {"product": "P-1001", "quantity": quantity, "unit_price": "12.50", "delivery_date": in_days(30)},
            {"product": "P-1002", "quantity": "300", "unit_price": "8.00", "delivery_date": in_days(45)},
        ],
        **extra,
    }


@pytest.fixture
def future():
    return in_days


@pytest.fixture
def order_data():
    return order_payload


@pytest.fixture(scope="session")
def migrated_sqlite():
    """A new, empty SQLite database migrated by `manage.py migrate` (manage_support.migrated_template, made once per
    migration state); a test that restores into a fresh database takes a copy of it (manage_support.fresh_database)
    instead of migrating its own."""
    from manage_support import migrated_template

    return migrated_template()


@pytest.fixture(scope="session")
def _test_databases_from_a_migrated_template():
    """While pytest-django creates the test databases (only then: see django_db_setup below), each starts from a
    database already migrated to the current migration state, so that its `migrate` applies nothing (a few
    seconds instead of 45 s or more per test process): a SQLite one is loaded with manage_support's migrated
    file, a PostgreSQL one is created from manage_support's migrated database (its TEST TEMPLATE). Returns the
    patch to stop once they are created."""
    from unittest import mock

    from django.conf import settings
    from django.core import management
    from django.db import connections

    from manage_support import load_template_into, migrated_postgres_template, migrated_template

    sqlite = {}
    for alias, config in settings.DATABASES.items():
        if config["ENGINE"].endswith("sqlite3"):
            sqlite[alias] = migrated_template()
        elif config["ENGINE"].endswith("postgresql") and not config.get("TEST", {}).get("TEMPLATE"):
            template = migrated_postgres_template(config)
            for settings_dict in (config, connections[alias].settings_dict):
                settings_dict.setdefault("TEST", {})["TEMPLATE"] = template
    if not sqlite:
        return None
    call_command = management.call_command

    def from_template(name, *args, **options):
        alias = options.get("database")
        if name == "migrate" and alias in sqlite:
            load_template_into(connections[alias], sqlite.pop(alias))
        return call_command(name, *args, **options)

    patch = mock.patch.object(management, "call_command", from_template)
    patch.start()
    return patch


@pytest.fixture(scope="session")
def django_db_setup(_test_databases_from_a_migrated_template, django_db_setup):
    """pytest-django's test databases, made from a migrated template (above); a test's own
    `call_command("migrate")` later in the session runs the real command."""
    if _test_databases_from_a_migrated_template is not None:
        _test_databases_from_a_migrated_template.stop()
    yield
