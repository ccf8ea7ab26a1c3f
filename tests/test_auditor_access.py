"""SIG-4, SIG-14: auditors are read-only everywhere (every URL and endpoint, every
method), limited in time and scope, and everything they open is audited."""
import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.access import records_visible_to
from core.models import AuditEntry, Record, RecordFile, RecordVersion, Signature
from accounts.models import User
from inbox.models import Delegation
from evidence import grants
from evidence.middleware import ALLOWED_WRITES
from evidence.models import AuditorGrant
from inbox.models import NotificationPreference
from evidence_support import auditor, make_auditor, other_record_type, record  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

CONVERTERS = {"int": "1", "id": "1", "str": "x", "slug": "x", "path": "x/y", "uuid": "00000000-0000-0000-0000-000000000000"}


def _route(pattern):
    text = str(pattern.pattern)
    text = re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTERS.get(m.group(1) or "str", "x"), text)
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", text)  # regex patterns: each named group → "1"
    return text.replace("^", "").replace("$", "").replace("\\", "").replace("?", "")


def every_url(resolver=None, prefix="/"):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from every_url(entry, prefix + _route(entry))
        elif isinstance(entry, URLPattern):
            yield prefix + _route(entry)


def state():
    return (Record.objects.count(), RecordVersion.objects.count(), Signature.objects.count(),
            RecordFile.objects.count(), list(Record.objects.values_list("status", flat=True)))


def test_the_auditor_cannot_change_anything_anywhere(record, auditor):
    urls = sorted(set(every_url()) | {f"/qms/records/{record.number}/", f"/api/records/{record.pk}/"})
    assert len(urls) > 100
    web = Client()
    web.force_login(auditor)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=auditor).key}")
    before, refused_before = state(), AuditEntry.objects.filter(action="auditor.refused").count()
    tried = 0
    for url in urls:
        if url.startswith(ALLOWED_WRITES):
            continue
        for method in ("post", "put", "patch", "delete"):
            # the token authenticates API calls only; elsewhere that client is anonymous (sent to log in)
            for client in ((web, api) if url.startswith("/api/") else (web,)):
                response = getattr(client, method)(url, data={}, follow=False)
                assert response.status_code == 403, (method, url, response.status_code)
                tried += 1
    assert state() == before
    assert AuditEntry.objects.filter(action="auditor.refused").count() - refused_before == tried


def test_only_sign_out_language_and_bundle_requests_are_writable_for_auditors():
    assert ALLOWED_WRITES == ("/accounts/logout/", "/i18n/setlang/", "/qms/evidence/bundles/new/",
                              "/api/evidence/bundles/", "/api/auth/token/", "/accounts/password_change/")


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN", "Token\t"])
def test_the_auditor_is_read_only_and_audited_whatever_the_spelling_of_the_token_header(auditor, scheme):
    """DRF accepts the keyword in any case and any whitespace; read-only mode and the access
    log follow the user DRF authenticated, not the header's text."""
    key = Token.objects.create(user=auditor).key
    api = APIClient()
    separator = "" if scheme.endswith("\t") else " "
    api.credentials(HTTP_AUTHORIZATION=f"{scheme}{separator}{key}")
    viewed = AuditEntry.objects.filter(action="auditor.viewed").count()
    assert api.get("/api/records/").status_code == 200
    assert AuditEntry.objects.filter(action="auditor.viewed").count() == viewed + 1
    before = (Delegation.objects.count(), NotificationPreference.objects.count())
    put = api.put("/api/me/notification-preferences/", {"reminder": {"email": False, "in_app": True}}, format="json")
    post = api.post("/api/me/delegations/", {"substitute": "quality", "starts_on": "2027-01-04",
                                             "ends_on": "2027-01-05", "reason": "x"}, format="json")
    assert (put.status_code, post.status_code) == (403, 403)
    assert (Delegation.objects.count(), NotificationPreference.objects.count()) == before
    refused = AuditEntry.objects.filter(action="auditor.refused", actor=auditor).order_by("-seq")[:2]
    assert {e.new_values["path"] for e in refused} == {"/api/me/notification-preferences/", "/api/me/delegations/"}


def test_a_revoked_or_expired_grant_leaves_the_user_read_only_until_the_role_is_ended(auditor, people):
    grant = AuditorGrant.objects.get(user=auditor)
    grants.revoke_auditor_access(grant, revoked_by=people["admin"], reason="审核结束 audit over")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=auditor).key}")
    listed = api.get("/api/records/")
    assert listed.status_code == 200 and listed.json()["count"] == 0  # the grant no longer shows anything
    put = api.put("/api/me/notification-preferences/", {"reminder": {"email": False, "in_app": True}}, format="json")
    assert put.status_code == 403
    auditor = User.objects.get(pk=auditor.pk)
    grants.end_auditor_role(auditor, actor=people["admin"], reason="转为员工 joins as staff")
    assert AuditEntry.objects.filter(action="access.auditor_role_ended").count() == 1
    put = api.put("/api/me/notification-preferences/", {"reminder": {"email": False, "in_app": True}}, format="json")
    assert put.status_code == 200


