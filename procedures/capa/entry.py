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
