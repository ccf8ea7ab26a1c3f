from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class OrderReviewProcess(Process):
    """P1 process: the OrderReview is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Order / contract review")
        verbose_name_plural = _("Order / contract reviews")

    @property
    def order_review(self):
        return order_review_of(self)


class DocumentChangeProcess(Process):
    """P4 process: process.data names the document, revision or periodic review."""

    class Meta:
        proxy = True
        verbose_name = _("Document control")
        verbose_name_plural = _("Document control")


def order_review_of(process):
    from forms.models import OrderReview

    cached = getattr(process, "_order_review", None)
    if cached is None and process.artifact_object_id and not _artifact_is(process, "orderreview"):
        return None  # another procedure's artifact
    if cached is None and process.artifact_object_id:
        cached = OrderReview.objects.select_related("record", "customer").get(pk=process.artifact_object_id)
        process._order_review = cached
    return cached


def attach_artifact(process, obj):
    process.artifact_content_type = ContentType.objects.get_for_model(obj)
    process.artifact_object_id = obj.pk
    setattr(process, {"orderreview": "_order_review", "complaintcase": "_complaint_case",
                      "complaintanalysis": "_complaint_analysis", "capacase": "_capa_case"}.get(obj._meta.model_name, "_artifact"), obj)
    process.save(update_fields=["artifact_content_type", "artifact_object_id"])


def _artifact_is(process, model_name):
    """Does the process carry an artifact of forms.<model_name>? (No query: content types are cached.)"""
    if not process.artifact_content_type_id:
        return False
    return ContentType.objects.get_for_id(process.artifact_content_type_id).model == model_name


class ComplaintProcess(Process):
    """P2 process: a complaint / return case (ComplaintCase) or a periodic analysis
    (ComplaintAnalysis) is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Complaint / return")
        verbose_name_plural = _("Complaints and returns")

    @property
    def complaint_case(self):
        return complaint_case_of(self)

    @property
    def complaint_analysis(self):
        return complaint_analysis_of(self)

    @property
    def summary_text(self):
        """One line for the process lists: the record, the customer and the lot's hold status."""
        case = self.complaint_case
        if case is not None:  # the lot and its hold first: the lists cut long lines
            lot = case.lot
            held = f" · {lot.number} {lot.get_status_display()}" if lot is not None else (
                f" · {case.lot_number}" if case.lot_number else "")
            return f"{case.record.number}{held} · {case.product.code} · {case.customer}"
        analysis = self.complaint_analysis
        if analysis is not None:
            return f"{analysis.record.number} · {analysis.period_start} – {analysis.period_end}"
        return ""


def complaint_case_of(process):
    from forms.models import ComplaintCase

    cached = getattr(process, "_complaint_case", None)
    if cached is None and process.artifact_object_id and _artifact_is(process, "complaintcase"):
        cached = ComplaintCase.objects.select_related("record", "customer", "product", "lot", "order_review__record") \
            .get(pk=process.artifact_object_id)
        process._complaint_case = cached
    return cached


def complaint_analysis_of(process):
    from forms.models import ComplaintAnalysis

    cached = getattr(process, "_complaint_analysis", None)
    if cached is None and process.artifact_object_id and _artifact_is(process, "complaintanalysis"):
        cached = ComplaintAnalysis.objects.select_related("record").get(pk=process.artifact_object_id)
        process._complaint_analysis = cached
    return cached


class CapaProcess(Process):
    """P3 process: the corrective action (CapaCase) is its artifact."""

    class Meta:
        proxy = True
        verbose_name = _("Corrective / preventive action")
        verbose_name_plural = _("Corrective and preventive actions")

    @property
    def capa_case(self):
        return capa_case_of(self)

    @property
    def summary_text(self):
        """One line for the process lists: the report, its state and overdue actions."""
        case = self.capa_case
        if case is None:
            return ""
        overdue = sum(1 for a in case.actions.all() if a.overdue)
        late = f" · {overdue} overdue" if overdue else ""
        return f"{case.record.number} · {case.get_status_display()}{late} · {case.title}"


def capa_case_of(process):
    from forms.models import CapaCase

    cached = getattr(process, "_capa_case", None)
    if cached is None and process.artifact_object_id and _artifact_is(process, "capacase"):
        cached = CapaCase.objects.select_related("record", "leader", "champion", "complaint_case__record") \
            .get(pk=process.artifact_object_id)
        process._capa_case = cached
    return cached
