"""Celery tasks of the evidence app: the nightly verification and the audit checkpoints
(core.anchoring); the bundle builder is defined beside what it runs (evidence.bundles)."""
import logging

from celery import shared_task

from core.anchoring import make_checkpoint
from core.checkpoints import CheckpointError

from .bundles import build_evidence_bundle  # noqa: F401  (registered with Celery by autodiscovery)
from .stray_sweeps import sweep_stray_files  # noqa: F401  (registered with Celery by autodiscovery)
from .verification import run_system_verification

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def nightly_verification():
    """Run verify_all (SIG-1); on any problem e-mail the quality managers. Audited.
    When everything verifies, anchor the verified chain with a signed checkpoint."""
    problems = run_system_verification()
    if not problems:
        _checkpoint("nightly")
    return problems


@shared_task(acks_late=True, ignore_result=True)
def make_audit_checkpoint():
    """Celery beat, hourly by default: verify what the audit chain gained since the last checkpoint and sign
    a new one (core.checkpoints.make_checkpoint; refused, audited and e-mailed on any problem)."""
    return _checkpoint("beat")


def _checkpoint(origin):
    try:
        outcome = make_checkpoint(origin=origin)
    except CheckpointError as error:  # an unreadable key or store: say so loudly, every time
        logger.error("audit checkpoint (%s) not written: %s", origin, error)
        return "error"
    (logger.error if outcome.status == "refused" else logger.info)("audit checkpoint (%s): %s", origin,
                                                                   outcome.message)
    return outcome.status
