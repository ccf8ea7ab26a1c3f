#!/usr/bin/env bash
# The one demo command:  bash scripts/demo.sh
#   - sets the machine and the working copy up (scripts/setup.sh)
#   - seeds the demo data once (manage.py seed_demo, only while the database has no users)
#   - starts a real Celery worker and Celery beat in the background on the default
#     broker (kombu's filesystem transport under var/, no server needed); logs in var/log/
#   - runs the development server on http://127.0.0.1:8000/ in the foreground
# Ctrl+C stops the server, the worker and beat.
# Environment: PORT (default 8000); DATABASE_URL / CELERY_BROKER_URL as in config/settings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh

PY="$ROOT/.venv/bin/python"
export PATH="$ROOT/.venv/bin:$PATH"
PORT="${PORT:-8000}"
LOG_DIR="$ROOT/var/log"
mkdir -p "$LOG_DIR"

users="$("$PY" manage.py shell -v 0 -c 'from django.contrib.auth import get_user_model; print(get_user_model().objects.count())' | tail -n 1)"
if [ "$users" = "0" ]; then
  echo "==> seed_demo (empty database)"
  "$PY" manage.py seed_demo
else
  echo "==> seed_demo skipped: the database already has $users user(s)"
fi

WORKER_PID=""
BEAT_PID=""
stop_background() {
  trap - EXIT INT TERM
  local pid
  for pid in $BEAT_PID $WORKER_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $BEAT_PID $WORKER_PID; do
    # warm shutdown: give a running task up to 20 s to finish
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  echo "==> Celery worker and beat stopped"
}
trap stop_background EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> Celery worker (log: var/log/celery-worker.log)"
"$PY" -m celery -A config worker --loglevel=info --concurrency=1 \
  >>"$LOG_DIR/celery-worker.log" 2>&1 &
WORKER_PID=$!

echo "==> Celery beat (log: var/log/celery-beat.log)"
"$PY" -m celery -A config beat --loglevel=info \
  --scheduler django_celery_beat.schedulers:DatabaseScheduler --pidfile= \
  >>"$LOG_DIR/celery-beat.log" 2>&1 &
BEAT_PID=$!

sleep 2
for name_pid in "worker:$WORKER_PID" "beat:$BEAT_PID"; do
  if ! kill -0 "${name_pid#*:}" 2>/dev/null; then
    echo "Celery ${name_pid%%:*} exited at start; see var/log/celery-${name_pid%%:*}.log" >&2
    tail -n 30 "$LOG_DIR/celery-${name_pid%%:*}.log" >&2 || true
    exit 1
  fi
done

cat <<EOF

  QMS demo:  http://127.0.0.1:${PORT}/
  Logins:    the demo users and their passwords are listed in README.md (section "Demo").
  Logs:      var/log/celery-worker.log, var/log/celery-beat.log
  Stop:      Ctrl+C

EOF

DEBUG=1 "$PY" manage.py runserver "127.0.0.1:${PORT}"
