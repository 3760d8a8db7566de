#!/usr/bin/env bash
# Starts (or stops) the Redis servers the Redis tests use: one single server and a three-node
# cluster, on 127.0.0.1 only, on their own ports, each in a temporary folder.
#
#   eval "$(scripts/redis-test-servers.sh start)"   # starts them and prints the env vars to export
#   scripts/redis-test-servers.sh stop              # stops them and removes their folders
#
# Ports: SPILLCHEST_REDIS_PORT (default 6390) for the single server, and the three after
# SPILLCHEST_REDIS_CLUSTER_PORT (default 7390..7392) for the cluster. The folder is recorded in
# $TMPDIR/spillchest-redis-test.dir so that `stop` finds it.
set -euo pipefail

port=${SPILLCHEST_REDIS_PORT:-6390}
cluster_port=${SPILLCHEST_REDIS_CLUSTER_PORT:-7390}
state="${TMPDIR:-/tmp}/spillchest-redis-test.dir"

start_server() { # dir port [extra args...]
  local dir=$1 p=$2
  shift 2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$p" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' \
    --appendonly yes --appendfsync everysec --protected-mode yes "$@" >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server on port $p did not start; see $dir/redis.log" >&2
  return 1
}

case "${1:-}" in
  start)
    command -v redis-server >/dev/null || { echo 'redis-server is not installed' >&2; exit 1; }
    root=$(mktemp -d "${TMPDIR:-/tmp}/spillchest-redis.XXXXXX")
    echo "$root" >"$state"
    start_server "$root/single" "$port"
    nodes=()
    for i in 0 1 2; do
      p=$((cluster_port + i))
      start_server "$root/node$i" "$p" --cluster-enabled yes --cluster-config-file "$root/node$i/nodes.conf"
      nodes+=("127.0.0.1:$p")
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$root/cluster-create.log" 2>&1
    for _ in $(seq 1 100); do
      redis-cli -h 127.0.0.1 -p "$cluster_port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
    echo "export SPILLCHEST_REDIS_URL=redis://127.0.0.1:$port"
    echo "export SPILLCHEST_REDIS_CLUSTER=$(IFS=,; echo "${nodes[*]}")"
    ;;
  stop)
    [ -f "$state" ] || exit 0
    root=$(cat "$state")
    for pidfile in "$root"/*/redis.pid; do
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 0.3
    rm -rf "$root" "$state"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
