"""Celery tasks of the evidence app: bundle building and the nightly verification."""
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def build_evidence_bundle(bundle_id):
    from .bundles import build_bundle

    build_bundle(bundle_id)


@shared_task(acks_late=True, ignore_result=True)
def nightly_verification():
    """Run verify_all (SIG-1); on any problem e-mail the quality managers. Audited."""
    from .verification import run_system_verification

    return run_system_verification()
