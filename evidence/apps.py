from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Auditors, evidence bundles, retention and backups")

    def ready(self):
        from core import access, registry

        from .access import auditor_scope, holds_auditor_grant, no_auditor_grant

        access.register_scope(auditor_scope)  # an auditor sees only what an active grant covers
        # whether the user is an auditor, read with the user (no query of its own for everybody else)
        access.register_user_fact("auditor_grant", holds_auditor_grant, no_auditor_grant)
        # No procedure: registered for the demo's seed only (`seed_demo` seeds each registered entry, and the
        # workflows layer, where the command lives, cannot import this app): an auditor with a grant, seeded
        # after the procedures whose records the grant shows. No flow, page or API route comes with it.
        registry.register_procedure(registry.Procedure(label="evidence", flows=(), order=1000, seed_order=1000,
                                                       seed="evidence.seed.seed"))
