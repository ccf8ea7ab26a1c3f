"""What P3 tells whoever listens (a declared entry point: other procedures may connect)."""
from django.dispatch import Signal

# A corrective action was closed (D8), in the closing transaction: `case` (a CapaCase, whose
# `complaint_case_id` names the complaint / return that raised it, if any).
corrective_action_closed = Signal()
