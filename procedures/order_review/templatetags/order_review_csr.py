"""CR-4 on P1's pages: the customer-specific requirements frozen into an order review, and
what a department stated about them (through P5's entry points)."""
from django import template

from procedures.requirements import entry as p5

register = template.Library()


@register.filter
def customer_specific_requirements(review):
    """[(number, words)] frozen for the order review."""
    return p5.frozen_customer_specific_requirements(review.record) if review is not None else []


@register.filter
def csr_statement(department_review):
    """What the department stated about them in its review, or ""."""
    rnd = department_review.round
    return p5.customer_specific_statements(rnd.order_review.record).get((rnd.number, department_review.department), "")
