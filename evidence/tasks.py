"""Celery tasks of the evidence app: bundle building, the nightly verification and the
audit checkpoints (core.checkpoints)."""
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def build_evidence_bundle(bundle_id):
    from .bundles import build_bundle

    build_bundle(bundle_id)


@shared_task(acks_late=True, ignore_result=True)
def nightly_verification():
    """Run verify_all (SIG-1); on any problem e-mail the quality managers. Audited.
    When everything verifies, anchor the verified chain with a signed checkpoint."""
    from .verification import run_system_verification

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
    from core.checkpoints import CheckpointError, make_checkpoint

    try:
        outcome = make_checkpoint(origin=origin)
    except CheckpointError as error:  # an unreadable key or store: say so loudly, every time
        logger.error("audit checkpoint (%s) not written: %s", origin, error)
        return "error"
    (logger.error if outcome.status == "refused" else logger.info)("audit checkpoint (%s): %s", origin,
                                                                   outcome.message)
    return outcome.status
