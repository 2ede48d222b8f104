#!/usr/bin/env bash
# Moodle HA Lab — MariaDB Galera node entrypoint.
#
#   galera-entrypoint            start the node (joins the cluster; bootstraps only if told to)
#   galera-entrypoint recover    print this datadir's recovery position as one JSON line
#                                ({"uuid":..,"seqno":..,"safeToBootstrap":..}) and exit; run it in
#                                a throw-away container on a stopped node's volume.
#
# Bootstrap is one-shot: only when /var/lib/mysql/lab-bootstrap exists. The file is removed and
# grastate.dat is marked safe_to_bootstrap: 1 before mariadbd starts, so a later restart of this
# container joins the existing cluster instead of forming a second one (split brain).
set -euo pipefail

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
BOOTSTRAP_FLAG="$DATADIR/lab-bootstrap"
GRASTATE="$DATADIR/grastate.dat"

log() { printf '[galera-entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

require_env() {
  local name
  for name in "$@"; do
    [ -n "${!name:-}" ] || die "environment variable $name is required"
  done
}

# SQL string literal: backslashes and single quotes escaped.
sql_str() { local s=${1//\\/\\\\}; s=${s//\'/\\\'}; printf "'%s'" "$s"; }
# SQL identifier: backticks doubled.
sql_id() { printf '`%s`' "${1//\`/\`\`}"; }

grastate_field() { sed -n "s/^$1:[[:space:]]*//p" "$GRASTATE" 2>/dev/null | head -n1; }

# Restarts are clean starts: no pidfile, socket or lock of the previous run may survive a
# stop/start (a stale pidfile whose PID number was reused makes a daemon believe it still runs).
# The engine mounts a fresh tmpfs on /run (/var/run links to it); a container created before
# that keeps /run in its writable layer: empty it. prepare_dirs makes what mariadbd needs there.
clean_run() {
  find /run -mindepth 1 -xdev -delete 2>/dev/null || true
  install -d -m 1777 /run/lock
}

prepare_dirs() {
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  chown mysql:mysql "$DATADIR"
}

recover_position() {
  prepare_dirs
  local uuid seqno safe out pos
  uuid=$(grastate_field uuid); seqno=$(grastate_field seqno); safe=$(grastate_field safe_to_bootstrap)
  if [ "${seqno:--1}" = "-1" ] && [ -d "$DATADIR/mysql" ]; then
    # Unclean shutdown: ask InnoDB for the last committed position.
    # The rsync SST check wants some cluster address even though recovery never connects.
    out=$(mariadbd --user=mysql --wsrep-recover \
      "--wsrep-cluster-address=${GALERA_CLUSTER_ADDRESS:-gcomm://recover}" \
      --log-error=/dev/stdout 2>&1 || true)
    pos=$(printf '%s\n' "$out" | sed -n 's/.*Recovered position: *//p' | tail -n1)
    if [ -n "$pos" ]; then uuid=${pos%%:*}; seqno=${pos##*:}; fi
  fi
  printf '{"uuid":"%s","seqno":%s,"safeToBootstrap":%s}\n' \
    "${uuid:-}" "${seqno:--1}" "$([ "${safe:-0}" = 1 ] && echo true || echo false)"
}

wait_for_socket_server() {
  local pid=$1 deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    if mariadb-admin --protocol=socket --socket="$SOCKET" -uroot ping >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "temporary server exited during initialisation"
    sleep 0.5
  done
  die "temporary server did not answer within 60 s"
}

# First start of the bootstrap node: root password, Moodle + probe databases, Moodle user.
# Runs on a temporary server without wsrep and without networking; joiners get all of it by SST.
initialise_cluster_data() {
  require_env MARIADB_ROOT_PASSWORD DB_NAME DB_USER DB_PASSWORD PROBE_DB_NAME
  log "first start of the bootstrap node: creating databases and users"
  mariadbd --user=mysql --datadir="$DATADIR" --socket="$SOCKET" --skip-networking \
    --wsrep-on=OFF --wsrep-provider=none &
  local pid=$!
  wait_for_socket_server "$pid"
  mariadb --protocol=socket --socket="$SOCKET" -uroot <<SQL
SET SESSION sql_log_bin = 0;
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(sql_str "$MARIADB_ROOT_PASSWORD"));
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'));
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
CREATE DATABASE IF NOT EXISTS $(sql_id "$DB_NAME") CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS $(sql_id "$PROBE_DB_NAME") CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $(sql_str "$DB_USER")@'%' IDENTIFIED BY $(sql_str "$DB_PASSWORD");
GRANT ALL PRIVILEGES ON $(sql_id "$DB_NAME").* TO $(sql_str "$DB_USER")@'%';
GRANT ALL PRIVILEGES ON $(sql_id "$PROBE_DB_NAME").* TO $(sql_str "$DB_USER")@'%';
FLUSH PRIVILEGES;
SQL
  mariadb-admin --protocol=socket --socket="$SOCKET" -uroot shutdown
  wait "$pid" || true
  log "initialisation done"
}

# Compose export (src/export/compose.ts): no engine chooses the bootstrap node, so the first
# node (GALERA_BOOTSTRAP_AUTO=1, never set by the engine) requests it itself, only when that is
# safe: an empty datadir (a new cluster), or grastate.dat's safe_to_bootstrap: 1 (it was the last
# node to leave after a clean shutdown, e.g. `docker-compose stop`). Otherwise it joins.
compose_bootstrap_request() {
  [ "${GALERA_BOOTSTRAP_AUTO:-}" = 1 ] || return 0
  if [ ! -d "$DATADIR/mysql" ]; then
    echo "compose: empty datadir" >"$BOOTSTRAP_FLAG"
  elif [ "$(grastate_field safe_to_bootstrap)" = 1 ]; then
    echo "compose: safe_to_bootstrap" >"$BOOTSTRAP_FLAG"
  fi
}

start_node() {
  require_env GALERA_CLUSTER_NAME GALERA_NODE_NAME GALERA_CLUSTER_ADDRESS
  clean_run
  prepare_dirs

  local bootstrap=0 fresh=0
  compose_bootstrap_request
  [ -f "$BOOTSTRAP_FLAG" ] && bootstrap=1
  [ -d "$DATADIR/mysql" ] || fresh=1

  if [ "$fresh" = 1 ]; then
    log "empty datadir: initialising system tables"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
      --auth-root-authentication-method=socket --wsrep-on=OFF >/dev/null
    # A joiner's datadir is replaced by SST; only the bootstrap node keeps (and seeds) it.
    if [ "$bootstrap" = 1 ]; then initialise_cluster_data; fi
  fi

  local args=(
    --user=mysql
    "--wsrep-cluster-name=$GALERA_CLUSTER_NAME"
    "--wsrep-cluster-address=$GALERA_CLUSTER_ADDRESS"
    "--wsrep-node-name=$GALERA_NODE_NAME"
  )
  if [ "$bootstrap" = 1 ]; then
    # One-shot: consume the flag before starting, so no restart ever bootstraps again.
    rm -f "$BOOTSTRAP_FLAG"
    if [ -f "$GRASTATE" ]; then
      sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$GRASTATE"
    fi
    sync
    args+=(--wsrep-new-cluster)
    log "bootstrapping a new cluster '$GALERA_CLUSTER_NAME' from $GALERA_NODE_NAME (grastate: uuid=$(grastate_field uuid) seqno=$(grastate_field seqno))"
  else
    log "joining '$GALERA_CLUSTER_NAME' at $GALERA_CLUSTER_ADDRESS as $GALERA_NODE_NAME"
  fi

  # The node's view, read every 250 ms by one connected client (lab-galera-view), and the HTTP
  # clustercheck on 9200 answering from it in one process (lab-clustercheck-server).
  /usr/local/bin/lab-galera-view &
  /usr/local/bin/lab-clustercheck-server 9200 &

  exec mariadbd "${args[@]}"
}

case "${1:-}" in
  ""|start) start_node ;;
  recover) recover_position ;;
  *) exec "$@" ;;
esac
