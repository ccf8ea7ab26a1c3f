"""What other procedures may ask of P1 (the declared entry points; tests/test_architecture.py
allows no other import of this package from another procedure)."""
from .models import OrderReview


def find_order_review(*, customer, reference):
    """The order review a customer's document refers to, by its record number or by the
    customer's own order number, or None. It may belong to another customer: the caller checks."""
    reference = (reference or "").strip()
    if not reference:
        return None
    reviews = OrderReview.objects.select_related("record", "customer")
    return (reviews.filter(record__number=reference).first()
            or reviews.filter(customer=customer, order_number=reference).first())
