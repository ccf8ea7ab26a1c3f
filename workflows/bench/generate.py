"""The benchmark's data: the demo company's processes (seeded by `seed_demo`, through the
procedures' own actions: real tasks, deadlines, records, versions, notifications) are the
*templates*; `grow(target_tasks)` copies them in SQL (INSERT … SELECT over generate_series)
until viewflow's task table holds `target_tasks` rows.

Copy k of a template row gets the id `id + k × stride` (stride = the largest template id of that
table), so every foreign key between copied tables is `fk + k × stride` and stays valid:
process ← task ← task deadline, task.previous, notification; process ← record ← record version.
Rows the copies point at without being copied (users, content types, a process's artifact — the
order review, complaint case … its subject is read from) are shared with the template.

Deterministic (no random()): copy k is "open" (its tasks keep the template's statuses, created in
the last 90 days) when k % M == 0, M chosen so that ~4.5 % of all tasks are open; every other copy
is history: all its tasks DONE with an owner, its process DONE, created within the last 3 years, and closed by
its flow's end task where the template had not reached one.
Owners are spread over `BENCH_USERS` generated people (memberships in every department, staff and
manager); the demo's own people keep one task in ten of what they owned in the template. Records
get a unique number (template number + "-k") and one of `BENCH_CUSTOMERS` generated customer
names, so the registry search has many customers and numbers to look through.

Growing is incremental (10 k → 100 k → 1 M adds copies; the same k always makes the same rows)."""
import math
import random

from django.db import connection, transaction

from accounts.models import Department, Membership, Role, User

OPEN_SHARE = 0.045
BENCH_USERS = 400
BENCH_CUSTOMERS = 3000
SEED = 15
HISTORY_SECONDS = 3 * 365 * 86400
OPEN_SECONDS = 90 * 86400
CLOSED_AFTER = 10 * 86400  # a history copy begins this long ago at least: closed 9 days on, never after now
END_TASK_IDS = 10**12  # the end tasks the generator adds to closed copies are numbered from here
ARCHIVE_IDS = 10**11  # the registry's older records (grow_records) are numbered from here

SYLLABLES = "华 东 北 南 西 中 新 恒 达 信 德 鑫 泰 盛 宏 远 精 密 机 械 电 子 汽 车 零 部 件 科 技 工 业 制 造 材 料".split()
KINDS = ["科技有限公司", "机械有限公司", "电子集团", "汽车零部件有限公司", "精密制造有限公司", "实业有限公司"]
LATIN = ["Precision", "Industrial", "Motors", "Electronics", "Components", "Machinery", "Systems", "Tech"]


def customer_names(count=BENCH_CUSTOMERS, seed=SEED):
    """`count` distinct customer names, Chinese and Latin, the same for the same seed."""
    rng = random.Random(seed)
    names, seen = [], set()
    while len(names) < count:
        if rng.random() < 0.8:
            name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) + rng.choice(KINDS)
        else:
            name = f"{rng.choice(LATIN)} {rng.choice(LATIN)} {rng.randint(1, 999)} GmbH"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _scalar(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


def _execute(sql, params=()):
    if params:  # the generator's SQL writes modulo as " % "; with parameters it is "%%"
        sql = sql.replace(" % ", " %% ")
    with connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        return cursor.rowcount


def _columns(table):
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


META_TABLE = "bench_meta"


def meta():
    """The generator's state ({} before the first run)."""
    if META_TABLE not in connection.introspection.table_names():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, value FROM {META_TABLE}")
        return {key: int(value) for key, value in cursor.fetchall()}


def _save_meta(values):
    for key, value in values.items():
        _execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
                 f"SET value = EXCLUDED.value", [key, str(value)])


