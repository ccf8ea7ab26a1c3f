"""The benchmark's measurements: each item is a request served in-process by Django's test Client
(the whole stack: middleware, session, permissions, serializer or template), timed `repeat`
times after a warm-up, with its query count and the rows it returned; beside it, in the same
run, viewflow's stock queryset for the same list (where there is one) and a hand-written SQL
floor (the least a page of that list costs: the count and the page, straight SQL). Each request's own SQL time
(each statement from its execute to its rows in the client) is kept beside its whole time, and so is the SQL time
of viewflow's stock queries, so that the queries can be compared with the queries."""
import contextlib
import itertools
import json
import statistics
import time

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from viewflow.workflow.fields import get_flow_ref, get_task_ref
from viewflow.workflow.models import Task

from accounts.backends import department_permissions
from accounts.models import User
from core.registry import flows
from inbox.services import DASHBOARD_ROWS

PAGE = 50


def percentile(samples, share):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(samples):
    """p50, p95 and count of timings in ms."""
    return {"p50": round(statistics.median(samples), 2), "p95": round(percentile(samples, 0.95), 2),
            "n": len(samples)}


def timed(func, repeat, warmup=2):
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        func()
        samples.append((time.perf_counter() - begin) * 1000)
    return summary(samples)


def _sql(statements):
    """Run hand-written statements [(sql, params)], fetching every row."""
    def run():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
    return run


def floor_inbox(user):
    return [("SELECT count(*) FROM viewflow_task WHERE owner_id = %s AND status IN ('ASSIGNED', 'STARTED')", [user.pk]),
            ("SELECT t.*, d.due_at, p.flow_class FROM viewflow_task t JOIN viewflow_process p ON p.id = t.process_id "
             "LEFT JOIN inbox_taskdeadline d ON d.task_id = t.id WHERE t.owner_id = %s "
             "AND t.status IN ('ASSIGNED', 'STARTED') ORDER BY t.created, t.id LIMIT %s", [user.pk, PAGE])]


def floor_queue(user):
    perms = sorted(department_permissions(user)) or [""]
    return [("SELECT count(*) FROM viewflow_task WHERE status = 'NEW' AND owner_id IS NULL "
             "AND flow_task_type = 'HUMAN' AND owner_permission = ANY(%s)", [perms]),
            ("SELECT t.*, d.due_at FROM viewflow_task t LEFT JOIN inbox_taskdeadline d ON d.task_id = t.id "
             "WHERE t.status = 'NEW' AND t.owner_id IS NULL AND t.flow_task_type = 'HUMAN' "
             "AND t.owner_permission = ANY(%s) ORDER BY t.created, t.id LIMIT %s", [perms, PAGE])]


def _has_due_column():
    with connection.cursor() as cursor:
        return any(column.name == "qms_due_at"
                   for column in connection.introspection.get_table_description(cursor, "viewflow_task"))


def floor_dashboard(user, rows=DASHBOARD_ROWS):
    """Each list's first rows and its total (COUNT(*) OVER () in the same scan, as the dashboard asks; with the due
    date on the task row, the overdue count too)."""
    perms = sorted(department_permissions(user)) or [""]
    mine = "t.owner_id = %s AND t.status IN ('ASSIGNED', 'STARTED')"  # the dashboard's inbox (inbox.services.inbox_of)
    queue = ("t.status = 'NEW' AND t.owner_id IS NULL AND t.flow_task_type = 'HUMAN' "
             "AND t.owner_permission = ANY(%s)")
    if _has_due_column():  # the due date on the task row (inbox migration 0006): no join with the deadlines;
        # "overdue" is each list's first rows (soonest due first) and a count in the same scan, as the dashboard asks
        due_list = ("SELECT t.*, count(*) OVER (), count(*) FILTER (WHERE t.qms_due_at <= now()) OVER () "
                    "FROM viewflow_task t WHERE {where} ORDER BY t.qms_due_at NULLS LAST, t.id LIMIT %s")
        late_lists = []
    else:
        due_list = ("SELECT t.*, d.due_at, count(*) OVER () FROM viewflow_task t LEFT JOIN inbox_taskdeadline d "
                    "ON d.task_id = t.id WHERE {where} ORDER BY d.due_at NULLS LAST, t.id LIMIT %s")
        late_list = ("SELECT t.*, d.due_at, count(*) OVER () FROM viewflow_task t JOIN inbox_taskdeadline d "
                     "ON d.task_id = t.id WHERE {where} AND d.due_at <= now() ORDER BY d.due_at, t.id LIMIT %s")
        late_lists = [(late_list.format(where=mine), [user.pk, rows]), (late_list.format(where=queue), [perms, rows])]
    return [
        (due_list.format(where=mine), [user.pk, rows]),
        (due_list.format(where=queue), [perms, rows]),
        *late_lists,
        ("SELECT *, count(*) OVER () FROM viewflow_task WHERE owner_id = %s AND status = 'DONE' "
         "ORDER BY finished DESC, id DESC LIMIT %s", [user.pk, rows]),
        ("SELECT p.*, count(*) OVER () FROM viewflow_process p WHERE p.id IN (SELECT process_id FROM viewflow_task "
         "WHERE owner_id = %s AND flow_task_type = 'HUMAN_START') ORDER BY p.created DESC, p.id DESC LIMIT %s",
         [user.pk, rows]),
    ]


