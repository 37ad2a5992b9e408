#!/usr/bin/env bash
# Checks template.yaml: cfn-lint, `sam validate --lint`, checkov (every skip is justified next
# to its resource), and the facts those tools cannot see (tests/template/test_template.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export SAM_CLI_TELEMETRY=0

echo "check-template: cfn-lint" >&2
.tools/sam/bin/cfn-lint template.yaml
echo "check-template: sam validate --lint" >&2
.tools/sam/bin/sam validate --lint --template-file template.yaml
echo "check-template: checkov" >&2
.tools/checkov/bin/checkov --file template.yaml --framework cloudformation --quiet --compact \
  --skip-download
echo "check-template: template facts" >&2
AWS_DEFAULT_REGION=us-east-1 .tools/sam/bin/python -m unittest tests/template/test_template.py
