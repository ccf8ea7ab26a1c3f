from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = _("Document control")

    def ready(self):
        from core import registry

        from . import binding, record_types, signals  # noqa: F401

        registry.set_form_resolver(binding.form_in_force)
