#!/usr/bin/env bash
# Make sure nats-server (with JetStream), rabbitmq-server, PostgreSQL and Redis answer on 127.0.0.1.
# Starts whichever is down; installs the Debian packages first when missing (needs root). Also
# installs Debian's chromium when missing, which the WebSocket browser test drives headless.
#
# The provider tests (test/integration/providers) need, beyond a running server:
#   PostgreSQL: user postgres without a password on 127.0.0.1 (pg_hba.conf: `host all all
#     127.0.0.1/32 trust`, a machine setting this script does not change) and a database `test`,
#     which this script creates when it is missing;
#   Redis: no password. Each test uses a schema or key prefix of its own and removes it.
set -euo pipefail

NATS_PORT=${NATS_PORT:-4222}
AMQP_PORT=${AMQP_PORT:-5672}
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

answers() { timeout 1 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() { # port name seconds
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    answers "$1" && { echo "ensure-servers: $2 answers on 127.0.0.1:$1"; return 0; }
    sleep 0.25
  done
  echo "ensure-servers: $2 did not answer on 127.0.0.1:$1 within $3 s" >&2
  return 1
}

APT_UPDATED=0
install_pkg() { # package
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-servers: $1 is not installed and this is not root; install it with: sudo apt-get install -y $1" >&2
    exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

nats_bin() { command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true; }

# The first line a NATS server sends (INFO) says whether JetStream is on.
nats_has_jetstream() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT; head -n1 <&3" 2>/dev/null | grep -q '"jetstream":true'
}

if ! answers "$NATS_PORT"; then
  if [ -z "$(nats_bin)" ]; then
    install_pkg nats-server
    # Debian's package starts its service where systemd runs, from /etc/nats-server.conf, which
    # has no JetStream: stop it so the server below (with JetStream) gets the port.
    if command -v systemctl >/dev/null && systemctl is-active --quiet nats-server 2>/dev/null; then
      systemctl stop nats-server || true
    fi
  fi
  mkdir -p /var/lib/nats-server /var/log 2>/dev/null || true
  echo "ensure-servers: starting nats-server with JetStream"
  start-stop-daemon --start --oknodo --background --exec "$(nats_bin)" -- \
    -a 127.0.0.1 -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for "$NATS_PORT" nats-server 30
else
  echo "ensure-servers: nats-server answers on 127.0.0.1:$NATS_PORT"
fi
if ! nats_has_jetstream; then
  echo "ensure-servers: the NATS server on 127.0.0.1:$NATS_PORT runs without JetStream; restart it with -js (or jetstream {} in its config)" >&2
  exit 1
fi

if ! answers "$AMQP_PORT"; then
  command -v rabbitmq-server >/dev/null || [ -x /usr/sbin/rabbitmq-server ] || install_pkg rabbitmq-server
  echo "ensure-servers: starting rabbitmq-server"
  PATH="$PATH:/usr/sbin" rabbitmq-server -detached || true
  wait_for "$AMQP_PORT" rabbitmq-server 120
else
  echo "ensure-servers: rabbitmq-server answers on 127.0.0.1:$AMQP_PORT"
fi

# The bridge discovers Nameko services through the management API (docs/bridge-contract.md, Discovery).
MGMT_PORT=${AMQP_MANAGEMENT_PORT:-15672}
if ! answers "$MGMT_PORT"; then
  echo "ensure-servers: enabling rabbitmq_management"
  PATH="$PATH:/usr/sbin" rabbitmq-plugins enable --quiet rabbitmq_management >/dev/null \
    && wait_for "$MGMT_PORT" "rabbitmq management API" 60 \
    || echo "ensure-servers: management API unavailable; bridge discovery of RabbitMQ services will rely on configuration" >&2
else
  echo "ensure-servers: rabbitmq management API answers on 127.0.0.1:$MGMT_PORT"
fi

if ! answers "$PG_PORT"; then
  command -v pg_ctlcluster >/dev/null || install_pkg postgresql
  echo "ensure-servers: starting postgresql"
  # Debian's cluster tools; --skip-systemctl-redirect starts it where systemd does not run.
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  wait_for "$PG_PORT" postgresql 60
else
  echo "ensure-servers: postgresql answers on 127.0.0.1:$PG_PORT"
fi
pg_as_postgres() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atqc "$@" >/dev/null 2>&1; }
# The provider tests connect as postgres without a password on the loopback. Debian's own cluster
# asks for one there (scram-sha-256), so on a machine the script may change (root), the cluster on
# PG_PORT gets a trust rule for postgres from 127.0.0.1 and ::1 only, ahead of the others.
if command -v psql >/dev/null && ! pg_as_postgres "SELECT 1" -d postgres && [ "$(id -u)" = 0 ]; then
  pg_version="" pg_cluster=""
  read -r pg_version pg_cluster < <(pg_lsclusters -h | awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }') || true
  hba="/etc/postgresql/$pg_version/$pg_cluster/pg_hba.conf"
  if [ -n "$pg_version" ] && [ -f "$hba" ]; then
    echo "ensure-servers: letting postgres in from 127.0.0.1 and ::1 without a password ($hba)"
    printf 'host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust\n' | cat - "$hba" >"$hba.new"
    chown --reference="$hba" "$hba.new" && chmod --reference="$hba" "$hba.new" && mv "$hba.new" "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" reload
  fi
fi
if command -v psql >/dev/null && ! pg_as_postgres "SELECT 1" -d test; then
  pg_as_postgres "CREATE DATABASE test" -d postgres \
    || echo "ensure-servers: cannot reach database test as postgres without a password on 127.0.0.1; the provider tests need it (trust for 127.0.0.1 in pg_hba.conf)" >&2
fi

if ! answers "$REDIS_PORT"; then
  command -v redis-server >/dev/null || install_pkg redis-server
  echo "ensure-servers: starting redis-server"
  # No snapshots or append-only file: the tests' keys are throwaway.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
  wait_for "$REDIS_PORT" redis-server 30
else
  echo "ensure-servers: redis-server answers on 127.0.0.1:$REDIS_PORT"
fi

# Not servers either: the TLS tests make their certificates with openssl.
command -v openssl >/dev/null || install_pkg openssl

# Not a server: the shell test (test/integration/runtime/shell.test.ts) drives `cliffracer shell` in tmux.
command -v tmux >/dev/null || install_pkg tmux

# The browser test (test/integration/runtime/websocket-browser.test.ts) launches it; not a server either.
command -v chromium >/dev/null || install_pkg chromium
