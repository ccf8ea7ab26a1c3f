from django.core.management.base import BaseCommand, CommandError

from evidence.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = ("Restore a backup into an EMPTY, migrated database (run `migrate` first), then verify it: every "
            "record version's hash reproduced and verify_audit clean. Exit 1 on any problem.")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="a backup written by `manage.py backup`")

    def handle(self, *args, archive, **options):
        try:
            manifest, problems = restore_backup(archive, stdout=self.stdout)
        except BackupError as error:
            raise CommandError(str(error))
        for problem in problems:
            self.stdout.write(self.style.ERROR(f"FAIL {problem}"))
        if problems:
            self.stdout.write(self.style.ERROR(f"{len(problems)} problem(s) after restore"))
            raise SystemExit(1)
        hashes = sum(len(v) for v in manifest["record_hashes"].values())
        self.stdout.write(self.style.SUCCESS(
            f"OK: restored; {hashes} record version hashes reproduced and every hash and link verifies"))
