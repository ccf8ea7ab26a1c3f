"""What P1 tells whoever listens (a declared entry point: other procedures may connect)."""
from django.dispatch import Signal

# Goods are about to leave against a contract ledger line (a shipment by the finished-goods store), in the
# shipment's transaction: `product` (forms.Product) and `lot_number`. A receiver refuses the shipment by raising
# a core.errors.DomainError — e.g. P2 (NC-1): the lot is on hold, a WrongState (409) naming the hold and its
# quality anomaly report.
goods_shipping = Signal()
