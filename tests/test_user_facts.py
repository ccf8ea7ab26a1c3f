"""Facts read with the user (core.access.register_user_fact, issue 15): whether a person is an auditor and whether
a permission of the admin's tables may apply to them are asked in the statement that reads the user — by session
and by API token — instead of in two queries of their own on every request. A "no" answers the request's
questions without a query; a "yes" leaves them to be read as before, so what anybody may see and do is unchanged."""
import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evidence_support import make_auditor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

GRANTS_MENU = 'href="/qms/auditor-grants/"'


def statements(client, url, expect=200):
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(url)
    assert response.status_code == expect, (url, response.status_code)
    return response, seen


def reads(seen, table):
    """The statements reading `table` (the user's own read, which asks of it in a subquery and names its answers
    qms_fact_…, aside)."""
    if table == "accounts_user":
        return [sql for sql in seen if 'FROM "accounts_user" WHERE' in sql and "qms_fact_" in sql]
    return [sql for sql in seen if f'FROM "{table}"' in sql and "qms_fact_" not in sql]


def session_of(user):
    client = Client()
    client.force_login(user)
    return client


def token_of(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.mark.parametrize("via", [session_of, token_of])
def test_a_person_who_is_no_auditor_and_holds_no_admin_permission_costs_no_query_for_either(people, via):
    client = via(people["quality_mgr"])
    for url in ("/api/notifications/", "/api/records/?q=OR"):
        _response, seen = statements(client, url)
        users = reads(seen, "accounts_user")
        assert len(users) == 1 and "evidence_auditorgrant" in users[0] and "accounts_user_groups" in users[0]
        assert not reads(seen, "evidence_auditorgrant") and not reads(seen, "auth_permission")
    if via is session_of:  # a page's menu asks whether "Auditor access" may show: answered by the user's read
        response, seen = statements(client, "/qms/notifications/")
        assert GRANTS_MENU not in response.content.decode()
        assert not reads(seen, "evidence_auditorgrant") and not reads(seen, "auth_permission")


def read_all(client, via):
    return client.post("/api/notifications/read-all/" if via is token_of else "/qms/notifications/read-all/")


@pytest.mark.parametrize("via", [session_of, token_of])
def test_an_auditor_is_still_read_only_and_sees_only_what_the_grant_covers(people, via):
    from accounts.models import Department, Membership, Role
    from evidence.grants import end_auditor_role

    assert read_all(via(people["quality_mgr"]), via).status_code in (200, 302)  # a person who is no auditor may
    auditor = make_auditor(people)
    client = via(auditor)
    response, seen = statements(client, "/api/records/")
    assert reads(seen, "evidence_auditorgrant")  # a "yes": the grants themselves are read, as before
    refused = read_all(client, via)
    assert refused.status_code == 403 and "Auditors have read-only access." in refused.content.decode()
    end_auditor_role(auditor, actor=people["admin"], reason="joins the company as staff")
    Membership.objects.create(user=auditor, department=Department.QUALITY, role=Role.STAFF)
    client = via(auditor)
    _response, seen = statements(client, "/api/notifications/")
    assert not reads(seen, "evidence_auditorgrant")  # no grant left whose role goes on: a "no"
    assert read_all(client, via).status_code in (200, 302)  # and no longer read-only


def test_a_group_without_permissions_is_read_and_grants_nothing(people):
    market = people["market"]
    market.groups.add(Group.objects.create(name="Newsletter readers"))
    response, seen = statements(session_of(market), "/qms/notifications/")
    assert reads(seen, "auth_permission")  # a "yes" (a group): the tables are read, as before
    assert GRANTS_MENU not in response.content.decode()
    statements(session_of(market), "/qms/auditor-grants/", expect=403)


def test_a_session_of_a_person_deactivated_since_signs_nobody_in(people):
    client = session_of(people["market"])
    type(people["market"]).objects.filter(pk=people["market"].pk).update(is_active=False)
    response = client.get("/qms/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_permission_given_in_the_admin_directly_or_through_a_group_still_counts(people):
    market = people["market"]
    change_grants = Permission.objects.get(codename="change_auditorgrant", content_type__app_label="evidence")
    assert GRANTS_MENU not in session_of(market).get("/qms/notifications/").content.decode()

    market.user_permissions.add(change_grants)
    response, seen = statements(session_of(market), "/qms/notifications/")
    assert GRANTS_MENU in response.content.decode() and reads(seen, "auth_permission")
    statements(session_of(market), "/qms/auditor-grants/")

    market.user_permissions.clear()
    statements(session_of(market), "/qms/auditor-grants/", expect=403)
    group = Group.objects.create(name="Auditor administrators")
    group.permissions.add(change_grants)
    market.groups.add(group)
    assert GRANTS_MENU in session_of(market).get("/qms/notifications/").content.decode()
    statements(session_of(market), "/qms/auditor-grants/")


def test_a_superuser_holds_every_permission_without_a_grant_or_group(people):
    response, _seen = statements(session_of(people["admin"]), "/qms/notifications/")
    assert GRANTS_MENU in response.content.decode()


def test_a_token_of_nobody_or_of_a_deactivated_person_is_refused_as_before(people):
    nobody = APIClient()
    nobody.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = nobody.get("/api/notifications/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."
    market = people["market"]
    client = token_of(market)
    type(market).objects.filter(pk=market.pk).update(is_active=False)  # as if the token outlived the deactivation
    response = client.get("/api/notifications/")
    assert response.status_code == 401 and response.json()["detail"] == "User inactive or deleted."
    market.is_active = False
    market.save(update_fields=["is_active"])  # a deactivation deletes the person's tokens (core.authentication)
    response = client.get("/api/notifications/")
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_the_notifications_page_counts_the_unread_once_for_itself_and_the_menu(people):
    from django.utils import timezone

    from inbox.models import Notification, NotificationKind

    quality = people["quality"]
    for n in range(3):
        Notification.objects.create(recipient=quality, kind=NotificationKind.ASSIGNED, title=f"Note {n}",
                                    created=timezone.now())
    response, seen = statements(session_of(quality), "/qms/notifications/")
    page = response.content.decode()
    assert '<span id="unread-count">3</span>' in page and "3 unread" in page
    assert len([sql for sql in reads(seen, "inbox_notification") if "COUNT(" in sql and "read_at" in sql]) == 1
    other, _seen = statements(session_of(quality), "/qms/inbox/")  # another page counts for the menu alone
    assert '<span id="unread-count">3</span>' in other.content.decode()


@pytest.mark.parametrize("via", [session_of, token_of])
def test_memberships_come_with_the_user_and_grant_what_a_read_of_their_own_grants(people, via):
    """A person's memberships (the department permissions of every queue, step and manager check) are read in the
    statement that reads the user: the same pairs as a query of their own, several, one or none."""
    from django.contrib.auth import get_user_model

    from accounts.backends import department_permissions
    from accounts.models import Department, Membership, Role
    from core.access import read_user

    quality_mgr = people["quality_mgr"]
    Membership.objects.create(user=quality_mgr, department=Department.MARKET, role=Role.STAFF)
    users = get_user_model()._default_manager
    for person in (quality_mgr, people["market"], people["admin"]):
        expected = frozenset(Membership.objects.filter(user=person).values_list("department", "role"))
        read = read_user(users, str(person.pk))  # a session holds the key as text
        assert read._membership_pairs == expected
        assert department_permissions(read) == department_permissions(type(person).objects.get(pk=person.pk))
    assert read_user(users, quality_mgr.pk)._membership_pairs == {("quality", "manager"), ("market", "staff")}

    response, seen = statements(via(quality_mgr), "/api/tasks/?queue=1")
    assert not reads(seen, "accounts_membership")
    if via is session_of:
        response, seen = statements(via(quality_mgr), "/qms/queue/")
        assert not reads(seen, "accounts_membership")


def test_a_fact_that_depends_on_the_moment_it_is_asked_is_refused(people, monkeypatch):
    """The statement is compiled once per process: a fact holding a value of the moment (here the time) would keep
    its first value for good, so read_user refuses it instead of answering with it."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ImproperlyConfigured
    from django.db.models import Exists, Q
    from django.utils import timezone

    from core import access
    from evidence.models import AuditorGrant

    def current_grant(user_ref):
        return Q(Exists(AuditorGrant.objects.filter(user=user_ref, valid_until__gt=timezone.now())))
    monkeypatch.setitem(access._USER_FACTS, "current_grant", (current_grant, lambda user, holds: None))
    with pytest.raises(ImproperlyConfigured, match="must not depend on the moment"):
        access.read_user(get_user_model()._default_manager, people["market"].pk)
