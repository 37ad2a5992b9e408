#!/usr/bin/env bash
# Lambda init time of both release bootstraps: process start to the first request for an event
# on a local runtime API, configuration read and SDK clients built (vigil-lambda-init).
# Uses target/lambda-host (scripts/build.sh --host), so it measures this machine's architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
scripts/build.sh --host
cargo build --quiet --profile fast -p vigil-tests --bin vigil-lambda-init
for name in sla-report anomaly-check; do
  target/fast/vigil-lambda-init --binary "target/lambda-host/$name/bootstrap" --function "$name" \
    --runs "$runs" | tail -1
done
