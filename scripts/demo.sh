#!/usr/bin/env bash
# The demo: a week of generated traffic for four services (the last day bad for checkout) in a
# local Prometheus, sla-report run once for the last full day into moto's S3, the report
# copied to out/demo/ and summarised; then anomaly-check run once a minute across the bad
# afternoon, publishing to an SNS topic whose SQS subscriber's messages are printed.
# The stack is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.stack/demo
out=out/demo
cargo build --quiet -p sla-report -p anomaly-check
trap 'scripts/stack.sh down "$dir"' EXIT
scripts/stack.sh up demo "$dir"
# shellcheck disable=SC1091
. "$dir/env"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
python=.tools/moto/bin/python
bucket=vigil-demo-reports
"$python" - "$MOTO_URL" "$bucket" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1]).create_bucket(Bucket=sys.argv[2])
PY

mkdir -p "$out"
today=$(date -u +%Y-%m-%d)
printf '{"time": "%sT00:15:00Z"}\n' "$today" >"$out/event.json"
echo "demo: running sla-report for the day before $today (event: $out/event.json)" >&2
PROMETHEUS_URL=$PROMETHEUS_URL REPORT_BUCKET=$bucket S3_FORCE_PATH_STYLE=true \
  AWS_ENDPOINT_URL=$MOTO_URL RUST_LOG=info \
  target/debug/sla-report --event "$out/event.json" | tee "$out/sla-report.log" >/dev/null

"$python" - "$MOTO_URL" "$bucket" "$out" <<'PY'
import json, sys, boto3
endpoint, bucket, out = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint)
latest = json.loads(s3.get_object(Bucket=bucket, Key="sla-reports/latest.json")["Body"].read())
day = latest["period"]["date"].replace("-", "/")
for name in ("report.json", "report.html"):
    key = f"sla-reports/daily/{day}/{name}"
    s3.download_file(bucket, key, f"{out}/{name}")
    print(f"  s3://{bucket}/{key}  ->  {out}/{name}")
print()
print(f"SLA report for {latest['period']['date']} ({latest['period']['time_zone']})")
print(f"{'service':<12} {'status':<9} {'requests':>10} {'availability':>13} {'p99 ms':>8} {'budget left':>12}")
for s in latest["services"]:
    fmt = lambda v, f: "—" if v is None else f.format(v)
    print(f"{s['service']:<12} {s['slo']['status']:<9} {fmt(s['total_requests'], '{:.0f}'):>10} "
          f"{fmt(s['availability'] and s['availability'] * 100, '{:.3f} %'):>13} {fmt(s['latency_ms']['p99'], '{:.0f}'):>8} "
          f"{fmt(s['slo']['error_budget_remaining'] and s['slo']['error_budget_remaining'] * 100, '{:.0f} %'):>12}")
summary = latest["summary"]
print(f"\n{summary['met']} met, {summary['breached']} breached, {summary['no_data']} without data; open {out}/report.html in a browser")
PY

echo >&2
echo "demo: anomaly-check once a minute from 13:00 to 19:00 on the bad day (checkout breaks at 14:00)" >&2
resources=$("$python" - "$MOTO_URL" <<'PY'
import sys, boto3
endpoint = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=endpoint)
sns = boto3.client("sns", endpoint_url=endpoint)
sqs = boto3.client("sqs", endpoint_url=endpoint)
s3.create_bucket(Bucket="vigil-demo-state")
topic = sns.create_topic(Name="vigil-demo-alerts")["TopicArn"]
queue = sqs.create_queue(QueueName="vigil-demo-subscriber")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
print(topic, queue)
PY
)
read -r topic queue <<<"$resources"
bad_day=$(date -u -d "$today -1 day" +%Y-%m-%d)
start=$(date -u -d "$bad_day 13:00" +%s)
for minute in $(seq 0 359); do
  printf '{"time": "%s"}\n' "$(date -u -d "@$((start + 60 * minute))" +%Y-%m-%dT%H:%M:%SZ)" >"$out/minute.json"
  PROMETHEUS_URL=$PROMETHEUS_URL STATE_BUCKET=vigil-demo-state ALERT_TOPIC_ARN=$topic \
    S3_FORCE_PATH_STYLE=true AWS_ENDPOINT_URL=$MOTO_URL EVALUATION_DELAY_SECONDS=0 \
    target/debug/anomaly-check --event "$out/minute.json" >>"$out/anomaly-check.log"
done

"$python" - "$MOTO_URL" "$queue" <<'PY'
import json, sys, boto3
endpoint, queue = sys.argv[1:]
sqs = boto3.client("sqs", endpoint_url=endpoint)
messages = []
while True:
    batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    if not batch:
        break
    for message in batch:
        envelope = json.loads(message["Body"])
        messages.append((envelope["Subject"], json.loads(envelope["Message"])))
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
def show(value, unit):
    # The JSON keeps plain numbers and names the unit; people read them with it.
    if value is None:
        return "no data"
    if unit == "seconds":
        return f"{value * 1000:.4g} ms" if abs(value) < 1 else f"{value:.4g} s"
    if unit == "ratio":
        return f"{value * 100:.4g} %"
    if unit == "per_second":
        return f"{value:.4g} /s"
    return f"{value:.4g}"
print(f"\nThe SQS subscriber received {len(messages)} alert(s):")
for subject, alert in sorted(messages, key=lambda m: m[1]["at"]):
    unit = alert.get("unit", "none")
    why = f" ({alert['reason']})" if alert.get("reason") else ""
    print(f"  {alert['at']}  {subject:<45} value {show(alert['value'], unit)}, expected {show(alert['expected'], unit)}{why}")
PY
