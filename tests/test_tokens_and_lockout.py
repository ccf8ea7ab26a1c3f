"""SIG-12 (21 CFR 11.300): API tokens expire and are revoked on a password change, a login
lock-out and a deactivation; a signature asks the same questions whatever authenticated the
request; the login lock-out is a fixed window that tells the user when it ends (issue 11
items 5 and 10)."""
import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from api_driver import client_for, signature
from core.models import AuditEntry
from p1_driver import open_task, start
from workflows.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def fail_logins(username, times=5, client=None):
    client = client or Client()
    for _ in range(times):
        client.post("/accounts/login/", {"username": username, "password": "wrong-password"})
    return client


def test_a_token_expires_after_its_maximum_age_and_a_new_one_is_issued(people, settings):
    settings.QMS = {**settings.QMS, "API_TOKEN_MAX_AGE_HOURS": 8}
    api = client_for("quality")
    old = Token.objects.get(user=people["quality"]).key
    assert api.get("/api/tasks/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=8, minutes=1)):
        response = api.get("/api/tasks/")
        assert response.status_code == 401 and "expired" in response.json()["detail"]
        assert not Token.objects.filter(key=old).exists()
        fresh = client_for("quality")
        assert Token.objects.get(user=people["quality"]).key != old
        assert fresh.get("/api/tasks/").status_code == 200


def test_a_token_younger_than_its_maximum_age_keeps_working(people, settings):
    settings.QMS = {**settings.QMS, "API_TOKEN_MAX_AGE_HOURS": 8}
    api = client_for("quality")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=7, minutes=59)):
        assert api.get("/api/tasks/").status_code == 200


def test_a_password_change_revokes_the_token(people):
    api = client_for("quality")
    user = User.objects.get(username="quality")
    user.set_password("A-new-password-2026")
    user.save()
    assert api.get("/api/tasks/").status_code == 401
    assert not Token.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="auth.tokens_revoked", object_id=str(user.pk),
                                     reason="password changed").exists()


def test_deactivation_revokes_the_token(people):
    api = client_for("finance")
    user = User.objects.get(username="finance")
    user.is_active = False
    user.save()
    assert api.get("/api/tasks/").status_code == 401
    assert not Token.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="auth.tokens_revoked", reason="account deactivated").exists()


def test_a_login_lockout_revokes_the_token_and_refuses_an_old_one(people):
    api = client_for("quality")
    key = Token.objects.get(user=people["quality"]).key
    fail_logins("quality")
    assert not Token.objects.filter(key=key).exists()
    assert api.get("/api/tasks/").status_code == 401
    # even a token re-created behind the system's back is refused while the lock lasts
    Token.objects.create(user=people["quality"], key=key)
    response = token_client(key).get("/api/tasks/")
    assert response.status_code == 401 and "locked until" in response.json()["detail"]


def test_an_expired_password_refuses_the_token_and_the_signature(people, order_data):
    process = start(people["market"], order_data())
    api = client_for("quality")
    task = open_task(process.pk, "review_quality")
    assert api.post(f"/api/tasks/{task.pk}/claim/").status_code == 200
    User.objects.filter(username="quality").update(
        password_changed_at=timezone.now() - datetime.timedelta(days=400))
    response = api.post(f"/api/tasks/{task.pk}/complete/",
                        {"data": {"verdict": "can_meet"}, "signature": signature("quality", "reviewed")},
                        format="json")
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    # and through the browser session, the signature itself is refused
    from core import esign
    from core.errors import SignatureRefused

    with pytest.raises(SignatureRefused) as refused:
        esign.verify_signer(User.objects.get(username="quality"), DEMO_PASSWORD, username="quality")
    assert "expired" in refused.value.message


def test_a_login_locked_user_cannot_sign_through_an_open_browser_session(people):
    from core import esign
    from core.errors import SignatureRefused

    fail_logins("production")
    with pytest.raises(SignatureRefused) as refused:
        esign.verify_signer(User.objects.get(username="production"), DEMO_PASSWORD, username="production")
    assert "locked until" in refused.value.message


def test_signing_is_refused_while_the_sign_in_lock_lasts_and_allowed_after_it(people, settings):
    """The signature's one read of the lock and the accountability statement (core.esign._signer_state)
    gives the same answer as the sign-in page: locked until the window ends, and only that user."""
    from core import esign
    from core.errors import SignatureRefused

    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes
    start_at = timezone.now()
    with time_machine.travel(start_at, tick=False):
        fail_logins("production")
        with pytest.raises(SignatureRefused) as refused:
            esign.verify_signer(User.objects.get(username="production"), DEMO_PASSWORD, username="production")
        until = timezone.localtime(start_at + datetime.timedelta(minutes=15))
        assert until.strftime("%H:%M") in refused.value.message
        esign.verify_signer(User.objects.get(username="quality"), DEMO_PASSWORD, username="quality")  # not locked
    with time_machine.travel(start_at + datetime.timedelta(minutes=15, seconds=5), tick=False):
        esign.verify_signer(User.objects.get(username="production"), DEMO_PASSWORD, username="production")


def test_the_lockout_window_is_fixed_and_the_page_says_when_it_ends(people, settings):
    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes
    start_at = timezone.now()
    with time_machine.travel(start_at, tick=False):
        client = fail_logins("quality")
        response = client.post("/accounts/login/", {"username": "quality", "password": DEMO_PASSWORD})
        assert response.status_code == 403
        until = timezone.localtime(start_at + datetime.timedelta(minutes=15))
        assert until.strftime("%H:%M") in response.content.decode()
    # an attacker keeps trying every few minutes: the lock does not move
    for minutes in (5, 10, 14):
        with time_machine.travel(start_at + datetime.timedelta(minutes=minutes), tick=False):
            assert client.post("/accounts/login/", {"username": "quality", "password": "wrong"}).status_code == 403
    with time_machine.travel(start_at + datetime.timedelta(minutes=15, seconds=5), tick=False):
        response = Client().post("/accounts/login/", {"username": "quality", "password": DEMO_PASSWORD})
        assert response.status_code == 302


def test_the_api_says_when_the_lock_ends(people):
    api = APIClient()
    for _ in range(5):
        api.post("/api/auth/token/", {"username": "quality", "password": "bad"}, format="json")
    response = api.post("/api/auth/token/", {"username": "quality", "password": DEMO_PASSWORD}, format="json")
    assert response.status_code == 403
    body = response.json()
    assert "locked until" in body["detail"] and body["locked_until"]
