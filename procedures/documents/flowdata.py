"""What a document-control process is about: process.data holds the ids."""
from .models import Document, PeriodicReview, Revision


def revision_of(process):
    revision_id = (process.data or {}).get("revision")
    if not revision_id:
        return None
    cached = getattr(process, "_revision", None)
    if cached is None or cached.pk != revision_id:
        cached = Revision.objects.select_related("document", "record").get(pk=revision_id)
        process._revision = cached
    return cached


def document_of(process):
    revision = revision_of(process)
    if revision is not None:
        return revision.document
    document_id = (process.data or {}).get("document")
    return Document.objects.get(pk=document_id) if document_id else None


def periodic_review_of(process):
    review_id = (process.data or {}).get("periodic_review")
    return PeriodicReview.objects.select_related("document").get(pk=review_id) if review_id else None


def remember(process, **values):
    process.data = {**(process.data or {}), **values}
    if process.pk:
        process.save(update_fields=["data"])
