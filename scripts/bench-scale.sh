#!/usr/bin/env bash
# Benchmark of the minute check at scale: the default checks (request rate, error ratio and p99
# latency per service) over services of 17 series each (four status counters, eleven latency
# buckets, sum and count), a six-hour window at a one-minute step.
#
#   scripts/bench-scale.sh [SERVICES...]        default: 1000 3000
#   SHARDS=4 scripts/bench-scale.sh 10000       each minute as four shard invocations at once
#
# For each count: seven hours of one-minute history, backfilled into a fresh local Prometheus.
# Then the optimised anomaly-check binary (state in a local directory, alerts to stdout) runs a
# stateless first minute, the minutes until every window is read in full, three steady minutes,
# and, unsharded, one more minute reading its whole window (READ_OVERLAP_SECONDS=86400, as
# before windows were stored). One JSON line per minute: each
# invocation's Duration and peak RSS, the state's bytes, the series evaluated, and what the
# minute's queries cost Prometheus: the samples it processed (`stats=all`, counted by
# scripts/stats-proxy.py in between) and the points it returned.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-1000 3000}")
read -r -a counts <<<"${counts[*]}"
shards=${SHARDS:-1}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
cargo build --quiet --profile fast -p anomaly-check
dir=.stack/bench-scale
trap '[ -z "${proxy:-}" ] || kill "$proxy" 2>/dev/null || true; scripts/stack.sh down "$dir"' EXIT
end=2026-11-03T07:00:00Z
mkdir -p .stack
for n in "${counts[@]}"; do
  scripts/stack.sh up bench "$dir" --services "$n" --step-seconds 60 --hours 7 --end "$end" 2>/dev/null
  # shellcheck disable=SC1091
  . "$dir/env"
  state=$(mktemp -d)
  # The check reaches Prometheus through a proxy that counts the samples each query processed.
  proxy_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 scripts/stats-proxy.py "$PROMETHEUS_URL" "$proxy_port" &
  proxy=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$proxy_port/proxy-stats" >/dev/null && break; sleep 0.1; done
  samples() {
    curl -sf "http://127.0.0.1:$proxy_port/proxy-stats"
  }
  minute() {
    local label=$1 time=$2
    shift 2
    local before pids=()
    before=$(samples)
    for ((shard = 0; shard < shards; shard++)); do
      printf '{"time": "%s", "shard": %d, "shards": %d}\n' "$time" "$shard" "$shards" >"$state.event-$shard"
      env "$@" PROMETHEUS_URL="http://127.0.0.1:$proxy_port" STATE_DIR="$state/state" EVALUATION_DELAY_SECONDS=0 \
        AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
        /usr/bin/time -f '%M' -o "$state.rss-$shard" \
        target/fast/anomaly-check --timeout-seconds 50 --event "$state.event-$shard" >"$state.log-$shard" 2>&1 &
      pids+=($!)
    done
    wait "${pids[@]}" || true
    python3 - "$n" "$shards" "$label" "$before" "$(samples)" "$state" <<'PY'
import json, os, sys
n, shards, label, before, after, state = sys.argv[1:]
def window_bytes(state, files):
    """The stored windows' share of the state: bytes per series and per point."""
    series = points = size = 0
    for name in files:
        document = json.load(open(f"{state}/state/{name}"))
        for history in document.get("histories", []):
            size += len(json.dumps(history, separators=(",", ":")))
            for stored in history["series"] + history.get("season", []):
                series += 1
                points += (history["end"] - history["from"]) // 60 + 1
    return {"window_bytes_per_series": round(size / max(series, 1)),
            "window_bytes_per_point": round(size / max(points, 1), 2)}
runs = []
for shard in range(int(shards)):
    lines = [json.loads(l) for l in open(f"{state}.log-{shard}") if l.startswith("{")]
    metrics = next((l for l in lines if l.get("message") == "MetricsEmitted"), {})
    runs.append({
        "shard": shard,
        "outcome": metrics.get("Outcome"),
        "duration_ms": round(metrics.get("Duration", 0)),
        "series": metrics.get("SeriesEvaluated"),
        "peak_rss_mb": round(int(open(f"{state}.rss-{shard}").read().split()[-1]) / 1024, 1),
    })
files = [f for f in os.listdir(f"{state}/state") if f.startswith("state")]
before, after = json.loads(before), json.loads(after)
print(json.dumps({
    "services": int(n), "minute": label, "shards": int(shards),
    "samples_processed": after["samples"] - before["samples"],
    "points_returned": after["points"] - before["points"],
    "queries": after["queries"] - before["queries"],
    "state_bytes": sum(os.path.getsize(f"{state}/state/{f}") for f in files),
    **window_bytes(state, files),
    "runs": runs,
}))
PY
  }
  # A stateless first minute, then minutes until every window is complete (none logs
  # WindowFilling), then three steady minutes and, unsharded, one reading the whole window.
  at=$(date -u -d 2026-11-03T06:10:00Z +%s)
  minute first "$(date -u -d "@$at" +%FT%TZ)"
  while grep -q WindowFilling "$state".log-* && [ "$at" -lt "$(date -u -d 2026-11-03T06:55:00Z +%s)" ]; do
    at=$((at + 60))
    minute filling "$(date -u -d "@$at" +%FT%TZ)"
  done
  for steady in 1 2 3; do
    at=$((at + 60))
    minute "steady-$steady" "$(date -u -d "@$at" +%FT%TZ)"
  done
  if [ "$shards" = 1 ]; then
    minute full-read "$(date -u -d "@$((at + 60))" +%FT%TZ)" READ_OVERLAP_SECONDS=86400
  fi
  kill "$proxy"
  proxy=
  rm -rf "$state" "$state".*
done
