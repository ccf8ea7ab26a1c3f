import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core import stray_files


class Command(BaseCommand):
    help = ("List the stored files (rendered PDFs, uploads) that no row names: left by a write whose transaction "
            "was cut off (a worker killed mid-render, an outer rollback). A file the audit trail or a record "
            "version still names (NAMED: its row was deleted, behind the application or without its file), or "
            "one with no audit entry near its writing (QUIET: the database may be older than the storage), is "
            "kept as evidence and never removed. With --remove, remove the others, each with an audit entry. "
            "Exits 1 while a file that could be removed is left.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=stray_files.GRACE.total_seconds() / 3600,
                            metavar="HOURS",
                            help="look only at files written at least this long ago (default 1: a younger file "
                                 "may belong to a transaction still running)")
        parser.add_argument("--remove", action="store_true",
                            help="remove the stray files that no audit entry names (needs --actor and --reason)")
        parser.add_argument("--actor", metavar="USERNAME", help="the superuser the removals are recorded under")
        parser.add_argument("--reason", default="", help="why they are removed (written into each audit entry)")

    def handle(self, *args, older_than, remove=False, actor=None, reason="", **options):
        grace = stray_files.GRACE.total_seconds() / 3600
        if older_than < grace:
            raise CommandError(f"--older-than must be at least {grace:g} hour(s): a younger file may belong to a "
                               "transaction still running")
        user = None
        if remove:
            if not actor or not reason.strip():
                raise CommandError("--remove needs --actor <superuser> and --reason")
            user = get_user_model().objects.filter(username=actor).first()
            if user is None or not (user.is_active and user.is_superuser):
                raise CommandError(f"--actor {actor}: no active superuser of that name")
        strays = stray_files.find(older_than=datetime.timedelta(hours=older_than))
        removed = left = evidence = 0
        outcomes = {}
        if remove:  # in one transaction that reads the whole trail once for all of them
            outcomes = {stray.name: outcome for stray, outcome in stray_files.remove_many(
                [stray for stray in strays if not stray.evidence], actor=user, reason=reason)}
        for stray in strays:
            line = f"{stray.name} ({stray.size} bytes, written {stray.modified:%Y-%m-%d %H:%M} UTC, " \
                   f"SHA-256 {stray.sha256})"
            if stray.evidence:
                self.stdout.write(self.style.ERROR(f"{stray.kept.upper()} {line}: {stray.why}; no row names it "
                                                   f"(kept as evidence)"))
                evidence += 1
                continue
            if not remove:
                self.stdout.write(f"STRAY {line}")
                left += 1
                continue
            outcome = outcomes[stray.name]
            if isinstance(outcome, stray_files.Refused):
                self.stdout.write(self.style.WARNING(f"KEPT {line}: {outcome}"))
                if outcome.evidence:
                    evidence += 1
                else:
                    left += 1
            else:
                self.stdout.write(self.style.SUCCESS(f"REMOVED {line}"))
                removed += 1
        summary = (f"{len(strays)} stored file(s) that no row names: {removed} removed, {left} left, "
                   f"{evidence} kept as evidence")
        if left:
            self.stdout.write(self.style.WARNING(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))
