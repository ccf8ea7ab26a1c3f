from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderReviewConfig(AppConfig):
    """P1 order / contract review."""

    name = "procedures.order_review"
    label = "order_review"
    verbose_name = _("Order / contract review")

    def ready(self):
        from core import registry

        from . import records
        from .flows import OrderReviewFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(OrderReviewFlow,), icon="fact_check", order=10, seed_order=30,
            api="procedures.order_review.api", seed="procedures.order_review.seed.seed",
            viewsets=("procedures.order_review.views_ledger.LedgerViewset",),  # the contract ledger (合同台账)
            late_seed="procedures.order_review.seed.seed_order_with_csr",  # after P5 seeded C001's requirement
        ))
