#!/usr/bin/env bash
# The demo on the sandbox: fake Procurify + QuickBooks, then web + Celery worker + beat. Ctrl-C stops everything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_venv
PORT="${PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8765}"
SANDBOX="http://127.0.0.1:$SANDBOX_PORT"
LOGS="$VAR/log"; mkdir -p "$LOGS" "$VAR/mail"

# Redis if we can have it without installing anything; otherwise Celery's embedded filesystem broker.
if [ -z "${REDIS_URL:-}" ]; then
  if _redis_ok "redis://127.0.0.1:6379/0"; then export REDIS_URL="redis://127.0.0.1:6379/0"
  elif command -v redis-server >/dev/null; then ensure_redis
  else log "No Redis here: using the embedded filesystem broker"; fi
fi

export APP_ENV="${APP_ENV:-development}" LOG_LEVEL="${LOG_LEVEL:-WARNING}"
export SITE_URL="http://127.0.0.1:$PORT"
export QBO_CLIENT_ID="${QBO_CLIENT_ID:-sandbox-qbo-client}" QBO_CLIENT_SECRET="${QBO_CLIENT_SECRET:-sandbox-qbo-secret}"
export QBO_APP_URL="" QBO_AUTHORIZE_URL="$SANDBOX/qbo/connect/oauth2" QBO_TOKEN_URL="$SANDBOX/qbo/oauth2/v1/tokens/bearer"
export QBO_REVOKE_URL="$SANDBOX/qbo/oauth2/v1/tokens/revoke" QBO_API_BASE="$SANDBOX/qbo"
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}" EMAIL_FILE_PATH="$VAR/mail"

pids=()
cleanup() { trap - EXIT INT TERM; log "Stopping"; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

log "Sandbox (fake Procurify + QuickBooks) on $SANDBOX"
"$PY" -m sandbox --port "$SANDBOX_PORT" --seed distributor >"$LOGS/sandbox.log" 2>&1 & pids+=($!)
for _ in $(seq 50); do "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" "$SANDBOX/_sandbox/clock" 2>/dev/null && break; sleep 0.2; done

log "Database"
"$PY" manage.py migrate --noinput -v0
log "Demo organisation, connections and the first sync"
"$PY" manage.py demo_setup --sandbox-url "$SANDBOX"

log "Celery worker and beat (logs in var/log/)"
"$ROOT/.venv/bin/celery" -A config worker -Q interactive,celery --loglevel INFO --concurrency 2 >"$LOGS/worker.log" 2>&1 & pids+=($!)
"$ROOT/.venv/bin/celery" -A config beat --loglevel INFO >"$LOGS/beat.log" 2>&1 & pids+=($!)

cat <<MSG

  ml-connector is running:  $SITE_URL
  Log in as demo@example.com  /  password: demo-password-123
  Sandbox inspector:         $SANDBOX/_sandbox/
  E-mails land in var/mail/; logs in var/log/.  Ctrl-C stops everything.

MSG
"$ROOT/.venv/bin/gunicorn" config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --access-logfile "$LOGS/web-access.log" --error-logfile "$LOGS/web.log" & pids+=($!)
wait -n "${pids[@]}"
