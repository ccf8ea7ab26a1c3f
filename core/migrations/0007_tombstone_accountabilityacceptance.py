"""Tombstone (from evidence) and AccountabilityAcceptance (from accounts) belong to core: core
reads them (verify_audit, e-signatures) and imports no app above it."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.migration_ops import move_content_types


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_blank_destroyed_versions"),
        ("accounts", "0003_delegation_moves_to_inbox"),
        ("evidence", "0002_auditor_role_ended"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay where they are (db_table); only Django's idea of which app owns them moves.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Tombstone",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("number", models.CharField(max_length=32, unique=True)),
                        ("record_type", models.CharField(max_length=40)),
                        ("title", models.CharField(max_length=200)),
                        ("created_at_original", models.DateTimeField()),
                        ("last_content_hash", models.CharField(max_length=64)),
                        ("version_hashes", models.JSONField(default=dict)),
                        ("file_hashes", models.JSONField(default=dict)),
                        ("retention_years", models.PositiveSmallIntegerField()),
                        ("reason", models.TextField()),
                        (
                            "destroyed_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, editable=False
                            ),
                        ),
                        (
                            "approval",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="core.signature",
                            ),
                        ),
                        (
                            "approved_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "record",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="tombstone",
                                to="core.record",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "tombstone of a destroyed record",
                        "db_table": "evidence_tombstone",
                        "ordering": ["-destroyed_at"],
                    },
                ),
                migrations.CreateModel(
                    name="AccountabilityAcceptance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("statement_version", models.CharField(max_length=10)),
                        ("statement_text", models.TextField()),
                        ("accepted_at", models.DateTimeField()),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="accountability_acceptances",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_accountabilityacceptance",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "statement_version"),
                                name="unique_acceptance_per_version",
                            )
                        ],
                    },
                ),
            ]
        ),
        move_content_types("accounts", "core", ["accountabilityacceptance"]),
        move_content_types("evidence", "core", ["tombstone"]),
    ]