def test_a_department_member_is_not_held_by_the_auditor_guard(record, people):
    client = Client()
    client.force_login(people["quality"])
    response = client.post("/qms/evidence/bundles/new/", {"scope": "selected", "record": [record.pk]})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action__startswith="auditor.").exists()


def test_every_page_and_file_the_auditor_opens_is_audited(record, auditor):
    pdf = RecordFile.objects.filter(record_version__record=record, kind="pdf").select_related("record_version").get()
    version = pdf.record_version.version
    client = Client()
    client.force_login(auditor)
    pages = ["/qms/records/", f"/qms/records/?q={record.number}", f"/qms/records/{record.number}/",
             f"/qms/records/{record.number}/v{version}/pdf/"]
    for url in pages:
        assert client.get(url).status_code == 200, url
    api = APIClient()
    api.force_login(auditor)
    for url in ["/api/records/", f"/api/records/{record.pk}/", f"/api/records/{record.pk}/audit/",
                f"/api/records/{record.pk}/pdf/?version={version}"]:
        assert api.get(url).status_code == 200, url
    viewed = list(AuditEntry.objects.filter(action="auditor.viewed", actor=auditor).order_by("seq"))
    assert [e.new_values["path"] for e in viewed] == [
        "/qms/records/", "/qms/records/", f"/qms/records/{record.number}/",
        f"/qms/records/{record.number}/v{version}/pdf/", "/api/records/",
        f"/api/records/{record.pk}/", f"/api/records/{record.pk}/audit/", f"/api/records/{record.pk}/pdf/"]
    assert viewed[1].new_values["query"] == f"q={record.number}"
    assert AuditEntry.objects.filter(action="record.downloaded", actor=auditor).count() == 2


def test_the_auditor_sees_records_only_inside_the_grant_window(record, people):
    start = timezone.now() + datetime.timedelta(days=1)
    user = make_auditor(people, valid_from=start, valid_until=start + datetime.timedelta(days=2))
    client = Client()
    client.force_login(user)
    assert client.get(f"/qms/records/{record.number}/").status_code == 403
    assert not records_visible_to(user).exists()
    with time_machine.travel(start + datetime.timedelta(hours=1)):
        user = type(user).objects.get(pk=user.pk)
        assert list(records_visible_to(user)) == [record]
        client.force_login(user)
        assert client.get(f"/qms/records/{record.number}/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(days=3)):
        user = type(user).objects.get(pk=user.pk)
        assert not records_visible_to(user).exists()
        client.force_login(user)
        assert client.get("/qms/records/").status_code == 403
        assert client.post("/api/records/", {}).status_code == 403  # still read-only after expiry


def test_the_auditor_sees_only_the_record_types_and_dates_granted(record, people):
    other_type = make_auditor(people, "auditor_types", record_types=[other_record_type(record)])
    right_type = make_auditor(people, "auditor_right", record_types=[record.record_type])
    old_only = make_auditor(people, "auditor_old", date_to=timezone.localdate() - datetime.timedelta(days=1))
    this_year = make_auditor(people, "auditor_now", date_from=timezone.localdate())
    assert not records_visible_to(other_type).exists()
    assert list(records_visible_to(right_type)) == [record]
    assert not records_visible_to(old_only).exists()
    assert list(records_visible_to(this_year)) == [record]
    api = APIClient()
    api.force_authenticate(other_type)
    assert api.get(f"/api/records/{record.pk}/").status_code == 404


def test_a_revoked_grant_gives_no_access_and_granting_is_audited(record, people):
    from evidence.grants import revoke_auditor_access

    user = make_auditor(people, "auditor_revoked")
    grant = AuditorGrant.objects.get(user=user)
    revoke_auditor_access(grant, revoked_by=people["admin"], reason="audit closed")
    user = type(user).objects.get(pk=user.pk)
    assert not records_visible_to(user).exists()
    actions = list(AuditEntry.objects.filter(object_type="evidence.auditorgrant", object_id=str(grant.pk))
                   .values_list("action", flat=True))
    assert actions == ["access.auditor_granted", "access.auditor_revoked"]


def _drf_views(resolver=None):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _drf_views(entry)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if view is not None and hasattr(view, "permission_classes"):
                yield entry, view


def test_every_api_view_asks_the_auditor_guard_after_authentication():
    from evidence.permissions import AuditorsReadOnly

    checked = 0
    for entry, view in _drf_views():
        permissions = list(getattr(entry.callback, "initkwargs", {}).get("permission_classes", view.permission_classes))
        if view.__name__ == "TokenView":  # signing in
            continue
        assert AuditorsReadOnly in permissions, entry.pattern
        checked += 1
    assert checked > 30
