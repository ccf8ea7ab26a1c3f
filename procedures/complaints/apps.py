from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """P2 complaints and returns, nonconforming product."""

    name = "procedures.complaints"
    label = "complaints"
    verbose_name = _("Complaints and returns")

    def ready(self):
        from core import registry
        from procedures.capa.signals import corrective_action_closed

        from . import actions, records
        from .defaults import seed_default_disposition_rules
        from .flows import ComplaintFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(ComplaintFlow,), icon="report_problem", order=20, seed_order=10,
            api="procedures.complaints.api", seed="procedures.complaints.seed.seed",
            viewsets=("procedures.complaints.viewsets.MaterialMovementsViewset",),
        ))
        corrective_action_closed.connect(actions.corrective_action_closed, dispatch_uid="complaints.capa_closed")
        from procedures.order_review.signals import goods_shipping  # NC-1: a held lot is not shipped (P1 ledger)

        goods_shipping.connect(refuse_held_lot, dispatch_uid="complaints.refuse_held_lot")
        post_migrate.connect(seed_default_disposition_rules, sender=self,
                             dispatch_uid="complaints.seed_default_disposition_rules")


def refuse_held_lot(sender, *, product, lot_number, **kwargs):
    """NC-1: goods leaving against a P1 contract (procedures.order_review.signals.goods_shipping) may not
    come from a lot on hold: the refusal (409) names the hold and its report."""
    from .actions import assert_lot_usable  # noqa: PLC0415 — the rule lives in actions.py

    assert_lot_usable(product, lot_number)
