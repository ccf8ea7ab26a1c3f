"""The flows the engine runs, one per procedure."""
from .document_control import DocumentControlFlow
from .order_review import OrderReviewFlow

FLOWS = [OrderReviewFlow, DocumentControlFlow]
