"""How controlled documents govern the rest of the engine:
- a blank form (type FORM, `governs_record_type`) fixes the form number and revision
  every new record of that type prints; a record keeps them after the form is revised;
- a procedure (type PROCEDURE, `governs_flow`) is recorded on every process of its flow."""
from django.db.models import OuterRef, Subquery

from .models import Document, DocumentType, Revision, RevisionStatus


def flow_key(flow_class):
    """How a procedure document names the flow it governs: the flow class's name, which stays
    when its module moves (the flows are registered in core.registry, one class per name)."""
    return flow_class.__name__


def form_in_force(record_type):
    """(form number, revision label) of the blank form governing `record_type` (the first such document) when a
    revision of it is in force, else None: one query, asked for every record made."""
    effective = Revision.objects.filter(document=OuterRef("pk"), status=RevisionStatus.EFFECTIVE) \
        .order_by("sequence").values("label")[:1]
    row = Document.objects.filter(doc_type=DocumentType.FORM, governs_record_type=record_type.code) \
        .values("number", label=Subquery(effective)).first()
    if row is None or row["label"] is None:
        return None
    return row["number"], row["label"]


def procedure_in_force(flow_class):
    """The effective revision of the procedure that governs `flow_class`, or None."""
    first = Document.objects.filter(doc_type=DocumentType.PROCEDURE, governs_flow=flow_key(flow_class)).values("pk")[:1]
    return Revision.objects.filter(document=Subquery(first), status=RevisionStatus.EFFECTIVE).order_by("sequence") \
        .first()  # one query, asked for every process started


def retention_years(record_type):
    """core.registry: the longest retention period of the blank forms that govern `record_type`,
    or None when no form does."""
    return (Document.objects.filter(governs_record_type=record_type)
            .order_by("-retention_years").values_list("retention_years", flat=True).first())
