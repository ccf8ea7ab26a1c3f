"""What other procedures may ask of P5 (the only module of it they may import).
CR-4: the customer-specific requirements of a customer, for every later order review."""
from . import csr


def customer_specific_requirements(customer):
    """The approved, open or completed customer-specific requirements of `customer` (a
    forms.models.Customer): [(record number, the customer's words)], oldest first."""
    return [(r.record.number, r.customer_words) for r in csr.in_force(customer)]


def freeze_customer_specific_requirements(order_record, customer):
    """P1.1: freeze the customer's requirements in force into the order review `order_record`
    (a core.Record) when it is received; returns [(number, words)]."""
    return csr.freeze_for_order(order_record, customer)


def frozen_customer_specific_requirements(order_record):
    """[(number, words)] frozen for the order review `order_record`; [] when none."""
    return csr.frozen_for_order(order_record)


def state_customer_specific_requirements_addressed(order_record, *, round_number, department, statement, actor):
    """P1.2: a reviewing department's statement of how the order addresses them; InvalidInput
    on `csr_addressed` when the order has some and the statement is empty."""
    return csr.state_addressed(order_record, round_number=round_number, department=department, statement=statement,
                               actor=actor)


def customer_specific_statements(order_record):
    """{(round number, department): statement} of the order review `order_record`."""
    return csr.statements_for_order(order_record)
