"""What every controlled form shares: the customers and products the records name
(master data, kept by Market and Engineering in the admin)."""
from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from core import audit
from core.context import current_actor


class AuditedMasterData(models.Model):
    """Master data that records name (customers, products): every creation and change writes an audit
    entry with the old and new values, who and why, in the transaction of the save (SIG-5, SIG-14).
    Callers may name the actor and the reason (`obj._actor`, `obj._reason`; the admin does); otherwise
    the signed-in person acts. Never deleted: records refer to them (deactivate instead)."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._stored_values = obj.audit_values()
        return obj

    def audit_values(self):
        return {f.attname: self.__dict__[f.attname] for f in self._meta.concrete_fields
                if not f.primary_key and f.attname in self.__dict__}

    def save(self, *args, **kwargs):
        label = self._meta.model_name
        with transaction.atomic():
            adding = self._state.adding
            super().save(*args, **kwargs)
            now = self.audit_values()
            actor = getattr(self, "_actor", None) or current_actor()
            reason = getattr(self, "_reason", "")
            if adding:
                audit.log(f"{label}.created", self, actor=actor, new=now, reason=reason)
            else:
                stored = getattr(self, "_stored_values", None)  # None: not loaded here, all values are logged
                old, new = audit.changed_values({k: stored.get(k) for k in now}, now) if stored else ({}, now)
                if new:
                    audit.log(f"{label}.changed", self, actor=actor, old=old or None, new=new, reason=reason)
        self._stored_values = self.audit_values()

    def delete(self, *args, **kwargs):
        raise PermissionError(f"A {self._meta.model_name} is never deleted: records name it (deactivate it).")


class Customer(AuditedMasterData):
    code = models.CharField(_("customer code"), max_length=20, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")

    def __str__(self):
        return f"{self.name_zh} {self.name_en}".strip()

    def record_data(self):
        """The customer as every record that names one stores it (frozen in the record version)."""
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "address": self.address, "contact": self.contact, "phone": self.phone}


class Product(AuditedMasterData):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    specification = models.CharField(_("specification"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")

    def __str__(self):
        return f"{self.code} {self.name_zh} {self.name_en}".strip()


class StoredUpload(models.Model):
    """A file uploaded into a record's working data (an order's drawing, a defect photo, an action's
    evidence, a document's PDF). Its SHA-256 goes into the record version, so the signature covers
    the file. Each subclass adds its owner and its own `file` field (its folder)."""

    file = models.FileField()
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @classmethod
    def store(cls, upload, *, content_type, sha256, uploaded_by, **owner):
        """Save `upload` (checked by forms.uploads, which gave its content type and SHA-256)."""
        return cls.objects.create(file=upload, original_name=upload.name[:255], content_type=content_type,
                                  size=upload.size, sha256=sha256, uploaded_by=uploaded_by, **owner)


class OneTimeLink(models.Model):
    """A link that lets someone without an account answer one questionnaire once (a KANO
    study, a satisfaction survey): only the SHA-256 of its token is stored; it expires, and
    it is spent by the first answer. Issued and redeemed through forms.links."""

    token_sha256 = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=40)  # what it answers, e.g. "kano_study"
    object_id = models.PositiveBigIntegerField()  # the study / survey it answers
    label = models.CharField(_("sent to"), max_length=200)  # the respondent as Market names them
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["purpose", "object_id"])]
