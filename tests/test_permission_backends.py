"""The order of the authentication backends (config/settings/base.py): a permission a department membership grants
(every queue, step and manager check) is answered by accounts.backends.DepartmentRoleBackend from the memberships,
before ModelBackend reads the permission tables; a permission granted in the admin is still ModelBackend's, and
sessions are still ModelBackend's (the membership backend signs nobody in). accounts.backends.ModelBackend is Django's
with a person's own and their groups' permissions read in one query instead of two, the same answer."""
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.backends import ModelBackend
from accounts.models import Department, Role, department_permission

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it: no permission read yet."""
    return get_user_model().objects.get(pk=user.pk)


def test_a_permission_a_membership_grants_costs_the_membership_query_alone(people, django_assert_num_queries):
    manager = fresh(people["quality_mgr"])
    with django_assert_num_queries(1):  # the memberships; not the user's nor the groups' permission tables
        assert manager.has_perm(department_permission(Department.QUALITY, Role.MANAGER))
        assert manager.has_perm(department_permission(Department.QUALITY, Role.STAFF))  # a manager is staff too
    staff = fresh(people["quality"])
    with django_assert_num_queries(2):  # refused by the memberships, then asked of both permission tables at once
        assert not staff.has_perm(department_permission(Department.QUALITY, Role.MANAGER))


def test_a_permission_granted_in_the_admin_and_a_session_are_still_model_backends(people):
    user = people["quality"]
    assert not fresh(user).has_perm("core.view_record")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_record"))
    assert fresh(user).has_perm("core.view_record")
    web = Client()
    web.force_login(user)
    assert web.session[BACKEND_SESSION_KEY] == "accounts.backends.ModelBackend"
    assert web.get("/qms/dashboard/").status_code == 200


def _permission(app_label, codename):
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_own_and_group_permissions_are_read_in_one_query_with_djangos_answer(people, django_assert_num_queries):
    user = people["quality"]
    user.user_permissions.add(_permission("core", "view_record"))
    group = Group.objects.create(name="grant managers")
    group.permissions.add(_permission("evidence", "change_auditorgrant"), _permission("core", "view_record"))
    user.groups.add(group)
    expected = DjangoModelBackend().get_all_permissions(fresh(user))
    assert expected == {"core.view_record", "evidence.change_auditorgrant"}
    reader = fresh(user)
    with django_assert_num_queries(2):  # the memberships, then both permission tables in one statement
        assert reader.has_perm("evidence.change_auditorgrant")
        assert reader.has_perm("core.view_record")
        assert not reader.has_perm("evidence.delete_auditorgrant")
    assert reader.get_all_permissions() >= expected
    with django_assert_num_queries(0):  # cached on the user for the request, as Django does
        assert reader.has_perm("core.view_record")
    user.groups.remove(group)
    assert not fresh(user).has_perm("evidence.change_auditorgrant")  # a later request reads the tables again
    assert fresh(user).has_perm("core.view_record")  # still granted to the person


def test_a_superuser_holds_every_permission_and_an_inactive_person_none(people):
    admin = get_user_model().objects.create_superuser("root2", password="Another-pass-2026")
    assert fresh(admin).has_perm("evidence.delete_auditorgrant")
    assert ModelBackend().get_all_permissions(fresh(admin)) == DjangoModelBackend().get_all_permissions(fresh(admin))
    user = people["quality"]
    user.user_permissions.add(_permission("core", "view_record"))
    user.is_active = False
    user.save()
    assert not fresh(user).has_perm("core.view_record")


def test_a_page_reads_the_permission_tables_once(people):
    """Every page's menu asks for a permission no membership grants ("Auditor access"): one statement over both
    permission tables, not Django's two — and none for a person who has no permission of their own and no group,
    which the statement reading the user tells (core.access.register_user_fact; tests/test_user_facts.py)."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def permission_reads():
        web = Client()
        web.force_login(people["quality"])
        web.get("/qms/dashboard/")
        with CaptureQueriesContext(connection) as ctx:
            assert web.get("/qms/dashboard/").status_code == 200
        return len([q for q in ctx.captured_queries
                    if '"auth_permission"' in q["sql"] and "qms_fact_" not in q["sql"]])  # the user's read aside

    assert permission_reads() == 0
    group = Group.objects.create(name="Registry readers")
    group.permissions.add(_permission("core", "view_record"))
    people["quality"].groups.add(group)
    assert permission_reads() == 1
