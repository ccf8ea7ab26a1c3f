"""The scheduled system verification (Celery beat, nightly): verify_all, and an
e-mail to the quality managers when anything fails. Both outcomes are audited.

It also counts the stored files that no row names (core.stray_files): those left by a write that was cut off
fail nothing, but the entry says how many there are (`manage.py stray_files --remove` removes them); those kept
as evidence (named by the audit trail, or quiet) are counted apart and, when any verification fails, listed in
its e-mail. A failure to count them is recorded, and does not stop the verification. What it found is kept for
the stored-files page (evidence.stray_sweeps), where an administrator removes them.
"""
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import quality_managers
from core import audit, stray_files
from core.verification import verify_all

from . import stray_sweeps


def run_system_verification():
    counts, problems, warnings = verify_all()
    counted = True
    try:
        found = stray_files.find()
    except Exception as error:  # the verification is recorded all the same
        found, strays, counted = [], f"not counted: {error!r}"[:500], False
    else:
        strays = len([stray for stray in found if not stray.evidence])
    kept = [f"{stray.kept.upper()} {stray.name}: {stray.why}" for stray in found if stray.evidence]
    recipients = [u.email for u in quality_managers() if u.email]
    with transaction.atomic():
        audit.log("verification.failed" if problems else "verification.passed",
                  ("system", "verify_audit", "nightly verification"),
                  new={"counts": counts, "problems": [str(p) for p in problems[:200]],
                       "warnings": len(warnings), "stray_files": strays, "stray_files_kept": kept[:200],
                       "alerted": recipients if problems else []})
        if counted:  # the stored-files page shows last night's list (evidence.stray_sweeps)
            stray_sweeps.record_nightly(found)
    if problems:
        body = "verify_audit found {} problem(s):\n\n{}".format(len(problems), "\n".join(f"FAIL {p}" for p in problems))
        if strays:
            body += (f"\n\nStored files that no row names, left by a write that was cut off: {strays} (manage.py "
                     f"stray_files lists them; --remove removes them with an audit entry).")
        if kept:
            body += "\n\nStored files that no row names, kept as evidence:\n" + "\n".join(kept)
        send_mail("[QMS] System verification FAILED", body, None, recipients or ["root@localhost"])
    return len(problems)
