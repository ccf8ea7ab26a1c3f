"""Auditor access, evidence bundles and record disposition (tombstones)."""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.choices import BilingualChoices


class GrantStatus(BilingualChoices):
    """Where a grant stands (AuditorGrant.status): what the grants page and the API show."""

    SCHEDULED = "scheduled", "未开始", "Not yet started"
    ACTIVE = "active", "有效", "Active"
    EXPIRED = "expired", "已到期", "Expired"
    REVOKED = "revoked", "已撤销", "Revoked"
    ROLE_ENDED = "role_ended", "审核员角色已结束", "Auditor role ended"


class AuditorGrant(models.Model):
    """Makes a user an auditor: read-only everywhere, limited in time (valid_from …
    valid_until) and optionally in scope (record types, records created between
    date_from and date_to). Granting and revoking are audited (SIG-14)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="auditor_grants")
    valid_from = models.DateTimeField(_("access from"), default=timezone.now)
    valid_until = models.DateTimeField(_("access until"), null=True, blank=True)
    record_types = models.JSONField(_("record types (empty: all)"), default=list, blank=True)
    date_from = models.DateField(_("records created from"), null=True, blank=True)
    date_to = models.DateField(_("records created until"), null=True, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A user who ever held a grant stays an auditor (read-only) — also once a grant is
    # revoked or expired — until an administrator ends the auditor role (grants.end_auditor_role).
    role_ended_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("auditor access")
        ordering = ["-valid_from"]

    def __str__(self):
        return f"{self.user} {self.valid_from:%Y-%m-%d}…{self.valid_until or ''}"

    def is_active(self, now=None):
        now = now or timezone.now()
        return (self.revoked_at is None and self.valid_from <= now
                and (self.valid_until is None or now < self.valid_until))

    def status(self, now=None):
        now = now or timezone.now()
        if self.role_ended_at is not None:
            return GrantStatus.ROLE_ENDED
        if self.revoked_at is not None:
            return GrantStatus.REVOKED
        if self.valid_until is not None and now >= self.valid_until:
            return GrantStatus.EXPIRED
        if now < self.valid_from:
            return GrantStatus.SCHEDULED
        return GrantStatus.ACTIVE


class EvidenceBundle(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Building")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    record_ids = models.JSONField(default=list)
    query = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("evidence bundle")

    def __str__(self):
        return f"EB-{self.pk}"

    @property
    def filename(self):
        return f"evidence-bundle-{self.pk}.zip"


class StraySweep(models.Model):
    """One look at the storage for files that no row names (core.stray_files.find): asked for by an
    administrator on the stored-files page or through the API, or taken by the nightly verification. Its list is
    a report, not evidence — each removal is an audit entry (storage.stray_removed) — so the page can show last
    night's findings without walking the storage again, and mark what has been removed since."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Looking")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Origin(models.TextChoices):
        REQUEST = "request", _("asked for")
        NIGHTLY = "nightly", _("nightly verification")

    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.REQUEST)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # [{name, size, modified (ISO), sha256, kept ("named" | "quiet" | null), why, removed ({at, by, entry} | null)}]
    files = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # True while queued or running, else null: unique, so two administrators asking at once start one look
    active = models.BooleanField(null=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("look for stray stored files")

    def __str__(self):
        return f"SW-{self.pk}"
