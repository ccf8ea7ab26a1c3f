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
    if cached is None and process.artifact_object_id:
        cached = OrderReview.objects.select_related("record", "customer").get(pk=process.artifact_object_id)
        process._order_review = cached
    return cached


def attach_artifact(process, obj):
    process.artifact_content_type = ContentType.objects.get_for_model(obj)
    process.artifact_object_id = obj.pk
    process._order_review = obj
    process.save(update_fields=["artifact_content_type", "artifact_object_id"])
