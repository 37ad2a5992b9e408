#!/usr/bin/env bash
# Runs the integration tests against a freshly started local stack, and stops it afterwards.
# Arguments go to `cargo test` (a test name filter, then `-- --nocapture` to see what it prints).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.stack/test
trap 'scripts/stack.sh down "$dir"' EXIT
scripts/stack.sh up test "$dir"
# shellcheck disable=SC1091
. "$dir/env"
export VIGIL_TEST_PROMETHEUS_URL=$PROMETHEUS_URL VIGIL_TEST_MOTO_URL=$MOTO_URL
export VIGIL_TEST_LAMBDA_DIR=$PWD/target/lambda-host
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
cargo test -p vigil-tests --test integration "$@"
