from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Auditors, evidence bundles, retention and backups")

    def ready(self):
        from core import access

        from .access import auditor_scope

        access.register_scope(auditor_scope)  # an auditor sees only what an active grant covers
