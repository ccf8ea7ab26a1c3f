"""The order of the authentication backends (config/settings/base.py): a permission a department membership grants
(every queue, step and manager check) is answered by accounts.backends.DepartmentRoleBackend from the memberships,
before Django's ModelBackend reads its two permission tables; a permission granted in the admin is still ModelBackend's,
and sessions are still ModelBackend's (the membership backend signs nobody in)."""
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

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
    with django_assert_num_queries(3):  # refused by the memberships, then asked of ModelBackend's two tables
        assert not staff.has_perm(department_permission(Department.QUALITY, Role.MANAGER))


def test_a_permission_granted_in_the_admin_and_a_session_are_still_model_backends(people):
    user = people["quality"]
    assert not fresh(user).has_perm("core.view_record")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename="view_record"))
    assert fresh(user).has_perm("core.view_record")
    web = Client()
    web.force_login(user)
    assert web.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert web.get("/qms/dashboard/").status_code == 200
