#!/usr/bin/env bash
# Benchmark of the minute check's SLO burn-rate rules alone (no anomaly checks): 200 services
# (default) of three days and six hours of one-minute history, an SLO document of an
# availability and a 250 ms latency SLO with the default rules. Runs the minute at which the
# day-long ranges are read and the minute after (they then come from the state), and prints
# for each: queries, the samples Prometheus processes for them (stats=all, the same queries
# re-issued at the same time), invocation wall time and peak RSS; then the samples per minute
# averaged over the ten-minute cycle against reading every range every minute.
#
#   scripts/bench-slo-alerts.sh [SERVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-200}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
cargo build --quiet --profile fast -p anomaly-check
dir=.stack/bench-slo-alerts
trap 'scripts/stack.sh down "$dir"' EXIT
end=2026-10-04T00:00:00Z
mkdir -p .stack
printf 'default_checks: false\n' >"$dir.checks.yaml"
cat >"$dir.slos.yaml" <<'YAML'
slos:
  - {name: availability, sli: availability, objective: 0.999}
  - {name: fast, sli: latency, threshold_ms: 250, objective: 0.99}
YAML
scripts/stack.sh up bench "$dir" --services "$services" --step-seconds 60 --hours 78 --end "$end" 2>/dev/null
# shellcheck disable=SC1091
. "$dir/env"
out=$(mktemp -d)
run() {  # run EVENT_TIME LOG
  printf '{"time": "%s"}\n' "$1" >"$out/event.json"
  RUST_LOG=debug PROMETHEUS_URL=$PROMETHEUS_URL STATE_DIR="$out/state" SLOS_FILE="$dir.slos.yaml" \
    CHECKS_FILE="$dir.checks.yaml" EVALUATION_DELAY_SECONDS=0 \
    /usr/bin/time -f '%M' -o "$2.rss" target/fast/anomaly-check --event "$out/event.json" >"$2"
}
# Warm Prometheus' page cache with a run in a throwaway state, then measure both minutes.
run 2026-10-03T23:00:00Z "$out/warm.log"
rm -rf "$out/state"
run 2026-10-03T23:50:00Z "$out/due.log"
run 2026-10-03T23:51:00Z "$out/cached.log"
python3 - "$PROMETHEUS_URL" "$out" "$services" <<'PY'
import json, sys, urllib.parse, urllib.request
url, out, n = sys.argv[1:]
times = {"due": "1791071400", "cached": "1791071460"}  # 23:50 and 23:51 UTC
rows = {}
for kind, at in times.items():
    lines = [json.loads(l) for l in open(f"{out}/{kind}.log")]
    queries = [l for l in lines if l["message"] == "QueryCompleted" and l.get("query_name") == "slo_burn"]
    metrics = next(l for l in lines if l["message"] == "MetricsEmitted")
    assert metrics["Outcome"] == "success", metrics
    samples = 0
    for q in queries:
        params = urllib.parse.urlencode({"query": q["query"], "time": at, "stats": "all"}).encode()
        body = json.load(urllib.request.urlopen(f"{url}/api/v1/query", params))
        samples += body["data"]["stats"]["samples"]["totalQueryableSamples"]
    rss = int(open(f"{out}/{kind}.log.rss").read()) / 1024
    rows[kind] = (len(queries), samples, metrics["Duration"], rss)
print("| services | minute | queries | samples processed | invocation wall ms | peak RSS MB |")
print("|---:|---|---:|---:|---:|---:|")
for kind, label in (("due", "day-long ranges read"), ("cached", "from the state")):
    q, s, wall, rss = rows[kind]
    print(f"| {n} | {label} | {q} | {s:,} | {wall:.1f} | {rss:.1f} |")
cycle = (rows["due"][1] + 9 * rows["cached"][1]) / 10
print(f"\nSamples per minute over the ten-minute cycle: {cycle:,.0f}; every range every minute: {rows['due'][1]:,} ({rows['due'][1] / cycle:.1f}x).")
PY
rm -rf "$out"
