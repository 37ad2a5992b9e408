#!/usr/bin/env bash
# Starts and stops the local stack: Prometheus loaded with generated history, and moto server
# (S3, SNS, SQS), each on a free loopback port, stopped by PID.
#
#   scripts/stack.sh up PRESET DIR   generate PRESET history (test|demo|bench), backfill it
#                                    into DIR/tsdb, start both servers, write DIR/env
#   scripts/stack.sh down DIR        stop the servers started in DIR
#
# DIR/env holds PROMETHEUS_URL and MOTO_URL for the tests and the demo. Extra arguments after
# DIR go to the history generator (e.g. --services 200).
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 150); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "stack: $name did not become ready at $url; its log:" >&2
  tail -n 20 "$log" >&2
  return 1
}

stop_pid() {
  local pidfile=$1
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  local dir=$1
  stop_pid "$dir/prometheus.pid"
  stop_pid "$dir/moto.pid"
}

up() {
  local preset=$1 dir=$2
  shift 2
  down "$dir"
  mkdir -p "$dir"
  cargo run --quiet -p vigil-tests --bin vigil-history -- --preset "$preset" --out "$dir/history.om" "$@"
  rm -rf "$dir/tsdb"
  promtool tsdb create-blocks-from openmetrics --max-block-duration=200h -q "$dir/history.om" "$dir/tsdb" >"$dir/promtool.log"
  rm -f "$dir/history.om"
  printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' >"$dir/prometheus.yml"

  local prometheus_port moto_port
  prometheus_port=$(free_port)
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
    --storage.tsdb.retention.time=3650d --web.listen-address="127.0.0.1:$prometheus_port" \
    >"$dir/prometheus.log" 2>&1 &
  echo $! >"$dir/prometheus.pid"

  moto_port=$(free_port)
  # One request at a time, so conditional writes are atomic as in S3 (scripts/moto-server.py).
  .tools/moto/bin/python scripts/moto-server.py -H 127.0.0.1 -p "$moto_port" >"$dir/moto.log" 2>&1 &
  echo $! >"$dir/moto.pid"

  wait_ready "http://127.0.0.1:$prometheus_port/-/ready" prometheus "$dir/prometheus.log"
  wait_ready "http://127.0.0.1:$moto_port/moto-api/" moto "$dir/moto.log"
  {
    echo "PROMETHEUS_URL=http://127.0.0.1:$prometheus_port"
    echo "MOTO_URL=http://127.0.0.1:$moto_port"
  } >"$dir/env"
  echo "stack: prometheus on 127.0.0.1:$prometheus_port, moto on 127.0.0.1:$moto_port ($dir/env)" >&2
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  *) echo "usage: $0 up PRESET DIR [generator args] | down DIR" >&2; exit 2 ;;
esac
