"""How controlled documents govern the rest of the engine:
- a blank form (type FORM, `governs_record_type`) fixes the form number and revision
  every new record of that type prints; a record keeps them after the form is revised;
- a procedure (type PROCEDURE, `governs_flow`) is recorded on every process of its flow."""
from .models import Document, DocumentType, RevisionStatus


def flow_key(flow_class):
    """How a procedure document names the flow it governs: the flow class's name, which stays
    when its module moves (the flows are registered in core.registry, one class per name)."""
    return flow_class.__name__


def form_in_force(record_type):
    document = Document.objects.filter(doc_type=DocumentType.FORM, governs_record_type=record_type.code).first()
    if document is None:
        return None
    revision = document.revisions.filter(status=RevisionStatus.EFFECTIVE).first()
    if revision is None:
        return None
    return document.number, revision.label


def procedure_in_force(flow_class):
    """The effective revision of the procedure that governs `flow_class`, or None."""
    document = Document.objects.filter(doc_type=DocumentType.PROCEDURE, governs_flow=flow_key(flow_class)).first()
    if document is None:
        return None
    return document.revisions.filter(status=RevisionStatus.EFFECTIVE).first()


def retention_years(record_type):
    """core.registry: the longest retention period of the blank forms that govern `record_type`,
    or None when no form does."""
    return (Document.objects.filter(governs_record_type=record_type)
            .order_by("-retention_years").values_list("retention_years", flat=True).first())
