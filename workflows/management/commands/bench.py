"""`manage.py bench --tasks 100000`: grow the benchmark data to that many viewflow tasks (PostgreSQL;
workflows/bench/generate.py), then measure the task lists, dashboard, notifications and registry
search (workflows/bench/measure.py), print the table with the change from the previous run of the
same size, and write var/bench/<timestamp>-<size>.json. scripts/bench.sh runs it on a database of
its own."""
import datetime
import platform

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from workflows.bench import generate, measure


def size_label(tasks):
    if tasks >= 1_000_000:
        return f"{tasks / 1_000_000:g}M"
    return f"{tasks // 1000}k" if tasks >= 1000 else str(tasks)


class Command(BaseCommand):
    help = "Grow the benchmark data (PostgreSQL) to --tasks viewflow tasks and measure the lists and searches."

    def add_arguments(self, parser):
        parser.add_argument("--tasks", type=int, default=10_000, help="grow to this many tasks first (default 10000)")
        parser.add_argument("--records", type=int, default=0,
                            help="then grow the registry to this many records with older ones (e.g. 1000000)")
        parser.add_argument("--user", default="quality_mgr", help="the person whose lists are measured")
        parser.add_argument("--repeat", type=int, default=20, help="timed requests per item (after 2 warm-ups)")
        parser.add_argument("--generate-only", action="store_true")
        parser.add_argument("--no-generate", action="store_true", help="measure the data as it is")
        parser.add_argument("--only", default="", help="comma-separated item name prefixes, e.g. api_records")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…/<a database of its own>.")
        log = self.stdout.write
        if not options["no_generate"]:
            started = datetime.datetime.now()
            generate.grow(options["tasks"], log=log)
            if options["records"]:
                generate.grow_records(options["records"], log=log)
            log(f"generated in {(datetime.datetime.now() - started).total_seconds():.1f} s")
        sizes = generate.sizes()
        log(f"data: {sizes}")
        if options["generate_only"]:
            return
        label = size_label(sizes["tasks"])
        if sizes["records"] >= 500_000:  # a registry grown past its tasks' own records is another size
            label += f"-{size_label(sizes['records'])}rec"
        only = tuple(p for p in options["only"].split(",") if p)
        results = measure.run(options["user"], options["repeat"], log=log, only=only)
        folder = settings.VAR_DIR / "bench"
        previous_files = sorted(folder.glob(f"*-{label}.json")) if folder.exists() else []
        previous = None
        if previous_files:
            import json
            previous = json.loads(previous_files[-1].read_text())
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        payload = {"timestamp": stamp, "size": label, "data": sizes, "user": options["user"],
                   "repeat": options["repeat"], "database": connection.pg_version,
                   "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
                   "results": results}
        path = folder / f"{stamp}-{label}{'-partial' if only else ''}.json"
        measure.dump(path, payload)
        log(measure.table(results, previous))
        log(f"written {path}" + (f"; compared with {previous_files[-1].name}" if previous else ""))
