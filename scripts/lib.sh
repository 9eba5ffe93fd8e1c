# Shared set-up for scripts/test.sh and scripts/run.sh: a virtualenv, PostgreSQL, Redis and chromium,
# each reused when already present and otherwise installed/started privately under var/.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
PY="$ROOT/.venv/bin/python"
mkdir -p "$VAR"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

apt_install() {
  [ "$(id -u)" = 0 ] || die "Need to install $* but not running as root; install it with apt-get and retry."
  if [ ! -f "$VAR/.apt-updated" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && touch "$VAR/.apt-updated"
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ensure_venv [extras]: create .venv and install the project when pyproject.toml changed.
ensure_venv() {
  local extras="${1:-}" spec="." stamp
  [ -n "$extras" ] && spec=".[$extras]"
  local python="${PYTHON:-python3}"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is required (found $("$python" --version))."
  if [ ! -x "$PY" ]; then
    log "Creating virtualenv .venv"
    "$python" -m venv "$ROOT/.venv" || { apt_install python3-venv; "$python" -m venv "$ROOT/.venv"; }
  fi
  stamp="$(cat "$ROOT/pyproject.toml" | sha1sum | cut -c1-12)-$extras"
  if [ "$(cat "$ROOT/.venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    log "Installing ml-connector$([ -n "$extras" ] && echo " with $extras extras") into .venv"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT$([ -n "$extras" ] && echo "[$extras]")"
    echo "$stamp" > "$ROOT/.venv/.installed"
  fi
}

_pg_ok() { "$PY" -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=2).close()" "$1" 2>/dev/null; }
_redis_ok() { "$PY" -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_timeout=2).ping()" "$1" 2>/dev/null; }

# ensure_postgres: exports PG_BASE_URL (postgres://user@host:port) of a reachable server.
ensure_postgres() {
  local url="${PG_BASE_URL:-postgres://postgres@127.0.0.1:5432}"
  if _pg_ok "$url/postgres"; then export PG_BASE_URL="$url"; return; fi
  local port=55432 dir="$VAR/pg" bin
  url="postgres://postgres@127.0.0.1:$port"
  if _pg_ok "$url/postgres"; then export PG_BASE_URL="$url"; return; fi
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ]; then apt_install postgresql; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; fi
  log "Starting a private PostgreSQL on 127.0.0.1:$port ($dir)"
  local as_pg=()
  if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); mkdir -p "$dir"; chown postgres "$dir"; chmod 700 "$dir"; fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    "${as_pg[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  fi
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  _pg_ok "$url/postgres" || die "PostgreSQL did not start; see $dir/server.log"
  export PG_BASE_URL="$url"
}

# ensure_redis: exports REDIS_URL of a reachable server.
ensure_redis() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
  if _redis_ok "$url"; then export REDIS_URL="$url"; return; fi
  local port=56379
  url="redis://127.0.0.1:$port/0"
  if _redis_ok "$url"; then export REDIS_URL="$url"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  log "Starting a private Redis on 127.0.0.1:$port"
  mkdir -p "$VAR/redis"
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir "$VAR/redis" --logfile "$VAR/redis/redis.log" >/dev/null
  for _ in $(seq 50); do _redis_ok "$url" && break; sleep 0.1; done
  _redis_ok "$url" || die "Redis did not start; see $VAR/redis/redis.log"
  export REDIS_URL="$url"
}

ensure_chromium() {
  if [ -z "${CHROMIUM_PATH:-}" ]; then
    CHROMIUM_PATH="$(command -v chromium || command -v chromium-browser || true)"
  fi
  if [ -z "$CHROMIUM_PATH" ]; then apt_install chromium; CHROMIUM_PATH="$(command -v chromium)"; fi
  export CHROMIUM_PATH
}
