#!/usr/bin/env bash
# Production smoke test: the production settings (config.settings.production) deployed as the
# README says, on PostgreSQL, behind gunicorn, checked from outside with curl.
#
#   1. a fresh database (dropped and created: $PROD_SMOKE_DB, default qms_prod_smoke)
#   2. migrate, collectstatic (hashed, compressed manifest), check --deploy with no warning
#   3. a little data: the demo people and catalogue, one order review started by `market`
#   4. gunicorn on a free local port (DEBUG off; SECURE_SSL_REDIRECT=0: no TLS proxy here)
#   5. curl: the login page is HTML (200), a signed-in record page answers 200, the API gives a
#      token and lists records as JSON (200), a missing page answers 404, not 500
# gunicorn is stopped at the end whatever happens. Needs PostgreSQL running on $PGHOST:$PGPORT
# (.ci/run starts it; scripts/install-system-packages.sh installs it with WITH_SERVICES=1); sets
# the working copy up (scripts/setup.sh) if it has no .venv yet. Exit 0 when every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
DB="${PROD_SMOKE_DB:-qms_prod_smoke}"
export PGHOST PGPORT PGUSER

WORK="$(mktemp -d /tmp/qms-prod-smoke.XXXXXX)"
GUNICORN_PID=""
cleanup() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '==> %s\n' "$*"; }
fail() {
  printf 'prod-smoke: FAILED: %s\n' "$*" >&2
  if [ -s "$WORK/gunicorn.log" ]; then
    echo "--- gunicorn log (last 60 lines) ---" >&2
    tail -n 60 "$WORK/gunicorn.log" >&2
  fi
  exit 1
}
[ -x "$PY" ] || bash scripts/setup.sh --quiet  # a fresh working copy: packages, .venv, dependencies
for tool in curl psql pg_isready; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-system-packages.sh with WITH_SERVICES=1)"
done
pg_isready -q || fail "PostgreSQL does not answer on $PGHOST:$PGPORT"

# --- the production environment -------------------------------------------------------------------
export DJANGO_SETTINGS_MODULE=config.settings.production
export DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export QMS_VAR_DIR="$WORK/var" STATIC_ROOT="$WORK/static" MEDIA_ROOT="$WORK/media"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export DEBUG=0 LOG_LEVEL=WARNING
unset CELERY_TASK_ALWAYS_EAGER CELERY_BROKER_URL  # the default broker (a folder): no worker is needed here
MANAGE=("$PY" manage.py)

say "fresh database $DB"
psql -w -d postgres -v ON_ERROR_STOP=1 -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" </dev/null
psql -w -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $DB" </dev/null

say "migrate"
"${MANAGE[@]}" migrate --noinput -v 0
say "collectstatic (production storage)"
"${MANAGE[@]}" collectstatic --noinput -v 0
[ -s "$STATIC_ROOT/staticfiles.json" ] || fail "collectstatic wrote no manifest"
say "check --deploy (SECURE_SSL_REDIRECT as deployed; a warning fails)"
env -u SECURE_SSL_REDIRECT "${MANAGE[@]}" check --deploy --fail-level WARNING
export SECURE_SSL_REDIRECT=0  # from here on: plain HTTP to gunicorn, no TLS proxy in front

say "seed: people, catalogue, one order review"
RECORD="$("${MANAGE[@]}" shell -c '
import datetime
from django.utils import timezone
from procedures.order_review.flows import OrderReviewFlow as flow
from procedures.order_review.models import order_review_of
from workflows import actions
from workflows.demo import create_catalog, create_people

users = create_people()
create_catalog()
day = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
data = {"kind": "order", "customer": "C001", "order_number": "PO-SMOKE-001",
        "order_date": timezone.localdate().isoformat(), "payment_terms": "Net 30", "delivery_place": "Shanghai",
        "transport": "Carton", "special_requirements": "",
        "lines": [{"product": "P-1001", "quantity": "500", "unit_price": "12.50", "delivery_date": day}]}
process = actions.start_process(flow.start, actor=users["market"], form=flow.start.make_form(data=data, api=True))
print("RECORD=" + order_review_of(process).record.number)
' | sed -n 's/^RECORD=//p' | tail -n 1)"
[ -n "$RECORD" ] || fail "the seed made no record"
say "record $RECORD"

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
say "gunicorn on $BASE"
"$ROOT/.venv/bin/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 \
  --access-logfile - >"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 1 60); do
  curl -s -o /dev/null "$BASE/accounts/login/" && break
  kill -0 "$GUNICORN_PID" 2>/dev/null || fail "gunicorn exited"
  sleep 0.5
