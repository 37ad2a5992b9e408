#!/usr/bin/env bash
# Benchmark of one daily report: PromQL queries issued, wall time of the invocation against the
# sum of Prometheus' own evaluation times for the same queries, and peak RSS, for 3 and 200
# services of generated history (one-minute samples). Uses the optimised `fast` build.
#
#   scripts/bench.sh [SERVICES...]     default: 3 200
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-3 200}")
read -r -a counts <<<"${counts[*]}"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
cargo build --quiet --profile fast -p sla-report
dir=.stack/bench
trap 'scripts/stack.sh down "$dir"' EXIT
end=2026-11-03T00:00:00Z
printf '{"time": "%s"}\n' "$end" >"$dir.event.json" 2>/dev/null || { mkdir -p .stack; printf '{"time": "%s"}\n' "$end" >"$dir.event.json"; }
printf '| services | queries | invocation wall ms | Prometheus eval ms (sum) | wall / eval | peak RSS MB |\n|---:|---:|---:|---:|---:|---:|\n'
for n in "${counts[@]}"; do
  scripts/stack.sh up bench "$dir" --services "$n" --step-seconds 60 --end "$end" 2>/dev/null
  # shellcheck disable=SC1091
  . "$dir/env"
  out=$(mktemp -d)
  # Warm Prometheus' page cache once, then measure.
  PROMETHEUS_URL=$PROMETHEUS_URL REPORT_DIR="$out" RUST_LOG=info target/fast/sla-report --event "$dir.event.json" >/dev/null
  PROMETHEUS_URL=$PROMETHEUS_URL REPORT_DIR="$out" RUST_LOG=debug \
    /usr/bin/time -f '%M' -o "$out/rss" target/fast/sla-report --event "$dir.event.json" >"$out/log"
  python3 - "$PROMETHEUS_URL" "$out/log" "$out/rss" "$n" <<'PY'
import json, sys, urllib.parse, urllib.request
url, log, rss, n = sys.argv[1:]
lines = [json.loads(l) for l in open(log)]
queries = [l for l in lines if l["message"] == "QueryCompleted"]
metrics = next(l for l in lines if l["message"] == "MetricsEmitted")
period = next(l for l in lines if l["message"] == "PeriodSelected")
def ts(text):
    from datetime import datetime
    return str(int(datetime.fromisoformat(text.replace(" UTC", "+00:00")).timestamp()))
start, end = ts(period["start"]), ts(period["end"])
eval_ms = 0.0
for q in queries:
    if q["query_name"].startswith("hourly"):
        params = {"query": q["query"], "start": str(int(start) + 3600), "end": end, "step": "3600", "stats": "all"}
        path = "query_range"
    else:
        params = {"query": q["query"], "time": end, "stats": "all"}
        path = "query"
    body = json.load(urllib.request.urlopen(f"{url}/api/v1/{path}", urllib.parse.urlencode(params).encode()))
    eval_ms += body["data"]["stats"]["timings"]["evalTotalTime"] * 1000
wall = metrics["Duration"]
print(f"| {n} | {int(metrics['QueriesIssued'])} | {wall:.1f} | {eval_ms:.1f} | {wall / eval_ms:.2f} | {int(open(rss).read()) / 1024:.1f} |")
PY
  rm -rf "$out"
done
