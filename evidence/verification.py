"""The scheduled system verification (Celery beat, nightly): verify_all, and an
e-mail to the quality managers when anything fails. Both outcomes are audited.

It also counts the stored files that no row names (core.stray_files): left by a write that was cut off, they
fail nothing, but the entry says how many there are (`manage.py stray_files --remove` removes them); one whose
row was deleted behind the application is already a problem of verify_all (the row its audit entry created is
missing)."""
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import quality_managers
from core import audit, stray_files
from core.verification import verify_all


def run_system_verification():
    counts, problems, warnings = verify_all()
    strays = [stray.name for stray in stray_files.find() if not stray.evidence]
    recipients = [u.email for u in quality_managers() if u.email]
    with transaction.atomic():
        audit.log("verification.failed" if problems else "verification.passed",
                  ("system", "verify_audit", "nightly verification"),
                  new={"counts": counts, "problems": [str(p) for p in problems[:200]],
                       "warnings": len(warnings), "stray_files": len(strays),
                       "alerted": recipients if problems else []})
    if problems:
        body = "verify_audit found {} problem(s):\n\n{}".format(len(problems), "\n".join(f"FAIL {p}" for p in problems))
        if strays:
            body += (f"\n\n{len(strays)} stored file(s) that no row names, left by a write that was cut off "
                     f"(manage.py stray_files lists them; --remove removes them with an audit entry).")
        send_mail("[QMS] System verification FAILED", body, None, recipients or ["root@localhost"])
    return len(problems)
