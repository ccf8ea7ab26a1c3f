"""NC-8: the default further signatures per disposition code (the Quality manager signs
every disposition; these are the further ones), for each code that has no rule yet.

Seeded on `post_migrate` (a new database, and again after a test flush). Rules are
edited in the admin and never deleted, so an existing rule is never touched.
"""

DEFAULT_DISPOSITION_RULES = [
    # code, further signers (department:role), customer's acceptance where the contract requires it, re-inspection
    ("concession", ["management:manager"], True, False),
    ("rework", [], False, True),
    ("repair", [], False, True),
    ("regrade", [], False, False),
    ("scrap", [], False, False),
    ("return_to_supplier", ["materials:staff"], False, False),
]


def seed_default_disposition_rules(sender=None, using="default", apps=None, **kwargs):
    """post_migrate receiver; `apps` is the migrated state (absent when called directly)."""
    if apps is None:
        from django.apps import apps
    try:
        DispositionRule = apps.get_model("complaints", "DispositionRule")
    except LookupError:  # migrated back to before the table existed
        return
    rules = DispositionRule.objects.using(using)
    present = set(rules.values_list("code", flat=True))
    rules.bulk_create(
        DispositionRule(code=code, signers=signers, customer_acceptance=acceptance, reinspection=reinspection)
        for code, signers, acceptance, reinspection in DEFAULT_DISPOSITION_RULES
        if code not in present
    )
