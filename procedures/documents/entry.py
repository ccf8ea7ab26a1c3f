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
