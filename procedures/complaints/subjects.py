"""What a P2 process is about, in one line for the task lists, notifications and e-mails
(ComplaintFlow.subjects): the feedback form's number, the customer and the product, e.g.
"QF-2026-0002 · 华东电子科技有限公司 · P-1001 精密轴承座"; for the periodic analysis its number
and period."""
from core.choices import in_language
from workflows.models import artifacts_of

from .models import ComplaintAnalysis, ComplaintCase


def _name(row):
    return str(in_language(row.name_zh, row.name_en or row.name_zh))


def case_subject(case):
    party = _name(case.customer) if case.customer_id else (case.supplier or str(case.get_origin_display()))
    return " · ".join((case.record.number, party, f"{case.product.code} {_name(case.product)}"))


def analysis_subject(analysis):
    return f"{analysis.record.number} · {analysis.period_start.isoformat()} – {analysis.period_end.isoformat()}"


#: the columns the subjects print (workflows.models.artifacts_of's `only`)
CASE_FIELDS = ("origin", "supplier", "customer", "record__number", "customer__name_zh", "customer__name_en",
               "product__code", "product__name_zh", "product__name_en")
ANALYSIS_FIELDS = ("record__number", "period_start", "period_end")


def subjects(processes):
    """{process pk: subject} in two queries however many processes."""
    found = {pk: case_subject(case) for pk, case in artifacts_of(
        processes, ComplaintCase, select_related=("record", "customer", "product"), only=CASE_FIELDS).items()}
    rest = [process for process in processes if process.pk not in found]
    found.update({pk: analysis_subject(analysis) for pk, analysis in artifacts_of(
        rest, ComplaintAnalysis, select_related=("record",), only=ANALYSIS_FIELDS).items()})
    return found
