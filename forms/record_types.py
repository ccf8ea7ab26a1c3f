"""The controlled record types of the engine and the forms they are made on."""
from core.registry import RecordType, register

ORDER_REVIEW = register(RecordType(
    code="order_review", prefix="OR", title_zh="订单评审记录表", title_en="Order Review Record Sheet",
    form_code="QR-MK-001", form_revision="A/0", pdf_template="forms/pdf/order_review.html",
))
CHANGE_NOTICE = register(RecordType(
    code="change_notice", prefix="CCN", title_zh="合同变更通知单", title_en="Contract Change Notice",
    form_code="QR-MK-002", form_revision="A/0", pdf_template="forms/pdf/change_notice.html",
))
PRODUCTION_PLAN = register(RecordType(
    code="production_plan", prefix="PP", title_zh="生产计划", title_en="Production / Work Plan",
    form_code="QR-MC-001", form_revision="A/0", pdf_template="forms/pdf/production_plan.html",
))
