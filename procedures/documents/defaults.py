"""The default approval matrix (DOC-4): a rule for each document type that has none.

Seeded on `post_migrate`, i.e. by `manage.py migrate` on a new database and again after
a test flush (Django flushes the tables between transactional tests and then sends
post_migrate, as it does for content types and permissions). Rules are edited by the Quality
manager (approval matrix page, PATCH /api/approval-rules/) and never deleted, so an existing
rule is never touched; a type without one (a new database, a new type) gets the default.
"""

DEFAULT_APPROVAL_RULES = [
    # document type, reviewing departments, approver's department, approver's role
    ("procedure", ["quality", "market", "production"], "management", "manager"),
    ("work_instruction", ["quality", "production"], "quality", "manager"),
    ("form", ["quality"], "quality", "manager"),
    ("external", ["quality", "engineering"], "quality", "manager"),
]


def seed_default_approval_rules(sender=None, using="default", apps=None, **kwargs):
    """post_migrate receiver; `apps` is the migrated state (absent when called directly)."""
    if apps is None:
        from django.apps import apps
    try:
        ApprovalRule = apps.get_model("procedures", "ApprovalRule")
    except LookupError:  # migrated back to before the table existed
        return
    rules = ApprovalRule.objects.using(using)
    present = set(rules.values_list("document_type", flat=True))
    rules.bulk_create(
        ApprovalRule(document_type=doc_type, reviewing_departments=reviewers,
                     approver_department=department, approver_role=role)
        for doc_type, reviewers, department, role in DEFAULT_APPROVAL_RULES
        if doc_type not in present
    )
