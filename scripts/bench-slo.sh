#!/usr/bin/env bash
# Benchmark of the report with an SLO document over a whole quarter: 200 services (default) of
# two days of one-minute history, three SLOs (availability, a 250 ms latency SLI and a ratio SLI)
# over the calendar quarter, the ledger already holding the quarter's 91 earlier days (written
# here, as earlier runs would have), and the day reported the quarter's last, so the quarterly
# compliance report is written too. Prints queries, ledger objects read, objects written, wall
# time against Prometheus' own evaluation time of the same queries, and peak RSS.
#
#   scripts/bench-slo.sh [SERVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-200}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends time >/dev/null; }
cargo build --quiet --profile fast -p sla-report
dir=.stack/bench-slo
trap 'scripts/stack.sh down "$dir"' EXIT
end=2026-10-01T00:00:00Z
mkdir -p .stack
printf '{"time": "%s"}\n' "$end" >"$dir.event.json"
cat >"$dir.slos.yaml" <<'YAML'
window: quarter
slos:
  - {name: availability, sli: availability, objective: 0.999}
  - {name: fast, sli: latency, threshold_ms: 250, objective: 0.99}
  - name: not-5xx
    sli: ratio
    group_by: service
    bad: sum by (service) (increase(http_requests_total{status=~"5.."}[{{window}}]))
    total: sum by (service) (increase(http_requests_total[{{window}}]))
    objective: 0.999
YAML
scripts/stack.sh up bench "$dir" --services "$services" --step-seconds 60 --end "$end" 2>/dev/null
# shellcheck disable=SC1091
. "$dir/env"
out=$(mktemp -d)
# The quarter's earlier days, as the ledger holds them after daily runs.
python3 - "$out" "$services" <<'PY'
import datetime, json, os, sys
out, services = sys.argv[1], int(sys.argv[2])
day = datetime.date(2026, 7, 1)
while day < datetime.date(2026, 9, 30):
    counts = {f"service-{i:04d}": {"good": 86000.0, "total": 86400.0, "excluded": 0.0} for i in range(services)}
    body = {"schema_version": 1, "date": day.isoformat(),
            "slos": {name: counts for name in ("availability", "fast", "not-5xx")}}
    path = os.path.join(out, "sla-reports", "daily", day.strftime("%Y/%m/%d"), "ledger.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(body, f, sort_keys=True, separators=(",", ":"))
    day += datetime.timedelta(days=1)
PY
run() {
  PROMETHEUS_URL=$PROMETHEUS_URL REPORT_DIR="$out" SLOS_FILE="$dir.slos.yaml" REPORT_PERIODS=quarter "$@" \
    target/fast/sla-report --event "$dir.event.json"
}
RUST_LOG=info run >/dev/null  # warm Prometheus' page cache
RUST_LOG=debug /usr/bin/time -f '%M' -o "$out.rss" env PROMETHEUS_URL="$PROMETHEUS_URL" REPORT_DIR="$out" \
  SLOS_FILE="$dir.slos.yaml" REPORT_PERIODS=quarter target/fast/sla-report --event "$dir.event.json" >"$out.log"
python3 - "$PROMETHEUS_URL" "$out.log" "$out.rss" "$services" <<'PY'
import json, sys, urllib.parse, urllib.request
url, log, rss, n = sys.argv[1:]
lines = [json.loads(l) for l in open(log)]
queries = [l for l in lines if l["message"] == "QueryCompleted"]
metrics = next(l for l in lines if l["message"] == "MetricsEmitted")
end = "1790812800"  # 2026-10-01T00:00:00Z
eval_ms = 0.0
for q in queries:
    if q["query_name"].startswith("hourly"):
        params = {"query": q["query"], "start": str(int(end) - 23 * 3600), "end": end, "step": "3600", "stats": "all"}
        path = "query_range"
    else:
        params = {"query": q["query"], "time": end, "stats": "all"}
        path = "query"
    body = json.load(urllib.request.urlopen(f"{url}/api/v1/{path}", urllib.parse.urlencode(params).encode()))
    eval_ms += body["data"]["stats"]["timings"]["evalTotalTime"] * 1000
wall = metrics["Duration"]
filled = sum(1 for l in lines if l["message"] == "LedgerDayFilled")
periods = sum(1 for l in lines if l["message"] == "PeriodReportWritten")
print("| services | SLOs | queries | ledger objects read | days filled | objects written | invocation wall ms | Prometheus eval ms (sum) | wall / eval | peak RSS MB |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {n} | 3 | {int(metrics['QueriesIssued'])} | 91 | {filled} | {3 + 2 * periods} | {wall:.1f} | {eval_ms:.1f} | {wall / eval_ms:.2f} | {int(open(rss).read()) / 1024:.1f} |")
PY
rm -rf "$out" "$out.log" "$out.rss"