def floor_archive(user):
    """The tasks a person completed, last finished first: a page and the count in one scan."""
    return [("SELECT *, count(*) OVER () FROM viewflow_task WHERE owner_id = %s AND status = 'DONE' "
             "ORDER BY finished DESC, id DESC LIMIT %s", [user.pk, PAGE])]


def floor_flow_board(flow_class):
    """A flow's board: each step's open tasks counted (one grouped scan) and each column's 25 oldest; the 25
    processes it closed last."""
    from workflows.flow_pages import BOARD_ROWS, BOARD_TYPES, nodes_of
    refs = [get_task_ref(node) for node in nodes_of(flow_class, BOARD_TYPES)]
    ends = [get_task_ref(node) for node in nodes_of(flow_class, ("END",))]
    open_ = "(finished IS NULL OR status = 'ERROR')"
    return [(f"SELECT flow_task, count(*) FROM viewflow_task WHERE flow_task = ANY(%s) AND {open_} GROUP BY 1",
             [refs])] + [(f"SELECT * FROM viewflow_task WHERE flow_task = %s AND {open_} ORDER BY created, id "
                          f"LIMIT {PAGE}", [ref]) for ref in refs] + [
        # the keys first (index-only): asked for whole rows, PostgreSQL chose a bitmap AND over two indexes (13 ms)
        ("SELECT * FROM viewflow_task WHERE id IN (SELECT id FROM viewflow_task WHERE flow_task = ANY(%s) "
         "AND flow_task_type = 'END' AND finished IS NOT NULL ORDER BY finished DESC, id DESC "
         f"LIMIT {BOARD_ROWS}) ORDER BY finished DESC, id DESC", [ends])]


def floor_flow_tasks(flow_class):
    """A flow's tasks, newest first: the count and a page."""
    from workflows.flow_pages import LISTED_TYPES, nodes_of
    refs = [get_task_ref(node) for node in nodes_of(flow_class, LISTED_TYPES)]
    return [("SELECT count(*) FROM viewflow_task WHERE flow_task = ANY(%s)", [refs]),
            (f"SELECT * FROM viewflow_task WHERE flow_task = ANY(%s) ORDER BY created DESC, id DESC LIMIT {PAGE}",
             [refs])]


def floor_flow_processes(flow_class):
    """A flow's processes, newest first: the count and a page."""
    label = get_flow_ref(flow_class)
    return [("SELECT count(*) FROM viewflow_process WHERE flow_class = %s", [label]),
            (f"SELECT * FROM viewflow_process WHERE flow_class = %s ORDER BY created DESC, id DESC LIMIT {PAGE}",
             [label])]


def floor_notifications(user):
    return [("SELECT count(*) FROM inbox_notification WHERE recipient_id = %s", [user.pk]),
            ("SELECT count(*) FROM inbox_notification WHERE recipient_id = %s AND read_at IS NULL", [user.pk]),
            ("SELECT * FROM inbox_notification WHERE recipient_id = %s ORDER BY read_at IS NOT NULL, created DESC, "
             "id DESC LIMIT 50", [user.pk])]


def floor_records(kind, value):
    """The registry's least cost: the number by its index; free text as one LIKE on the indexed
    expression (core.search), i.e. the same plan, without Django."""
    from core.paging import RegistryPaginator
    from core.search import doubled
    if kind == "number":
        where, params = "upper(number) = upper(%s)", [value]
        count = f"SELECT count(*) FROM core_record WHERE {where}"
    else:  # counted as the registry counts: up to its bound past the page (core.paging.RegistryPaginator)
        where, params = "search_haystack LIKE upper(%s)", [f"%{doubled(value)}%"]
        count = (f"SELECT count(*) FROM (SELECT 1 FROM core_record WHERE {where} "
                 f"LIMIT {RegistryPaginator.count_up_to + 1}) found")
    return [(count, params),
            (f"SELECT * FROM core_record WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 50", params)]


def stock(queryset):
    """viewflow's stock list: a page of the queryset and its count (as its list views do)."""
    def run():
        list(queryset[:PAGE])
        queryset.count()
    return run


