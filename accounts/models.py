"""People, departments and roles.

Users are deactivated, never deleted (SIG-10): `User.delete()` refuses, and a
username is never reused because the row stays forever and is never renamed
(`User.clean()` and `User.save()` refuse a new username for an existing user; on the
database a trigger refuses it too, migration 0005).
"""
import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import BilingualChoices
from core.i18n import english


class Department(BilingualChoices):
    MARKET = "market", "市场部", "Market / Sales"
    QUALITY = "quality", "品质部", "Quality"
    PRODUCTION = "production", "生产部", "Production"
    ENGINEERING = "engineering", "工程部", "Engineering"
    MATERIALS = "materials", "资材部", "Materials / Procurement"
    FINANCE = "finance", "财务部", "Finance"
    WAREHOUSE = "warehouse", "成品库", "Finished-goods store"
    MANAGEMENT = "management", "总经理室", "General management"


# Names as the records print them (always bilingual on the PDF).
DEPARTMENT_NAMES_ZH = {member.value: member.zh for member in Department}  # derived: the labels live on Department


def department_label(department):
    """'品质部 Quality' — how records and signature roles name a department, in both languages."""
    return f"{DEPARTMENT_NAMES_ZH[department]} {english(Department(department).label)}"


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")


def department_permission(department, role=Role.STAFF):
    """The permission string a membership grants, e.g. `accounts.dept_quality_staff`.

    viewflow routes a task to a department queue through this string
    (`.Permission(department_permission(...))`)."""
    return f"accounts.dept_{department}_{role}"


GENERAL_MANAGER_PERMISSION = department_permission(Department.MANAGEMENT, Role.MANAGER)


def role_label(department, role):
    """How a signer's role prints, in both languages: '品质部经理 Quality manager',
    '资材部 Materials / Procurement staff', '总经理 General Manager'."""
    if department == Department.MANAGEMENT and role == Role.MANAGER:
        return "总经理 General Manager"
    manager = role == Role.MANAGER
    zh = DEPARTMENT_NAMES_ZH[department] + ("经理" if manager else "")
    en = english(Department(department).label) + (" manager" if manager else " staff")
    return f"{zh} {en}"


_DEPARTMENTS, _ROLES = frozenset(Department.values), frozenset(Role.values)  # (`.values` builds a list per call)


def parse_department_permission(permission):
    """("quality", "staff") for "accounts.dept_quality_staff"; None for anything else."""
    prefix = "accounts.dept_"
    if not permission or not permission.startswith(prefix):
        return None
    department, _sep, role = permission[len(prefix):].rpartition("_")
    if department in _DEPARTMENTS and role in _ROLES:
        return department, role
    return None


class QmsUserManager(UserManager):
    pass


class User(AbstractUser):
    display_name = models.CharField(
        _("printed name"), max_length=150, help_text=_("Name as printed on signatures, e.g. 王芳 Wang Fang")
    )
    preferred_language = models.CharField(_("language"), max_length=10, default="zh-hans")
    # SIG-12: consecutive signing failures; reaching the limit locks signing
    signing_failures = models.PositiveSmallIntegerField(default=0, editable=False)
    signing_locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    objects = QmsUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.printed_name

    @property
    def printed_name(self):
        return self.display_name or super().get_full_name() or self.username

    def get_full_name(self):
        return self.printed_name

    def delete(self, *args, **kwargs):
        raise PermissionError("Users are deactivated, never deleted (21 CFR 11.100).")

    # SIG-10: a user ID is never reassigned, so it is never renamed once the user exists.
    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._stored_username = user.__dict__.get("username")
        return user

    def renamed(self):
        """True when this existing user's username differs from the stored one."""
        stored = getattr(self, "_stored_username", None)
        return not self._state.adding and stored is not None and self.username != stored

    def clean(self):
        super().clean()
        if self.renamed():
            raise ValidationError({"username": _("A user ID cannot be changed once the user exists: "
                                                 "IDs are never reused or reassigned (21 CFR 11.100).")})

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if self.renamed() and (update_fields is None or "username" in update_fields):
            raise PermissionError("A user ID is never renamed or reassigned (21 CFR 11.100).")
        super().save(*args, **kwargs)
        self._stored_username = self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def password_expired(self):
        """SIG-12: a password older than QMS["PASSWORD_MAX_AGE_DAYS"] (0 = never) must be changed."""
        max_age = settings.QMS.get("PASSWORD_MAX_AGE_DAYS", 0)
        if not max_age or not self.has_usable_password():
            return False
        changed = self.password_changed_at or self.date_joined
        return timezone.now() - changed > datetime.timedelta(days=max_age)


class Membership(models.Model):
    """A person's role in a department. A person may hold several."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(fields=["user", "department", "role"], name="unique_membership"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_department_display()} · {self.get_role_display()}"


def active_members(**membership_filters):
    """Active people holding a membership that matches the filters (department=, role=,
    department__in=, role__in=), each once; unordered, callers order as they need."""
    return User.objects.filter(is_active=True,
                               memberships__in=Membership.objects.filter(**membership_filters)).distinct()


def quality_managers():
    """The Quality managers (active), by username."""
    return active_members(department=Department.QUALITY, role=Role.MANAGER).order_by("username")


def scheduler_user():
    """The service account scheduled jobs act as (a record needs an author; it never signs and
    cannot sign in): QMS["SCHEDULER_USERNAME"], created on first use (audited)."""
    username = settings.QMS.get("SCHEDULER_USERNAME", "qms-scheduler")
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name="系统计划任务 Scheduled job")
        user.set_unusable_password()
        user.save()
        audit.log("account.service_account_created", user, new={"username": username})
    return user
