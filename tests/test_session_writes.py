"""Issue 15.2: a page view writes the session back only when its content changed. viewflow's lists
store the page to return to on every view; an unchanged session is not saved again, and a login,
a new value and a logout still are (accounts.middleware.UnchangedSessionMiddleware)."""
import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def session_writes(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in ctx.captured_queries
            if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_the_same_page_twice_writes_the_session_once(people):
    client = Client()
    client.force_login(people["quality"])
    assert len(session_writes(client, "/qms/inbox/")) == 1  # the return path is new: stored
    assert session_writes(client, "/qms/inbox/") == []  # the same value: not written again
    assert len(session_writes(client, "/qms/queue/")) == 1  # another page: stored
    key = client.session.session_key
    assert Session.objects.get(session_key=key).get_decoded()["vf-pin-location"] == "/qms/queue/"


def test_login_and_logout_still_write_the_session(people):
    client = Client()
    response = client.post("/accounts/login/", {"username": "quality", "password": "Demo-pass-2026"})
    assert response.status_code == 302
    key = client.session.session_key
    assert Session.objects.get(session_key=key).get_decoded()["_auth_user_id"] == str(people["quality"].pk)
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
