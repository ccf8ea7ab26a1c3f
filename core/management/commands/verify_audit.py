from django.core.management.base import BaseCommand, CommandError

from core.anchoring import make_checkpoint
from core.checkpoints import CheckpointError
from core.verification import verify


class Command(BaseCommand):
    help = ("Recompute the hashes of the audit trail, record versions, signatures and stored files, and check "
            "them against every signed checkpoint of the store outside the database (QMS_CHECKPOINT_DIR); "
            "name each broken item and exit 1 if any. By default incremental: from the last signed checkpoint "
            "(verified before it was signed), re-hashing only what came after it; --full recomputes everything. "
            "When everything verifies, write a new checkpoint (with the key of QMS_CHECKPOINT_KEY_FILE).")

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true",
                            help="recompute every hash from the first audit entry on, and every record version, "
                                 "signature and stored file (the nightly verification always does)")
        parser.add_argument("--since-checkpoint", action="store_true",
                            help="incremental (the default, kept for scripts): start from the last signed "
                                 "checkpoint: check that its audit entry still has the signed hash and the rows it "
                                 "anchored still digest as signed, then verify only what came after it")
        parser.add_argument("--jobs", type=int, default=1, metavar="N",
                            help="verify the audit chain, the record versions, signatures and stored files in N "
                                 "processes, each over its own range (the problems are the same as with 1; "
                                 "use the number of cores for a --full run over millions of entries)")
        parser.add_argument("--no-checkpoint", action="store_true",
                            help="do not write a checkpoint at the end (read-only run)")

    def handle(self, *args, full=False, since_checkpoint=False, no_checkpoint=False, jobs=1, **options):
        if full and since_checkpoint:
            raise CommandError("--full and --since-checkpoint exclude each other")
        if jobs < 1:
            raise CommandError("--jobs must be 1 or more")
        result = verify(since_checkpoint=not full, warn_full=since_checkpoint, jobs=jobs)
        if result.since is not None:
            self.stdout.write(f"Incremental: from {result.since} (--full recomputes everything)")
        else:
            self.stdout.write("Full: from the first audit entry")
        self.stdout.write("Checked: " + ", ".join(f"{n} {what}" for what, n in result.counts.items()))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"WARN {warning}"))
        for problem in result.problems:
            self.stdout.write(self.style.ERROR(f"FAIL {problem}"))
        if result.problems:
            self.stdout.write(self.style.ERROR(f"{len(result.problems)} problem(s) found; first: {result.problems[0]}"))
            raise SystemExit(1)
        if result.anchored:
            self.stdout.write(f"Anchored: {len(result.store.checkpoints)} signed checkpoint(s) verify, the last "
                              f"{result.store.last}")
        self.stdout.write(self.style.SUCCESS("OK: every hash and link verifies"))
        if no_checkpoint:
            return
        try:
            outcome = make_checkpoint(origin="verify_audit")
        except CheckpointError as error:
            self.stdout.write(self.style.ERROR(f"FAIL checkpoint not written: {error}"))
            raise SystemExit(1)
        if outcome.status == "written":
            self.stdout.write(self.style.SUCCESS(f"Checkpoint: {outcome.message}"))
        elif outcome.status == "no key":
            self.stdout.write(self.style.WARNING(f"WARN checkpoint not written: {outcome.message}"))
        elif outcome.status == "refused":  # something changed between the verification and the checkpoint
            for problem in outcome.problems:
                self.stdout.write(self.style.ERROR(f"FAIL {problem}"))
            self.stdout.write(self.style.ERROR(outcome.message))
            raise SystemExit(1)
        else:
            self.stdout.write(f"Checkpoint: {outcome.message}")
