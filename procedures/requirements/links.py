"""P5 linked both ways to the other procedures:

- CR-4: a requirement raises a P3 corrective action or a P4 document change; the raised
  record names the requirement's record as its source, and the requirement's record lists
  what it raised (a new version).
- the customer-specific requirements in P1: csr.py."""
from django.utils.translation import gettext as _

from accounts.models import Department, Role, department_permission
from core import audit, records
from core.errors import InvalidInput, NotPermitted, WrongState
from inbox.delegation import holds_permission
from procedures.capa import entry as capa_entry
from procedures.documents import entry as documents_entry

from .models import (
    RaisedKind,
    RequirementRaised,
    RequirementStatus,
)
from .records import requirement_snapshot

# --- raise a CAPA / a document change -------------------------------------------------------------------


def may_raise(user, kind):
    """CAPA's own rule: Quality raises a corrective action. A document change may be asked by
    anyone (P4); from a requirement, by Market or Quality."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    quality = holds_permission(user, department_permission(Department.QUALITY, Role.STAFF))
    if kind == RaisedKind.CAPA:
        return quality
    return quality or holds_permission(user, department_permission(Department.MARKET, Role.STAFF))


def _check(req, actor, kind, reason):
    if not may_raise(actor, kind):
        raise NotPermitted(_("Only Quality raises a corrective action.") if kind == RaisedKind.CAPA
                           else _("Only Market or Quality raises a document change from a requirement."))
    if req.status in (RequirementStatus.DUPLICATE,):
        raise WrongState(_("A duplicate requirement raises nothing; use the requirement it repeats."),
                         current_state=req.status)
    if not (reason or "").strip():
        raise InvalidInput(_("Give the reason."), field_errors={"reason": [_("Required.")]})


def _store(req, *, kind, record, actor, reason):
    row = RequirementRaised.objects.create(requirement=req, kind=kind, record=record, reason=reason.strip(),
                                           raised_by=actor)
    audit.log("requirement.raised", row, actor=actor, record=req.record, process_id=req.record.process_id,
              new={"kind": kind, "number": record.number}, reason=row.reason)
    records.add_version(req.record, actor=actor, data=requirement_snapshot(req), reason=f"raised {kind} {record.number}",
                        status=req.status)
    return row


def raise_capa(req, *, actor, reason):
    """A P3 corrective action from the requirement (e.g. a requirement not met, a recurring
    customer-specific requirement missed); Quality only (CAPA's rule)."""
    _check(req, actor, RaisedKind.CAPA, reason)
    record = capa_entry.raise_capa(
        req.record, source=capa_entry.CapaSource.CUSTOMER_REQUIREMENT, actor=actor,
        problem=f"{req.record.number} · {reason.strip()}", customer_name=req.customer_name,
        product_text=req.product_text)
    return _store(req, kind=RaisedKind.CAPA, record=record, actor=actor, reason=reason)


def raise_document_change(req, document, *, actor, reason):
    """A P4 change request of a controlled document from the requirement (e.g. a drawing or a
    specification the approved requirement changes)."""
    _check(req, actor, RaisedKind.DOCUMENT_CHANGE, reason)
    revision = documents_entry.request_change(document, actor=actor, reason=reason.strip(), source_record=req.record)
    return _store(req, kind=RaisedKind.DOCUMENT_CHANGE, record=revision.record, actor=actor, reason=reason)


def raise_from(req, *, actor, kind, reason, document_number=""):
    """The API's and the browser's one entry: `kind` capa | document_change."""
    if kind == RaisedKind.CAPA:
        return raise_capa(req, actor=actor, reason=reason)
    if kind == RaisedKind.DOCUMENT_CHANGE:
        document = documents_entry.controlled_documents().filter(number=(document_number or "").strip()).first()
        if document is None:
            raise InvalidInput(_("No such controlled document."), field_errors={"document": [_("Unknown document.")]})
        return raise_document_change(req, document, actor=actor, reason=reason)
    raise InvalidInput(_("Unknown kind."), field_errors={"kind": [_("Choose capa or document_change.")]})
