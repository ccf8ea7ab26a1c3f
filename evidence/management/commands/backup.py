from django.core.management.base import BaseCommand

from evidence.backup import make_backup


class Command(BaseCommand):
    help = "Write a consistent backup: database dump + stored files + manifest (SHA-256 and record hashes)."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the archive to write, e.g. qms-2026-11-23.tar.gz")

    def handle(self, *args, out, **options):
        manifest = make_backup(out)
        self.stdout.write(f"files: {len(manifest['files'])}, records: {manifest['counts']['records']}, "
                          f"versions: {manifest['counts']['record versions']}, "
                          f"audit entries: {manifest['counts']['audit entries']}")
        for name in manifest["missing_files"]:
            self.stdout.write(self.style.WARNING(f"WARN stored file missing, not in the backup: {name}"))
        self.stdout.write(self.style.SUCCESS(f"OK: backup written to {out}"))
