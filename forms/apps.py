from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormsConfig(AppConfig):
    name = "forms"
    label = "forms"
    verbose_name = _("Controlled record types")

    def ready(self):
        from . import record_types  # noqa: F401  (registers the record types)
