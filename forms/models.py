"""What every controlled form shares: the customers and products the records name
(master data, kept by Market and Engineering in the admin)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
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


class Product(models.Model):
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
