from django.contrib.auth import backends as auth_backends, get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, Q, Subquery, Value
from django.db.models.functions import Concat

from core.access import membership_pairs, read_user, remember_membership_pairs
from core.lookups import Joined

from .models import Membership, Role, department_permission


def department_permissions(user):
    """The department permissions `user` holds through memberships (cached on the user
    object for the request). Being an administrator adds none: a superuser works in a
    department queue only through a membership of that department."""
    if user is None or not user.is_active or user.is_anonymous:
        return frozenset()
    if not hasattr(user, "_department_perm_cache"):
        perms = set()
        for department, role in membership_pairs(user):
            perms.add(department_permission(department, role))
            if role == Role.MANAGER:
                perms.add(department_permission(department, Role.STAFF))
        user._department_perm_cache = frozenset(perms)
    return user._department_perm_cache


class DepartmentRoleBackend:
    """Grants `accounts.dept_<department>_<role>` permissions from memberships.

    A manager also holds the staff permission of the department. Permissions are
    cached on the user object for the request, as Django's ModelBackend does. It signs
    nobody in and keeps no session: no get_user(), so that Django (and its test client's
    force_login) takes ModelBackend, the next in AUTHENTICATION_BACKENDS, for sessions."""

    def authenticate(self, request, **credentials):
        return None

    def _department_perms(self, user):
        return department_permissions(user)

    def get_all_permissions(self, user_obj, obj=None):
        return self._department_perms(user_obj)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self._department_perms(user_obj)


class ModelBackend(auth_backends.ModelBackend):
    """Django's ModelBackend (passwords, sessions, the permissions granted in the admin), with a person's own and
    their groups' permissions read in one statement (a UNION) where Django reads them in two. A permission no
    membership grants is asked of these tables on every page (the menu's "Auditor access",
    evidence.access.can_manage_grants): two queries per request became one. The same answer as Django's, cached
    on the user object for the request under Django's own name (`_perm_cache`)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                perms = Permission.objects.values_list(*fields).order_by()
            else:
                perms = self._get_user_permissions(user_obj).values_list(*fields).order_by().union(
                    self._get_group_permissions(user_obj).values_list(*fields).order_by())
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache

    def get_user(self, user_id):
        """Django's, with the registered facts (core.access.register_user_fact) read in the same statement."""
        user = read_user(get_user_model()._default_manager, user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def holds_model_permissions(user_ref):
    """Whether a permission of the admin's tables may apply to the user: one of their own, or a group's."""
    User = get_user_model()
    return (Q(Exists(User.user_permissions.through.objects.filter(user_id=user_ref)))
            | Q(Exists(User.groups.through.objects.filter(user_id=user_ref))))


def no_model_permissions(user, holds):
    """A user with no permission of their own and no group holds none of the admin's permissions (a superuser holds
    them all, read when asked): ModelBackend's caches, filled empty, answer without the query."""
    if not holds and not user.is_superuser:
        user._user_perm_cache, user._group_perm_cache, user._perm_cache = set(), set(), set()


_BETWEEN, _AFTER = "\x1f", "\x1e"  # a department and its role; one pair and the next (no code holds either)


def membership_pairs_text(user_ref):
    """core.access user fact: the user's memberships as one text, "quality\x1fmanager\x1emarket\x1fstaff" (NULL for
    none), read with the user instead of in a query of their own on every page (core.access.membership_pairs)."""
    pairs = (Membership.objects.filter(user=user_ref).order_by().values("user")
             .annotate(text=Joined(Concat("department", Value(_BETWEEN), "role"), _AFTER)).values("text"))
    return Subquery(pairs)


def remember_memberships(user, text):
    remember_membership_pairs(user, [tuple(pair.split(_BETWEEN)) for pair in (text or "").split(_AFTER) if pair])
