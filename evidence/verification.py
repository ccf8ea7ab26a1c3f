"""The scheduled system verification (Celery beat, nightly): verify_all, and an
e-mail to the quality managers when anything fails. Both outcomes are audited."""
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import quality_managers
from core import audit
from core.verification import verify_all


def run_system_verification():
    counts, problems, warnings = verify_all()
    recipients = [u.email for u in quality_managers() if u.email]
    with transaction.atomic():
        audit.log("verification.failed" if problems else "verification.passed",
                  ("system", "verify_audit", "nightly verification"),
                  new={"counts": counts, "problems": [str(p) for p in problems[:200]],
                       "warnings": len(warnings), "alerted": recipients if problems else []})
    if problems:
        body = "verify_audit found {} problem(s):\n\n{}".format(len(problems), "\n".join(f"FAIL {p}" for p in problems))
        send_mail("[QMS] System verification FAILED", body, None, recipients or ["root@localhost"])
    return len(problems)
