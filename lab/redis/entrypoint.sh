#!/usr/bin/env bash
# Moodle HA Lab — Redis (PHP sessions and Moodle's application cache). No persistence: a restart
# loses what the node held, which is what the lab shows.
#
# Two shapes:
# - single (REDIS_SENTINEL_NODES unset): one redis-server, as it always was.
# - sentinel (REDIS_SENTINEL_NODES="redis1,redis2,redis3"): redis-server and redis-sentinel in
#   this container. At every start the node asks the other nodes' sentinels which node is the
#   master (SENTINEL get-master-addr-by-name) and starts as that node's replica when it is
#   another node, so a restarted former master never comes back as a second master. When the
#   sentinels still name this node (it died before they failed over) and a peer replica holds
#   replicated data, it does not start as an empty master (whose empty data the replicas would
#   copy): it waits until the sentinels have promoted another node. Nobody answering (a fresh or
#   fully restarted lab): REDIS_SENTINEL_INITIAL_MASTER is the master.
set -euo pipefail
# Restarts are clean starts: the engine mounts a fresh tmpfs on /run, and redis-server (in the
# foreground, no pidfile, no unix socket) keeps no runtime state there. This runs as the redis
# user, which could not empty /run anyway; its configuration files go to /tmp, rewritten here.

log() { echo "[redis-entrypoint] $*" >&2; }

if [ -z "${REDIS_PASSWORD:-}" ]; then
  log "ERROR: environment variable REDIS_PASSWORD is required"
  exit 1
fi

if [ -z "${REDIS_SENTINEL_NODES:-}" ]; then
  exec redis-server --bind 0.0.0.0 --port 6379 --protected-mode no \
    --requirepass "$REDIS_PASSWORD" \
    --save '' --appendonly no \
    --dir /tmp --logfile '' --loglevel notice
fi

SELF="${REDIS_NODE:-$(hostname)}"
MASTER_NAME="${REDIS_SENTINEL_MASTER_NAME:-lab}"
QUORUM="${REDIS_SENTINEL_QUORUM:-2}"
DOWN_AFTER_MS="${REDIS_SENTINEL_DOWN_AFTER_MS:-1000}"
FAILOVER_TIMEOUT_MS="${REDIS_SENTINEL_FAILOVER_TIMEOUT_MS:-10000}"
INITIAL_MASTER="${REDIS_SENTINEL_INITIAL_MASTER:?REDIS_SENTINEL_INITIAL_MASTER is required with REDIS_SENTINEL_NODES}"
# How long a restarted master waits for the sentinels to promote another node.
PROMOTION_WAIT_S="${REDIS_SENTINEL_PROMOTION_WAIT_S:-30}"
export REDISCLI_AUTH="$REDIS_PASSWORD"
IFS=',' read -r -a NODES <<<"$REDIS_SENTINEL_NODES"

# The master the peers' sentinels name (the most named), or nothing when none answers.
sentinels_master() {
  local peer answer
  for peer in "${NODES[@]}"; do
    [ "$peer" = "$SELF" ] && continue
    answer=$(timeout 2 redis-cli -h "$peer" -p 26379 --no-auth-warning sentinel get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | head -n 1) || true
    if [ -n "$answer" ]; then echo "$answer"; fi
  done | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }' || true
}

# A peer is a replica that has received data from a master (its replication offset moved).
peer_holds_data() {
  local peer info offset
  for peer in "${NODES[@]}"; do
    [ "$peer" = "$SELF" ] && continue
    info=$(timeout 2 redis-cli -h "$peer" -p 6379 --no-auth-warning info replication 2>/dev/null | tr -d '\r') || continue
    grep -qx 'role:slave' <<<"$info" || continue
    offset=$(sed -n 's/^slave_repl_offset://p' <<<"$info")
    if [ "${offset:-0}" -gt 0 ]; then return 0; fi
  done
  return 1
}

master=$(sentinels_master)
if [ "$master" = "$SELF" ] && peer_holds_data; then
  log "the sentinels still name $SELF as master, and a replica holds data: waiting for them to promote it"
  deadline=$((SECONDS + PROMOTION_WAIT_S))
  while [ "$master" = "$SELF" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.5
    master=$(sentinels_master)
  done
fi
[ -n "$master" ] || master="$INITIAL_MASTER"
log "master: $master (this node: $SELF)"

umask 077
cat >/tmp/redis.conf <<CONF
bind 0.0.0.0
port 6379
protected-mode no
requirepass "$REDIS_PASSWORD"
masterauth "$REDIS_PASSWORD"
replica-announce-ip $SELF
replica-read-only yes
save ""
appendonly no
dir /tmp
logfile ""
loglevel notice
CONF
if [ "$master" != "$SELF" ]; then
  echo "replicaof $master 6379" >>/tmp/redis.conf
fi

cat >/tmp/sentinel.conf <<CONF
port 26379
bind 0.0.0.0
protected-mode no
dir /tmp
logfile ""
requirepass "$REDIS_PASSWORD"
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip $SELF
sentinel monitor $MASTER_NAME $master 6379 $QUORUM
sentinel auth-pass $MASTER_NAME $REDIS_PASSWORD
sentinel down-after-milliseconds $MASTER_NAME $DOWN_AFTER_MS
sentinel failover-timeout $MASTER_NAME $FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $MASTER_NAME 1
CONF

redis-server /tmp/redis.conf &
server=$!
redis-sentinel /tmp/sentinel.conf &
sentinel=$!
trap 'kill -TERM "$server" "$sentinel" 2>/dev/null || true' TERM INT
# Either process ending ends the node (the container's state then says so).
set +e
wait -n "$server" "$sentinel"
status=$?
kill -TERM "$server" "$sentinel" 2>/dev/null
wait
exit "$status"
