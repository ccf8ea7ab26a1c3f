"""Electronic signatures (21 CFR 11.50, 11.70, 11.100, 11.200, 11.300).

Signing is two steps:
1. `verify_signer()` checks the re-entered password (and the user ID where 11.200
   asks for both). It runs in its own transaction *before* the change, so a failed
   attempt is counted and audited even though the change itself is refused. The
   fifth consecutive failure locks signing for that user until an administrator
   unlocks it.
2. `apply_signature()` writes the signature row bound to the content hash of the
   exact record version, inside the transaction of the change it signs.
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _


from . import audit, lockout
from .authentication import access_refusal
from .errors import InvalidInput, SignatureRefused
from .i18n import english
from .models import (
    ACCOUNTABILITY_STATEMENT, ACCOUNTABILITY_STATEMENT_VERSION, AccountabilityAcceptance, Meaning, Signature,
)

REASON_REQUIRED = {Meaning.REJECTED}


def _acceptances(user):
    return AccountabilityAcceptance.objects.filter(user=user, statement_version=ACCOUNTABILITY_STATEMENT_VERSION)


def has_accepted_accountability(user):
    return _acceptances(user).exists()


def _signer_state(user):
    """(has accepted the accountability statement, when the sign-in lock ends or None), in one query:
    the two facts every signature checks before the password (issue 15: a signed step's queries)."""
    row = get_user_model().objects.filter(pk=user.pk).values(
        accepted=Exists(_acceptances(OuterRef("pk"))),
        last_failure=Subquery(lockout.locking_failures(user.get_username())
                              .values("username").annotate(last=Max("attempt_time")).values("last")),
    ).get()
    return row["accepted"], lockout.lock_end(row["last_failure"])


@transaction.atomic
def accept_accountability(user):
    """SIG-18: store the user's acknowledgement of the accountability statement."""
    with translation.override("zh-hans"):
        statement = str(ACCOUNTABILITY_STATEMENT)
    statement = f"{statement}\n{english(ACCOUNTABILITY_STATEMENT)}"  # stored in both languages
    acceptance, created = AccountabilityAcceptance.objects.get_or_create(
        user=user, statement_version=ACCOUNTABILITY_STATEMENT_VERSION,
        defaults={"statement_text": statement, "accepted_at": timezone.now()},
    )
    if created:
        audit.log("esign.accountability_accepted", acceptance, actor=user,
                  new={"statement_version": ACCOUNTABILITY_STATEMENT_VERSION,
                       "statement": acceptance.statement_text})
    return acceptance


def validate_signature_input(meaning, reason, allowed_meanings):
    """Field errors for the meaning and reason of a signature, before any password check."""
    errors = {}
    if meaning not in allowed_meanings:
        errors["meaning"] = [_("Choose one of: %(choices)s.") % {
            "choices": ", ".join(str(Meaning(m).label) for m in allowed_meanings)}]
    if meaning in REASON_REQUIRED and not (reason or "").strip():
        errors["reason"] = [_("A reason is required to reject.")]
    if errors:
        raise InvalidInput(_("The signature is incomplete."), field_errors=errors)


def verify_signer(user, password, *, username=None, require_username=False):
    """Check the signer's credentials; count, audit and lock on failure.

    Raises SignatureRefused naming the problem. Must be called outside the
    transaction of the change (or that transaction must still commit), so that
    the failure count survives."""
    limit = settings.QMS["SIGNING_FAILURE_LIMIT"]
    if not user.is_active:
        raise SignatureRefused(_("This account is deactivated."), field_errors={"password": [_("Account deactivated.")]})
    accepted, lock_ends = _signer_state(user)
    refusal = access_refusal(user, lock_ends)  # expired password, login lock-out: whatever authenticated the request
    if refusal:
        raise SignatureRefused(refusal, field_errors={"password": [refusal]})
    if user.signing_locked_at:
        raise SignatureRefused(
            _("Signing is locked for this account after repeated failures; ask an administrator."),
            field_errors={"password": [_("Signing is locked.")]},
        )
    if not accepted:
        raise SignatureRefused(
            _("Accept the electronic-signature accountability statement before your first signature."),
            field_errors={"accept_accountability": [_("Required before the first signature.")]},
        )
    if require_username and not username:
        raise SignatureRefused(_("Enter your user ID and password to sign."),
                               field_errors={"username": [_("Required for the first signature of a session.")]})
    if (username is not None and username != user.get_username()) or not user.check_password(password or ""):
        with transaction.atomic():
            # FOR NO KEY UPDATE: a removal holding the audit head key-shares the user row it names as actor
            locked = get_user_model().objects.select_for_update(no_key=True).get(pk=user.pk)
            locked.signing_failures += 1
            fields = ["signing_failures"]
            if locked.signing_failures >= limit:
                locked.signing_locked_at = timezone.now()
                fields.append("signing_locked_at")
            locked.save(update_fields=fields)
            audit.log("esign.failed", locked, actor=user,
                      new={"consecutive_failures": locked.signing_failures,
                           "locked": bool(locked.signing_locked_at)})
            if locked.signing_locked_at and "signing_locked_at" in fields:
                audit.log("esign.locked", locked, actor=user, reason=f"{limit} consecutive signing failures")
        user.signing_failures, user.signing_locked_at = locked.signing_failures, locked.signing_locked_at
        raise SignatureRefused(_("The user ID or password is not correct."),
                               field_errors={"password": [_("Wrong password.")]})
    if user.signing_failures:
        with transaction.atomic():
            get_user_model().objects.filter(pk=user.pk).update(signing_failures=0)
        user.signing_failures = 0


@transaction.atomic
def unlock_signing(user, *, actor, reason):
    if not reason:
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    get_user_model().objects.filter(pk=user.pk).update(signing_failures=0, signing_locked_at=None)
    audit.log("esign.unlocked", user, actor=actor, reason=reason)


def apply_signature(version, *, signer, meaning, role, reason="", task=None, step="", on_behalf_of=None):
    """Sign `version` (inside the caller's transaction). The signature binds the
    version's content hash; `verify_signature` detects any later alteration.
    `on_behalf_of`: the absent person a substitute signs for (inbox.delegation);
    it is part of the signature's hashed content."""
    return apply_signatures([version], signer=signer, meaning=meaning, role=role, reason=reason, task=task,
                            step=step, on_behalf_of=on_behalf_of)[0]


def apply_signatures(versions, *, signer, meaning, role, reason="", task=None, step="", on_behalf_of=None):
    """`apply_signature()` of several versions one act signs (a step whose decision is recorded in two
    records): one INSERT for all, each signature with its own audit entry, in the order given. The rows
    are saved signals and all (post_save: inbox.signals' rejection notices), as `save()` would."""
    now = timezone.now()
    signatures = []
    for version in versions:
        signature = Signature(
            record_version=version,
            signer=signer,
            signer_username=signer.get_username(),
            printed_name=signer.printed_name,
            on_behalf_of=on_behalf_of,
            on_behalf_of_name=on_behalf_of.printed_name if on_behalf_of is not None else "",
            role=role,
            meaning=meaning,
            reason=reason or "",
            content_hash=version.content_hash,
            task_id=task.pk if task is not None else None,
            step=step,
            signed_at=now,
        )
        signature.signature_hash = signature.compute_hash()
        signatures.append(signature)
    Signature.objects.bulk_create(signatures)  # sets the keys (PostgreSQL, SQLite >= 3.35: RETURNING)
    for signature in signatures:
        post_save.send(sender=Signature, instance=signature, created=True, update_fields=None, raw=False,
                       using=signature._state.db)
    for signature in signatures:
        version = signature.record_version
        audit.log("esign.signed", signature, actor=signer, record=version.record,
                  process_id=version.record.process_id, reason=reason, on_behalf_of=on_behalf_of,
                  new={"version": version.version, "meaning": meaning, "role": role,
                       "content_hash": version.content_hash, "signature_hash": signature.signature_hash,
                       **({"on_behalf_of": on_behalf_of.username} if on_behalf_of is not None else {})})
    return signatures


def signature_problems(signature, *, version_hash=None):
    """Why a signature no longer verifies ([] when it does). `version_hash`: the SHA-256 of the signed
    version's canonical data as the caller has just computed it (an evidence bundle hashes each version once
    for all its signatures); computed here when not given."""
    problems = []
    version = signature.record_version
    if (version_hash or version.compute_hash()) != version.content_hash:
        problems.append("the signed record version's data was altered")
    if signature.content_hash != version.content_hash:
        problems.append("the signature is bound to different content")
    if signature.compute_hash() != signature.signature_hash:
        problems.append("the signature itself was altered")
    return problems