def search_terms():
    """A record number, a customer, a Chinese word: picked from the data, the same every run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM core_record ORDER BY id DESC LIMIT 8")
        number = cursor.fetchall()[-1][0]  # the eighth newest, or the oldest of a smaller registry
        # ten more, spread over the registry in key order (the k-th eleventh of it): numbers of every age and shape
        # (past the template records at its start, whose numbers begin the numbers of all their copies in the
        # generated data, which no real registry has)
        cursor.execute("SELECT count(*) FROM core_record")
        total = cursor.fetchone()[0]
        numbers = []
        for k in range(1, 11):
            cursor.execute("SELECT number FROM core_record ORDER BY id LIMIT 1 OFFSET %s", [total * k // 11])
            numbers += [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT customer_name FROM core_record WHERE customer_name <> '' ORDER BY id DESC LIMIT 12")
        customer = cursor.fetchall()[-1][0]
    return {"number": number, "customer": customer, "chinese": "轴承", "numbers": numbers}


class Bench:
    def __init__(self, username, repeat, log=print, only=()):
        self.only = only
        self.user = User.objects.get(username=username)
        self.repeat = repeat
        self.log = log
        self.client = Client()
        self.client.force_login(self.user)
        self.results = []

    def request(self, url):
        with CaptureQueriesContext(connection) as queries, self.sql_timed():
            response = self.client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        return response, len(queries)

    @contextlib.contextmanager
    def sql_timed(self):
        """`self.sql_ms`: the SQL time of what runs inside, each statement from its execute to its rows in the
        client (psycopg reads them with the result)."""
        self.sql_ms = 0.0

        def time_sql(execute, sql, params, many, context):
            begin = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.sql_ms += (time.perf_counter() - begin) * 1000

        with connection.execute_wrapper(time_sql):
            yield

    def item(self, name, url, *, stock_run=None, floor=None, rows=None):
        """`url` and `floor` may be lists of the same length: the timed requests (and the floor's runs) then go round
        them, so that one figure stands for several values of a search rather than one picked value."""
        if self.only and not any(name.startswith(prefix) for prefix in self.only):
            return None
        urls = url if isinstance(url, list) else [url]
        url = urls[0]
        if isinstance(floor, list) and floor and isinstance(floor[0], list):
            floors = itertools.cycle(floor)
            floor_run = lambda: _sql(next(floors))()  # noqa: E731
        else:
            floor_run = _sql(floor) if floor is not None else None
        response, first_queries = self.request(url)
        row_count = rows(response) if rows else None
        for other in urls[1:]:  # each value warmed as the first one is
            self.request(other)
        sql = []
        rounds = itertools.cycle(urls)
        ours = timed(lambda: (self.request(next(rounds)), sql.append(self.sql_ms)), self.repeat)
        sql = sql[-self.repeat:]  # the timed requests' (not the warm-ups')
        # the queries of a request like the timed ones; the first request of a process also fills Django's
        # per-process caches (content types: one query per procedure) and may write the session (viewflow
        # remembers the last list opened), which later requests do not repeat
        _, queries = self.request(url)
        result = {"item": name, "url": url, "queries": queries, "queries_first": first_queries, "rows": row_count,
                  "bytes": len(response.content), **ours, "sql": summary(sql)}
        if stock_run is not None:
            stock_sql = []

            def run_stock():
                with self.sql_timed():
                    stock_run()
                stock_sql.append(self.sql_ms)
            result["stock"] = timed(run_stock, self.repeat)
            result["stock_sql"] = summary(stock_sql[-self.repeat:])
            # the request's SQL alone against viewflow's stock queries alone (the issue's "≥ 2× faster than
            # viewflow's stock queries"); the request's SQL also holds its session, user, menu counts and subjects
            result["sql_vs_stock_sql_p50"] = round(result["sql"]["p50"] / max(result["stock_sql"]["p50"], 0.001), 2)
        if floor_run is not None:
            result["floor"] = timed(floor_run, self.repeat)
        if len(urls) > 1:
            result["urls"] = urls
        for other in ("stock", "floor"):
            if other in result and result[other]["p50"]:
                result[f"vs_{other}_p50"] = round(ours["p50"] / result[other]["p50"], 2)
                result[f"vs_{other}_p95"] = round(ours["p95"] / max(result[other]["p95"], 0.001), 2)
        self.log(f"  {name:<24} p50 {ours['p50']:8.1f} ms  p95 {ours['p95']:8.1f} ms  {queries:3d} queries")
        self.results.append(result)
        return result

    def run(self):
        user, labels = self.user, flows()
        api_rows = lambda r: {"count": r.json().get("count"), "page": len(r.json().get("results", []))}  # noqa: E731
        self.item("api_tasks_inbox", "/api/tasks/", rows=api_rows, floor=floor_inbox(user),
                  stock_run=stock(Task.objects.inbox(labels, user)))
        self.item("api_tasks_queue", "/api/tasks/?queue=1", rows=api_rows, floor=floor_queue(user),
                  stock_run=stock(Task.objects.queue(labels, user)))
        self.item("qms_inbox_page", "/qms/inbox/", floor=floor_inbox(user),
                  stock_run=stock(Task.objects.inbox(labels, user)))
        self.item("qms_queue_page", "/qms/queue/", floor=floor_queue(user),
                  stock_run=stock(Task.objects.queue(labels, user)))
        self.item("api_dashboard", "/api/dashboard/", floor=floor_dashboard(user),
                  rows=lambda r: {k: len(v) for k, v in r.json().items() if isinstance(v, list)})
        self.item("qms_dashboard_page", "/qms/dashboard/", floor=floor_dashboard(user))
        self.item("qms_archive_page", "/qms/archive/", floor=floor_archive(user),
                  stock_run=stock(Task.objects.archive(labels, user).order_by("-finished", "-pk")))
        # a flow's own pages (workflows/flow_pages.py): the complaints board and task list (the flow with the most
        # steps), the process list of document control (the most processes)
        by_name = {flow_class.__name__: flow_class for flow_class in flows()}
        ComplaintFlow, DocumentControlFlow = by_name["ComplaintFlow"], by_name["DocumentControlFlow"]  # noqa: N806
        self.item("qms_flow_board", "/qms/flows/complaint/", floor=floor_flow_board(ComplaintFlow))
        self.item("qms_flow_tasks", "/qms/flows/complaint/tasks/", floor=floor_flow_tasks(ComplaintFlow))
        self.item("qms_flow_processes", "/qms/flows/documentcontrol/flows/",
                  floor=floor_flow_processes(DocumentControlFlow))
        self.item("api_notifications", "/api/notifications/", rows=api_rows, floor=floor_notifications(user))
        self.item("qms_notifications_page", "/qms/notifications/", floor=floor_notifications(user))
        terms = search_terms()
        from urllib.parse import quote
        record_rows = lambda r: {"count": r.json().get("count"), "count_is_exact": r.json().get("count_is_exact"),  # noqa: E731
                                 "page": len(r.json().get("results", []))}
        numbers = terms.pop("numbers")
        for kind, value in terms.items():
            self.item(f"api_records_q_{kind}", f"/api/records/?q={quote(value)}", rows=record_rows,
                      floor=floor_records(kind, value))
        # a number is a pattern whose cost depends on its characters (the trigram index): ten of them, in turn
        self.item("api_records_q_numbers", [f"/api/records/?q={quote(n)}" for n in numbers],
                  floor=[floor_records("number", n) for n in numbers])
        # the browser's registry, for the search that finds the most
        self.item("qms_records_q_chinese", f"/qms/records/?q={quote(terms['chinese'])}",
                  floor=floor_records("chinese", terms["chinese"]))
        return self.results


def run(username="quality_mgr", repeat=20, log=print, only=()):
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=hosts):
        return Bench(username, repeat, log, only).run()


def table(results, previous=None):
    """The printed table: ours, stock, floor, ratios, and the change from the previous run."""
    before = {r["item"]: r for r in (previous or {}).get("results", [])}
    nan = float("nan")
    lines = [f"{'item':<24} {'p50':>8} {'p95':>8} {'q':>4} {'sql50':>7} {'stock50':>8} {'floor50':>8} {'/stock':>7} "
             f"{'/floor':>7} {'stksql':>7} {'sql/ss':>7} {'prev50':>8} {'change':>7}"]
    for r in results:
        prev = before.get(r["item"])
        change = f"{r['p50'] / prev['p50']:.2f}x" if prev and prev.get("p50") else "-"
        lines.append(
            f"{r['item']:<24} {r['p50']:8.1f} {r['p95']:8.1f} {r['queries']:4d} "
            f"{r.get('sql', {}).get('p50', nan):7.1f} {r.get('stock', {}).get('p50', nan):8.1f} "
            f"{r.get('floor', {}).get('p50', nan):8.1f} {r.get('vs_stock_p50', nan):7.2f} "
            f"{r.get('vs_floor_p50', nan):7.2f} {r.get('stock_sql', {}).get('p50', nan):7.1f} "
            f"{r.get('sql_vs_stock_sql_p50', nan):7.2f} "
            f"{prev['p50'] if prev else nan:8.1f} {change:>7}")
    return "\n".join(lines)


def dump(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
