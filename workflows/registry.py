"""The flows the engine runs, one per procedure."""
from .capa import CapaFlow
from .complaints import ComplaintFlow
from .document_control import DocumentControlFlow
from .order_review import OrderReviewFlow

FLOWS = [OrderReviewFlow, DocumentControlFlow, ComplaintFlow, CapaFlow]
