#!/usr/bin/env bash
# Benchmark of one anomaly check over many series: `sum by (service) (rate(...[5m]))` over a
# 6-hour window at a one-minute step, as anomaly-check runs it every minute.
#
#   scripts/bench-anomaly.sh [SERVICES...]     default: 1000 10000
#
# For each count: seven hours of one-minute history with one request counter per service
# (vigil-history --preset series), backfilled into a fresh local Prometheus. Then
#   1. vigil-anomaly-bench: Prometheus' own evaluation time (stats=all), its response time,
#      our parse time, scoring time and throughput for each detector, and the time to take
#      the minute into every series' memory;
#   2. the anomaly-check binary (optimised, `fast` profile), run once for real with that one check (state in a
#      local directory holding every series' full score memory, alerts to stdout): its
#      invocation Duration and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-1000 10000}")
read -r -a counts <<<"${counts[*]}"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
cargo build --quiet --profile fast -p anomaly-check -p vigil-tests
dir=.stack/bench-anomaly
trap 'scripts/stack.sh down "$dir"' EXIT
end=2026-11-03T07:00:00Z
mkdir -p .stack
printf '{"time": "%s"}\n' "$end" >"$dir.event.json"
printf 'default_checks: false\nchecks:\n  - name: request_rate\n    query: sum by (service) (rate(http_requests_total[300s]))\n' >"$dir.checks.yaml"
for n in "${counts[@]}"; do
  scripts/stack.sh up series "$dir" --services "$n" --step-seconds 60 --hours 7 --end "$end" 2>/dev/null
  # shellcheck disable=SC1091
  . "$dir/env"
  state=$(mktemp -d)
  # Warm Prometheus, then measure the real binary.
  PROMETHEUS_URL=$PROMETHEUS_URL STATE_DIR="$state" CHECKS_FILE="$dir.checks.yaml" EVALUATION_DELAY_SECONDS=0 \
    AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    target/fast/anomaly-check --event "$dir.event.json" >/dev/null || true
  rm -rf "$state"/*
  # The breakdown, and a state with every series' memory full, as after a week of minutes.
  breakdown=$(target/fast/vigil-anomaly-bench --prometheus "$PROMETHEUS_URL" --at "$end" --state-out "$state/state.json")
  PROMETHEUS_URL=$PROMETHEUS_URL STATE_DIR="$state" CHECKS_FILE="$dir.checks.yaml" EVALUATION_DELAY_SECONDS=0 \
    AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
    /usr/bin/time -f '%M' -o "$state.rss" target/fast/anomaly-check --event "$dir.event.json" >"$state.log" || true
  python3 - "$breakdown" "$state.log" "$state.rss" <<'PY'
import json, sys
b = json.loads(sys.argv[1])
lines = [json.loads(l) for l in open(sys.argv[2])]
metrics = next(l for l in lines if l["message"] == "MetricsEmitted")
rss = int(open(sys.argv[3]).read()) / 1024
ours = b["parse_ms"] + b["robust-baseline_score_ms"] + b["remember_ms"]
print(json.dumps({**b, "invocation_ms": metrics["Duration"], "query_ms": metrics.get("QueryLatency"),
                  "our_share_of_invocation": ours / metrics["Duration"], "peak_rss_mb": round(rss, 1)}))
PY
  rm -rf "$state" "$state.log" "$state.rss"
done