def prepare():
    """Once: freeze the templates (the rows present now), make the people and customers."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark generator needs PostgreSQL (DATABASE_URL=postgres://…).")
    state = meta()
    if state:
        return state
    with transaction.atomic():
        _execute(f"CREATE TABLE {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
        _execute("CREATE TABLE bench_user (i int PRIMARY KEY, user_id int NOT NULL)")
        _execute("CREATE TABLE bench_customer (i int PRIMARY KEY, name text NOT NULL)")
        departments = [d for d in Department.values]
        users = []
        for i in range(BENCH_USERS):
            users.append(User(username=f"bench{i:04d}", display_name=f"测试员{i:04d} Bench {i:04d}",
                              password="!", is_active=True))
        User.objects.bulk_create(users)
        users = list(User.objects.filter(username__startswith="bench").order_by("username"))
        Membership.objects.bulk_create([
            Membership(user=user, department=departments[i % len(departments)],
                       role=Role.MANAGER if i % 10 == 0 else Role.STAFF) for i, user in enumerate(users)])
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_user (i, user_id) VALUES (%s, %s)",
                               [(i, user.pk) for i, user in enumerate(users)])
            cursor.executemany("INSERT INTO bench_customer (i, name) VALUES (%s, %s)",
                               list(enumerate(customer_names())))
        open_tasks = _scalar("SELECT count(*) FROM viewflow_task WHERE status IN ('NEW', 'ASSIGNED', 'STARTED')")
        tasks = _scalar("SELECT count(*) FROM viewflow_task")
        if not tasks:
            raise RuntimeError("No template processes: run `manage.py seed_demo` first.")
        share = open_tasks / tasks
        state = {
            "template_tasks": tasks, "template_open": open_tasks,
            "open_every": max(1, round(share / OPEN_SHARE)),
            "copies": 0,
            "stride_process": _scalar("SELECT max(id) FROM viewflow_process"),
            "stride_task": _scalar("SELECT max(id) FROM viewflow_task"),
            "stride_previous": _scalar("SELECT coalesce(max(id), 1) FROM viewflow_task_previous"),
            "stride_record": _scalar("SELECT coalesce(max(id), 1) FROM core_record"),
            "stride_version": _scalar("SELECT coalesce(max(id), 1) FROM core_recordversion"),
            "stride_notification": _scalar("SELECT coalesce(max(id), 1) FROM inbox_notification"),
            "users": BENCH_USERS, "customers": BENCH_CUSTOMERS,
        }
        _save_meta(state)
    return state


def _insert(table, overrides, source_where, state, first, last, extra_join=""):
    """INSERT INTO table SELECT … FROM the template rows × copies first..last."""
    columns = [c for c in _columns(table) if c != "search_haystack"]  # generated by PostgreSQL
    select = ", ".join(overrides.get(column, f"s.{column}") for column in columns)
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table} s "
           f"CROSS JOIN bench_copy c {extra_join} WHERE c.k BETWEEN %s AND %s AND {source_where}")
    return _execute(sql, [first, last])


def grow(target_tasks, log=print):
    """Add copies until viewflow_task holds about `target_tasks` rows; returns the state."""
    state = prepare()
    copies = max(0, math.ceil((target_tasks - state["template_tasks"]) / state["template_tasks"]))
    first, last = state["copies"] + 1, copies
    if last < first:
        log(f"already {state['copies']} copies ({state['template_tasks'] * (state['copies'] + 1)} tasks)")
        _vacuum()
        return state
    m, u, cu = state["open_every"], state["users"], state["customers"]
    sp, st, sr = state["stride_process"], state["stride_task"], state["stride_record"]
    with transaction.atomic():
        # one row per copy: whether it is open, how far back in time it goes
        _copies(first, last, f"""(k % {m} = 0) AS open,
                     make_interval(secs => CASE WHEN k % {m} = 0 THEN (k::bigint * 7919) % {OPEN_SECONDS}
                                               ELSE {CLOSED_AFTER}
                                                    + (k::bigint * 104729) % ({HISTORY_SECONDS - CLOSED_AFTER}) END)
                                  AS shift""")

        def person(column):  # the owner of a copied row: the template's one time in ten, else a bench person
            return (f"CASE WHEN {column} IS NULL THEN NULL WHEN (c.k + {column}) % 10 = 0 THEN {column} "
                    f"ELSE (SELECT user_id FROM bench_user WHERE i = (c.k * 31 + {column}) % {u}) END")

        def moved(column):
            return f"{column} - c.shift"

        n = _insert("viewflow_process", {
            "id": f"s.id + c.k * {sp}",
            "created": moved("s.created"),
            "finished": f"CASE WHEN c.open THEN {moved('s.finished')} "
                        f"ELSE {moved('s.created')} + interval '9 days' END",
            "status": "CASE WHEN c.open THEN s.status ELSE 'DONE' END",
            "parent_task_id": f"s.parent_task_id + c.k * {st}",
        }, f"s.id <= {sp}", state, first, last)
        log(f"processes +{n}")
        done_owner = f"(SELECT user_id FROM bench_user WHERE i = (c.k * 17 + s.id) % {u})"
        n = _insert("viewflow_task", {
            "id": f"s.id + c.k * {st}",
            "process_id": f"s.process_id + c.k * {sp}",
            "created": moved("s.created"),
            "assigned": f"CASE WHEN c.open THEN {moved('s.assigned')} ELSE {moved('s.created')} + interval '2 hours' END",
            "started": f"CASE WHEN c.open THEN {moved('s.started')} ELSE {moved('s.created')} + interval '3 hours' END",
            "finished": f"CASE WHEN c.open THEN {moved('s.finished')} ELSE {moved('s.created')} + interval '1 day' END",
            "scheduled": moved("s.scheduled"),
            "qms_due_at": moved("s.qms_due_at"),  # the deadline's due_at on the task row (inbox migration 0006)
            "status": "CASE WHEN c.open THEN s.status ELSE 'DONE' END",
            "owner_id": f"CASE WHEN c.open OR s.flow_task_type NOT IN ('HUMAN', 'HUMAN_START') THEN {person('s.owner_id')} "
                        f"ELSE coalesce({person('s.owner_id')}, {done_owner}) END",
            "external_task_id": "NULL",
        }, f"s.id <= {st}", state, first, last)
        log(f"tasks +{n}")
        # A history copy is a closed process; where its template has not reached an end (most of the demo's have
        # not), the copy gets its flow's end task, as a real closed process has, so that what lists closed
        # processes (a flow board's "Recently closed") reads them at their real number. Their ids lie above
        # every copy's (END_TASK_IDS + the copied process's id), so growing further never meets them.
        n = _execute(f"""INSERT INTO viewflow_task (id, flow_task, flow_task_type, status, created, started, finished,
                                                   token, process_id, data)
            SELECT {END_TASK_IDS} + s.id + c.k * {sp}, s.flow_class || '.end', 'END', 'DONE', e.at, e.at, e.at,
                   'start', s.id + c.k * {sp}, '{{}}'::jsonb
            FROM viewflow_process s CROSS JOIN bench_copy c
                 CROSS JOIN LATERAL (SELECT {moved('s.created')} + interval '9 days' AS at) e
            WHERE c.k BETWEEN %s AND %s AND NOT c.open AND s.id <= {sp}
              AND NOT EXISTS (SELECT 1 FROM viewflow_task t WHERE t.process_id = s.id AND t.flow_task_type = 'END')""",
                     [first, last])
        log(f"end tasks of closed copies +{n}")
        n = _insert("viewflow_task_previous", {
            "id": f"s.id + c.k * {state['stride_previous']}",
            "from_task_id": f"s.from_task_id + c.k * {st}", "to_task_id": f"s.to_task_id + c.k * {st}",
        }, f"s.id <= {state['stride_previous']}", state, first, last)
        log(f"task links +{n}")
        # the copies' tasks carry their due date already: the trigger that keeps it would only re-read them
        due_trigger = _scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'qms_task_due'")
        if due_trigger:
            _execute("ALTER TABLE inbox_taskdeadline DISABLE TRIGGER qms_task_due")
        n = _insert("inbox_taskdeadline", {
            "task_id": f"s.task_id + c.k * {st}",
            **{col: moved(f"s.{col}") for col in ("due_at", "remind_at", "l1_at", "l2_at", "l3_at",
                                                   "reminder_sent_at", "l1_sent_at", "l2_sent_at", "l3_sent_at")},
            "due_date": "(s.due_date - c.shift)::date",
            "next_check_at": f"CASE WHEN c.open THEN {moved('s.next_check_at')} END",
        }, f"s.task_id <= {st}", state, first, last)
        if due_trigger:  # PostgreSQL alters no table with checks still pending on it: run the deferred ones now
            _execute("SET CONSTRAINTS ALL IMMEDIATE")
            _execute("ALTER TABLE inbox_taskdeadline ENABLE TRIGGER qms_task_due")
            _execute("SET CONSTRAINTS ALL DEFERRED")
        log(f"deadlines +{n}")
        n = _insert("inbox_notification", {
            "id": f"s.id + c.k * {state['stride_notification']}",
            "recipient_id": f"coalesce({person('s.recipient_id')}, s.recipient_id)",
            "task_id": f"s.task_id + c.k * {st}", "process_id": f"s.process_id + c.k * {sp}",
            "created": moved("s.created"),
            "read_at": f"CASE WHEN c.open THEN s.read_at ELSE {moved('s.created')} + interval '1 hour' END",
        }, f"s.id <= {state['stride_notification']}", state, first, last)
        log(f"notifications +{n}")
        customer = f"(SELECT name FROM bench_customer WHERE i = (c.k * 13 + s.id) % {cu})"
        n = _insert("core_record", {
            "id": f"s.id + c.k * {sr}",
            "number": "left(s.number, 22) || '-' || c.k",
            "customer_name": f"CASE WHEN s.customer_name = '' THEN '' ELSE {customer} END",
            "search_text": f"s.search_text || ' ' || {customer}",
            "process_id": f"s.process_id + c.k * {sp}",
            "created_by_id": f"coalesce({person('s.created_by_id')}, s.created_by_id)",
            "created_at": moved("s.created_at"),
        }, f"s.id <= {sr}", state, first, last)
        log(f"records +{n}")
        n = _insert("core_recordversion", {
            "id": f"s.id + c.k * {state['stride_version']}",
            "record_id": f"s.record_id + c.k * {sr}",
            "created_by_id": f"coalesce({person('s.created_by_id')}, s.created_by_id)",
            "created_at": moved("s.created_at"),
        }, f"s.id <= {state['stride_version']}", state, first, last)
        log(f"record versions +{n}")
        for table in ("viewflow_process", "viewflow_task", "viewflow_task_previous", "core_record",
                      "core_recordversion", "inbox_notification"):
            _execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        state["copies"] = last
        _save_meta({"copies": last})
    _vacuum()
    return state


def grow_records(target_records, log=print):
    """Add older records until the registry holds about `target_records` (issue 15.3 asks for its search at 1 M
    records, more than the task copies bring: a plant keeps its records for decades, its workflows' tasks for less).

    Copy j of a template record (j = 1, 2 …) is a closed record of the years before the task copies: id
    ARCHIVE_IDS + s.id + j × stride (above every task copy's, so growing the tasks later never meets them),
    number "<template number>-A<j>", one of the generated customers, created 3 to 15 years ago, its versions
    copied with it; no process (its workflow's tasks are gone with the years: a template's process shared by
    thousands of records would make every list that reads a process's record read thousands).
    Incremental like `grow` (state "record_copies" in bench_meta)."""
    state = prepare()
    records = _scalar("SELECT count(*) FROM core_record")
    template_records = _scalar("SELECT count(*) FROM core_record WHERE id <= %s", [state["stride_record"]])
    done = int(state.get("record_copies", 0))
    more = max(0, math.ceil((target_records - records) / template_records)) if template_records else 0
    first, last = done + 1, done + more
    if last < first:
        log(f"already {records} records")
        return state
    sr, sv, cu = state["stride_record"], state["stride_version"], state["customers"]
    with transaction.atomic():
        _copies(first, last, f"make_interval(secs => {HISTORY_SECONDS} + (k::bigint * 104729) % {4 * HISTORY_SECONDS}) "
                             f"AS shift")
        customer = f"(SELECT name FROM bench_customer WHERE i = (c.k * 7 + s.id) % {cu})"
        n = _insert("core_record", {
            "id": f"{ARCHIVE_IDS} + s.id + c.k * {sr}",
            "number": "left(s.number, 22) || '-A' || c.k",
            "customer_name": f"CASE WHEN s.customer_name = '' THEN '' ELSE {customer} END",
            "search_text": f"s.search_text || ' ' || {customer}",
            "created_at": "s.created_at - c.shift",
            "process_id": "NULL",
        }, f"s.id <= {sr}", state, first, last)
        log(f"older records +{n}")
        n = _insert("core_recordversion", {
            "id": f"{ARCHIVE_IDS} + s.id + c.k * {sv}",
            "record_id": f"{ARCHIVE_IDS} + s.record_id + c.k * {sr}",
            "created_at": "s.created_at - c.shift",
        }, f"s.record_id <= {sr} AND s.id <= {sv}", state, first, last)
        log(f"their versions +{n}")
        state["record_copies"] = last
        _save_meta({"record_copies": last})
    _vacuum(("core_record", "core_recordversion"))
    return state


def _copies(first, last, columns):
    """The temporary table bench_copy: one row per copy k = first..last, with `columns` (SQL over k)."""
    _execute("DROP TABLE IF EXISTS bench_copy")
    _execute(f"CREATE TEMP TABLE bench_copy AS SELECT k, {columns} FROM generate_series(%s::bigint, %s::bigint) k",
             [first, last])
    _execute("ANALYZE bench_copy")


def _vacuum(tables=("viewflow_process", "viewflow_task", "inbox_taskdeadline", "core_record", "core_recordversion",
                    "inbox_notification", "viewflow_task_previous")):
    """As autovacuum leaves a table in steady use: statistics fresh and the visibility map set, so an
    index-only scan reads no heap (fresh copies are all "not yet visible to all": every scan would)."""
    for table in tables:
        _execute(f"VACUUM (ANALYZE) {table}")


def sizes():
    """What the database holds now (for the results file)."""
    return {
        "tasks": _scalar("SELECT count(*) FROM viewflow_task"),
        "open_tasks": _scalar("SELECT count(*) FROM viewflow_task WHERE status IN ('NEW', 'ASSIGNED', 'STARTED')"),
        "processes": _scalar("SELECT count(*) FROM viewflow_process"),
        "records": _scalar("SELECT count(*) FROM core_record"),
        "notifications": _scalar("SELECT count(*) FROM inbox_notification"),
        "users": _scalar("SELECT count(*) FROM accounts_user"),
    }
