"""What a P1 process is about, in one line for the task lists, notifications and e-mails
(OrderReviewFlow.subjects): the record number, the customer and the products ordered, e.g.
"OR-2026-0003 · 华东电子科技有限公司 · P-1001 精密轴承座 ×500, P-1002 ×300"."""
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from core.choices import in_language
from workflows.models import artifacts_of

from .models import OrderLine, OrderReview

SHOWN_LINES = 3  # the first line with its product name, the next ones by code; then "+N"


def quantity(value):
    """500.000 → "500", 12.500 → "12.5"."""
    return format(value.normalize(), "f") if value is not None else ""


def products(lines):
    parts = []
    for index, line in enumerate(lines[:SHOWN_LINES]):
        product = line.product
        name = f" {in_language(product.name_zh, product.name_en or product.name_zh)}" if index == 0 else ""
        parts.append(f"{product.code}{name} ×{quantity(line.quantity)}")
    text = ", ".join(parts)
    if len(lines) > SHOWN_LINES:
        text += " " + _("+%(count)s more") % {"count": len(lines) - SHOWN_LINES}
    return text


def subject(review):
    customer = review.customer
    return " · ".join(part for part in (
        review.record.number, str(in_language(customer.name_zh, customer.name_en or customer.name_zh)),
        products(list(review.lines.all()))) if part)


def subjects(processes):
    """{process pk: subject} in two queries however many processes (the reviews, their lines with their products),
    reading only the columns it prints."""
    lines = OrderLine.objects.select_related("product").only(
        "order_review", "position", "quantity", "product__code", "product__name_zh", "product__name_en")
    reviews = artifacts_of(processes, OrderReview, select_related=("record", "customer"),
                           prefetch_related=(Prefetch("lines", queryset=lines),),
                           only=("record__number", "customer__name_zh", "customer__name_en"))
    return {pk: subject(review) for pk, review in reviews.items()}
