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


def state_customer_specific_requirements_addressed(order_record, *, round_number, department, statement, actor,
                                                  frozen=None):
    """P1.2: a reviewing department's statement of how the order addresses them; InvalidInput
    on `csr_addressed` when the order has some and the statement is empty. `frozen`: what
    frozen_customer_specific_requirements returned, when the caller has it."""
    return csr.state_addressed(order_record, round_number=round_number, department=department, statement=statement,
                               actor=actor, frozen=frozen)


def customer_specific_statements(order_record):
    """{(round number, department): statement} of the order review `order_record`."""
    return csr.statements_for_order(order_record)


def management_review_figures(period_start, period_end, today):
    """CA-7: the customer requirement progress figures of a period (report.progress_report over
    every requirement: registered, approved, rejected, completed, open and overdue at the period's
    end) for the management-review input pack."""
    from .models import CustomerRequirement  # noqa: PLC0415 — only this entry point needs it
    from .report import progress_report  # noqa: PLC0415

    return progress_report(CustomerRequirement.objects.all(), period_start, period_end, today=today).as_data()


def requirement_from_record(source_record, *, actor, words, customer=None, customer_name=""):
    """Another procedure's record (e.g. a satisfaction survey, issue 17) raises a customer requirement, linked
    both ways: the requirement's "meaning" names `source_record` (a core.Record), the caller stores the
    requirement's record. Registered as received today through a survey, then analysed by Market as any
    other (P5.2). Returns the requirement's core.Record."""
    from django.utils import timezone  # noqa: PLC0415

    from .flows import RequirementFlow  # noqa: PLC0415 — the flow loads P5's steps: only when one is raised
    from .models import RequirementChannel, RequirementType  # noqa: PLC0415

    req = RequirementFlow.start_from_record.run(actor=actor, data={
        "customer": customer, "customer_name": customer_name or f"{source_record.number} 调查客户 surveyed customers",
        "channel": RequirementChannel.SURVEY, "requirement_type": RequirementType.IMPLIED,
        "received_on": timezone.localdate(), "customer_words": words[:5000],
        "meaning": f"来源 Source: {source_record.number}"})
    return req.record