done

# --- HTTP checks ------------------------------------------------------------------------------------
# Cookies are carried by hand: the production cookies are Secure, which a client may keep
# to itself over plain HTTP.
COOKIES=""
request() {  # request METHOD PATH [curl args...]; sets STATUS, TYPE, BODY_FILE; keeps Set-Cookie values
  local method="$1" path="$2"; shift 2
  BODY_FILE="$WORK/body"
  local headers="$WORK/headers"
  STATUS="$(curl -s -X "$method" -o "$BODY_FILE" -D "$headers" -w '%{http_code}' \
    ${COOKIES:+-H "Cookie: $COOKIES"} "$@" "$BASE$path")"
  TYPE="$(grep -i '^content-type:' "$headers" | tail -n 1 | cut -d' ' -f2- | tr -d '\r')"
  local cookie name
  while IFS= read -r cookie; do
    name="${cookie%%=*}"
    COOKIES="$(printf '%s' "$COOKIES" | tr ';' '\n' | sed 's/^ //' | grep -v "^$name=" | paste -sd';' - || true)"
    COOKIES="${COOKIES:+$COOKIES; }$cookie"
  done < <(grep -i '^set-cookie:' "$headers" | sed -E 's/^[Ss]et-[Cc]ookie: ([^;]*).*/\1/' | tr -d '\r')
}
expect() {  # expect STATUS CONTENT-TYPE-PREFIX WHAT
  [ "$STATUS" = "$1" ] || fail "$3: HTTP $STATUS, expected $1 (body: $(head -c 300 "$BODY_FILE"))"
  case "$TYPE" in "$2"*) ;; *) fail "$3: Content-Type '$TYPE', expected $2" ;; esac
  say "ok: $3 ($STATUS $TYPE)"
}
PASSED=0

request GET /accounts/login/
expect 200 text/html "the login page"
grep -q '<form' "$BODY_FILE" || fail "the login page has no form"
CSRF="$(sed -nE 's/.*name="csrfmiddlewaretoken" value="([^"]+)".*/\1/p' "$BODY_FILE" | head -n 1)"
[ -n "$CSRF" ] || fail "the login page has no CSRF token"
PASSED=$((PASSED + 1))

request POST /accounts/login/ --data-urlencode "csrfmiddlewaretoken=$CSRF" --data-urlencode "username=market" \
  --data-urlencode "password=Demo-pass-2026" -H "Referer: $BASE/accounts/login/"
[ "$STATUS" = 302 ] || fail "signing in: HTTP $STATUS, expected a redirect (body: $(head -c 300 "$BODY_FILE"))"
case "$COOKIES" in *sessionid=*) ;; *) fail "signing in set no session cookie" ;; esac
PASSED=$((PASSED + 1))

request GET "/qms/records/$RECORD/"
expect 200 text/html "the record page $RECORD, signed in"
grep -q "$RECORD" "$BODY_FILE" || fail "the record page does not show $RECORD"
PASSED=$((PASSED + 1))

request GET /qms/records/NO-SUCH-RECORD/
expect 404 text/html "a missing record, signed in"
request GET /no-such-page/
expect 404 text/html "a missing page, signed in"
PASSED=$((PASSED + 1))

SESSION_COOKIES="$COOKIES"
COOKIES=""
request POST /api/auth/token/ -H "Content-Type: application/json" \
  --data '{"username": "market", "password": "Demo-pass-2026"}'
expect 200 application/json "an API token"
TOKEN="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$BODY_FILE")"
request GET /api/records/ -H "Authorization: Token $TOKEN"
expect 200 application/json "the records through the API"
"$PY" -c 'import json, sys; data = json.load(open(sys.argv[1])); assert any(r["number"] == sys.argv[2] for r in data["results"]), data' \
  "$BODY_FILE" "$RECORD" || fail "the API does not list $RECORD"
request GET /api/no-such-endpoint/ -H "Authorization: Token $TOKEN"
expect 404 "" "a missing API endpoint"
PASSED=$((PASSED + 1))

COOKIES="$SESSION_COOKIES"
request GET /static/no-such-file.css
[ "$STATUS" = 404 ] || fail "a missing static file: HTTP $STATUS, expected 404"
PASSED=$((PASSED + 1))

say "prod-smoke: all $PASSED checks passed"
