"""What other procedures may ask of P4 (the declared entry points; tests/test_architecture.py
allows no other import of this package from another procedure)."""
from .models import Document


def controlled_documents():
    """Every controlled document, by number (e.g. for a "document to change" choice)."""
    return Document.objects.order_by("number")


def request_change(document, *, actor, reason, source_record):
    """Raise a change request of `document` from another record (e.g. a CAPA's D7), linked both
    ways: the new revision names `source_record`. Returns the revision in draft."""
    from .flows import DocumentControlFlow  # the flow loads P4's actions and forms: only when a change is raised

    return DocumentControlFlow.start_raised.run(document=document, actor=actor, source_record=source_record,
                                                reason=reason)


def management_review_figures(today):
    """CA-7: document-control status for the management-review input pack, as of `today`: documents
    in force whose periodic review (DOC-14) is past due, and read-and-understood acknowledgements
    (DOC-7) of effective revisions still missing — overdue ones apart."""
    from .models import Acknowledgement, RevisionStatus  # noqa: PLC0415 — only this entry point needs them

    in_force = Document.objects.filter(revisions__status=RevisionStatus.EFFECTIVE).distinct()
    late_reviews = in_force.filter(next_review_due__lt=today).order_by("next_review_due", "number")
    pending = Acknowledgement.objects.filter(acknowledged_at__isnull=True, revision__status=RevisionStatus.EFFECTIVE)
    return {
        "documents_in_force": in_force.count(),
        "overdue_reviews": late_reviews.count(),
        "overdue_review_documents": [{"number": d.number, "title": d.title, "due": d.next_review_due}
                                     for d in late_reviews[:30]],
        "unacknowledged": pending.count(),
        "unacknowledged_overdue": pending.filter(due_date__lt=today).count(),
        "revisions_not_fully_acknowledged": pending.values("revision").distinct().count(),
    }
