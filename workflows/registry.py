"""The flows the engine runs, one per procedure."""
from .order_review import OrderReviewFlow

FLOWS = [OrderReviewFlow]
