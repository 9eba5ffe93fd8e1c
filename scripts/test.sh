#!/usr/bin/env bash
# The whole test suite on a fresh machine: venv, PostgreSQL, Redis, chromium, ruff, mypy, pytest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_venv test
ensure_postgres
ensure_redis
ensure_chromium

export APP_ENV=test
export DATABASE_URL="$PG_BASE_URL/mlconnector"
export DJANGO_ALLOW_ASYNC_UNSAFE=true  # Playwright's sync API runs an event loop beside the live server

log "ruff"
"$ROOT/.venv/bin/ruff" check .
"$ROOT/.venv/bin/ruff" format --check .
log "mypy"
# Settings, packages and strictness are in pyproject.toml; the cache under .mypy_cache/ makes reruns quick.
"$ROOT/.venv/bin/mypy"
# The migrations check reads the migration history, so the (otherwise test-only) database must exist.
"$PY" - "$PG_BASE_URL" <<'PY'
import sys, psycopg
with psycopg.connect(f"{sys.argv[1]}/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'mlconnector'").fetchone():
        conn.execute("CREATE DATABASE mlconnector")
PY
log "migrations are complete"
"$PY" manage.py makemigrations --check --dry-run >/dev/null || die "Model changes without a migration: run manage.py makemigrations."

workers="${TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}"
log "pytest ($workers workers)"
exec "$ROOT/.venv/bin/pytest" -n "$workers" --dist loadgroup "$@"
