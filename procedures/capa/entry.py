"""What other procedures may ask of P3 (the declared entry points; tests/test_architecture.py
allows no other import of this package from another procedure): raise a corrective action,
and the signal sent when one closes (procedures.capa.signals)."""
from .models import CapaSource


def raise_capa_from_complaint(complaint_case, *, is_complaint, actor):
    """P2.6 → P3 (CA-1): start a corrective action for a justified complaint (True) or return
    (False), linked both ways; returns the CAPA report's record number (the complaint stores it)."""
    from .flows import CapaFlow  # the flow loads P3's steps and actions: only when a CAPA is raised

    capa = CapaFlow.start_raised.run(complaint_case=complaint_case, actor=actor,
                                     source=CapaSource.COMPLAINT if is_complaint else CapaSource.RETURN)
    return capa.record.number


def raise_capa(source_record, *, source, actor, problem, customer_name="", product_text=""):
    """Another procedure's record (e.g. a P5 customer requirement) raises a corrective action,
    linked both ways: the CAPA names `source_record` as its source reference, the caller stores
    the CAPA's record. CAPA's own rule applies: Quality raises a corrective action. Returns the
    CAPA report's core.Record."""
    from .flows import CapaFlow  # the flow loads P3's steps and actions: only when a CAPA is raised

    capa = CapaFlow.start_from_record.run(source_record=source_record, source=source, actor=actor, data={
        "title": problem[:200], "customer_name": customer_name, "product_text": product_text})
    return capa.record
