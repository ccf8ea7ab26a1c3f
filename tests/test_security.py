"""Security as a feature: deploy checks, login throttling, audited access changes,
the two-component signing rule, CSRF."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Membership
from core.models import AuditEntry
from drivers import WebDriver, open_task
from p1_driver import start
from procedures.order_review.seed import review_answers
from workflows.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-0123456789",
           "ALLOWED_HOSTS": "qms.example.com", "DATABASE_URL": "sqlite:////tmp/qms-deploy-check.sqlite3"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account_and_are_audited(people):
    client = Client()
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "quality", "password": "wrong"})
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 5
    response = client.post("/accounts/login/", {"username": "quality", "password": DEMO_PASSWORD})
    assert response.status_code in (403, 429), "locked out even with the right password"
    other = Client()
    assert other.post("/accounts/login/", {"username": "market", "password": DEMO_PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_api_token_requests_are_locked_out_too(people):
    from rest_framework.test import APIClient

    client = APIClient()
    for _ in range(5):
        assert client.post("/api/auth/token/", {"username": "quality", "password": "bad"}).status_code in (400, 403, 429)
    response = client.post("/api/auth/token/", {"username": "quality", "password": DEMO_PASSWORD})
    assert response.status_code != 200


@pytest.mark.django_db
def test_granting_and_revoking_a_role_is_audited(people):
    membership = Membership.objects.create(user=people["finance"], department="quality", role="manager")
    granted = AuditEntry.objects.filter(action="access.granted", object_id=str(membership.pk)).get()
    assert granted.new_values == {"user": "finance", "department": "quality", "role": "manager"}
    membership.delete()
    assert AuditEntry.objects.filter(action="access.revoked", old_values__user="finance").exists()


@pytest.mark.django_db
def test_first_signature_of_a_session_needs_the_user_id_and_later_ones_only_the_password(people, order_data):
    process = start(people["market"], order_data())
    web = WebDriver()
    client = web.client("quality")
    task = open_task(process.pk, "review_quality")
    client.post(f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/assign/")
    url = f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/execute/"
    page = client.get(url).content.decode()
    assert 'name="sig-username"' in page
    response = client.post(url, {"verdict": "can_meet", **review_answers("quality"), "sig-password": DEMO_PASSWORD,
                                 "sig-meaning": "reviewed"})
    assert response.status_code == 200 and "username" in response.context["signature_form"].errors
    response = client.post(url, {"verdict": "can_meet", **review_answers("quality"), "sig-username": "quality",
                                 "sig-password": DEMO_PASSWORD, "sig-meaning": "reviewed"})
    assert response.status_code == 302
    # a second task in the same session: the password alone
    Membership.objects.create(user=people["quality"], department="production", role="staff")
    task = open_task(process.pk, "review_production")
    client.post(f"/qms/flows/orderreview/{process.pk}/review_production/{task.pk}/assign/")
    url = f"/qms/flows/orderreview/{process.pk}/review_production/{task.pk}/execute/"
    assert 'name="sig-username"' not in client.get(url).content.decode()
    response = client.post(url, {"verdict": "can_meet", **review_answers("production"), "sig-password": DEMO_PASSWORD,
                                 "sig-meaning": "reviewed"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_browser_posts_without_a_csrf_token_are_refused(people, order_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["market"])
    response = client.post("/qms/flows/orderreview/start/", {"kind": "order"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_signing_with_a_wrong_password_in_the_browser_keeps_the_input_and_says_why(people, order_data):
    process = start(people["market"], order_data())
    client = WebDriver().client("quality")
    task = open_task(process.pk, "review_quality")
    client.post(f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/assign/")
    url = f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/execute/"
    response = client.post(url, {"verdict": "conditions", "comment": "交期紧 tight lead time", **review_answers("quality"),
                                 "sig-username": "quality", "sig-password": "nope", "sig-meaning": "reviewed"})
    assert response.status_code == 200
    assert response.context["signature_form"].errors["password"]
    assert "交期紧 tight lead time" in response.content.decode()  # nothing the user typed is lost
    assert AuditEntry.objects.filter(action="esign.failed").count() == 1


@pytest.mark.django_db
def test_an_administrator_unlocks_signing_with_an_audit_entry_and_cannot_delete_users(people, admin_client):
    from accounts.models import User

    User.objects.filter(pk=people["quality"].pk).update(signing_failures=5, signing_locked_at="2026-01-01T00:00Z")
    admin_client.force_login(people["admin"])
    response = admin_client.post("/admin/accounts/user/", {"action": "unlock_signing",
                                                           "_selected_action": [people["quality"].pk]})
    assert response.status_code == 302
    people["quality"].refresh_from_db()
    assert people["quality"].signing_locked_at is None and people["quality"].signing_failures == 0
    assert AuditEntry.objects.filter(action="esign.unlocked", object_id=str(people["quality"].pk)).exists()
    assert admin_client.get(f"/admin/accounts/user/{people['quality'].pk}/delete/").status_code == 403
    admin_client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [people["finance"].pk]})
    people["finance"].refresh_from_db()
    assert not people["finance"].is_active
    assert AuditEntry.objects.filter(action="user.activation_changed", object_id=str(people["finance"].pk)).exists()


@pytest.mark.django_db
def test_an_expired_password_must_be_changed_before_anything_else(people, settings):
    import datetime

    from django.utils import timezone

    from accounts.models import User

    settings.QMS = {**settings.QMS, "PASSWORD_MAX_AGE_DAYS": 90}
    User.objects.filter(pk=people["quality"].pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=91))
    client = Client()
    assert client.post("/accounts/login/", {"username": "quality", "password": DEMO_PASSWORD}).status_code == 302
    response = client.get("/qms/inbox/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password_change/"
    assert client.get("/accounts/password_change/").status_code == 200
    new = "Another-pass-2027!"
    response = client.post("/accounts/password_change/", {"old_password": DEMO_PASSWORD, "new_password1": new,
                                                          "new_password2": new})
    assert response.status_code == 302
    assert client.get("/qms/inbox/").status_code == 200
    assert AuditEntry.objects.filter(action="user.password_changed", object_id=str(people["quality"].pk)).exists()


@pytest.mark.django_db
def test_an_expired_password_gets_no_api_token(people, settings):
    import datetime

    from django.utils import timezone
    from rest_framework.test import APIClient

    from accounts.models import User

    settings.QMS = {**settings.QMS, "PASSWORD_MAX_AGE_DAYS": 90}
    User.objects.filter(pk=people["market"].pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=91))
    response = APIClient().post("/api/auth/token/", {"username": "market", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert APIClient().post("/api/auth/token/", {"username": "quality", "password": DEMO_PASSWORD}).status_code == 200
