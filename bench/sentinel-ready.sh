#!/usr/bin/env bash
# How a Redis Sentinel failover depends on the sentinels knowing the replicas before the master
# dies. Three real containers of the lab's Redis image (lab/redis, Sentinel mode, as a lab runs
# them), the master killed as soon as the readiness condition holds; each run prints the time
# until a survivor answers role:master and whether the elected sentinel aborted for lack of a
# replica (`-failover-abort-no-good-slave`) or for a split vote (`-failover-abort-not-elected`).
#
#   bash bench/sentinel-ready.sh [RUNS] [gate]
#   gate: "sentinels" = each sentinel knows the 2 others (the readiness before the fix);
#         "replicas"  = and the 2 replicas too (num-slaves, the lab's readiness now). Default: both.
set -euo pipefail
RUNS="${1:-10}"
GATES="${2:-sentinels replicas}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE=moodle-lab-bench/redis-sentinel-ready
NET=moodle-lab-bench-sentinel
LABEL=moodle-lab.bench=sentinel-ready
cleanup() {
  docker rm -f $(docker ps -aq --filter "label=$LABEL") >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT
docker info >/dev/null 2>&1 || { echo "Docker is not running" >&2; exit 3; }
docker build -q --build-arg BASE_IMAGE=debian:trixie-slim -t "$IMAGE" "$ROOT/lab/redis" >/dev/null
cleanup
docker network create --label "$LABEL" "$NET" >/dev/null
ms() { echo $(( $(date +%s%N) / 1000000 )); }
sentinel_field() { # node field
  docker exec -e REDISCLI_AUTH=pw "$1" redis-cli -p 26379 sentinel master lab 2>/dev/null | tr -d '\r' | grep -A1 -x "$2" | tail -1
}
for gate in $GATES; do
  slow=0; times=()
  for run in $(seq 1 "$RUNS"); do
    docker rm -f bsr1 bsr2 bsr3 >/dev/null 2>&1 || true
    for n in 1 2 3; do
      docker run -d --label "$LABEL" --name "bsr$n" --hostname "redis$n" --network "$NET" --network-alias "redis$n" \
        -e REDIS_PASSWORD=pw -e REDIS_NODE="redis$n" -e REDIS_SENTINEL_NODES=redis1,redis2,redis3 \
        -e REDIS_SENTINEL_INITIAL_MASTER=redis1 "$IMAGE" >/dev/null
    done
    deadline=$(( $(ms) + 60000 ))
    while :; do
      ok=0
      for n in 1 2 3; do
        [ "$(sentinel_field "bsr$n" num-other-sentinels)" = 2 ] || continue
        if [ "$gate" = replicas ] && [ "$(sentinel_field "bsr$n" num-slaves)" != 2 ]; then continue; fi
        ok=$((ok + 1))
      done
      [ "$ok" = 3 ] && break
      [ "$(ms)" -lt "$deadline" ] || { echo "gate $gate never held" >&2; exit 1; }
      sleep 0.2
    done
    t0=$(ms)
    docker kill bsr1 >/dev/null
    master=none
    while [ $(( $(ms) - t0 )) -lt 40000 ]; do
      for n in 2 3; do
        if docker exec -e REDISCLI_AUTH=pw "bsr$n" redis-cli info replication 2>/dev/null | tr -d '\r' | grep -qx 'role:master'; then master="redis$n"; fi
      done
      [ "$master" = none ] || break
      sleep 0.1
    done
    took=$(( $(ms) - t0 ))
    logs="$(docker logs bsr2 2>&1; docker logs bsr3 2>&1)"
    noslave=$(grep -c 'failover-abort-no-good-slave' <<<"$logs" || true)
    split=$(grep -c 'failover-abort-not-elected' <<<"$logs" || true)
    [ "$took" -gt 5000 ] && slow=$((slow + 1))
    times+=("$took")
    printf 'gate=%-9s run %2d: new master %-6s after %6d ms  (no-good-slave aborts %s, split-vote aborts %s)\n' "$gate" "$run" "$master" "$took" "$noslave" "$split"
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf 'gate=%-9s %d runs: min %s ms, median %s ms, max %s ms; over 5 s: %d\n' "$gate" "$RUNS" \
    "$(head -1 <<<"$sorted")" "$(sed -n "$(( (RUNS + 1) / 2 ))p" <<<"$sorted")" "$(tail -1 <<<"$sorted")" "$slow"
done
