#!/usr/bin/env bash
# Installs what the local stack and the checks need, idempotently:
#   - Debian: prometheus (with promtool), python3-venv
#   - PyPI, each tool in its own virtual environment under .tools/: moto[server], the SAM CLI
#     (with cfn-lint), cargo-lambda (with zig), checkov
# With --demo only what `make demo` runs: prometheus and moto.
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.tools
MOTO_VERSION=5.2.5
SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
CARGO_LAMBDA_VERSION=1.9.2
CHECKOV_VERSION=3.3.30

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-stack: apt-get install ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# venv NAME BINARY PACKAGE...: a virtual environment per tool, created once.
venv() {
  local name=$1 binary=$2
  shift 2
  if [ -x "$TOOLS/$name/bin/$binary" ]; then
    return
  fi
  echo "install-stack: pip install $* into $TOOLS/$name" >&2
  python3 -m venv "$TOOLS/$name"
  "$TOOLS/$name/bin/pip" install -q "$@"
}

venv moto moto_server "moto[server]==$MOTO_VERSION"
if [ "${1:-}" = "--demo" ]; then
  exit 0
fi
venv sam cfn-lint "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
venv cargo-lambda cargo-lambda "cargo-lambda==$CARGO_LAMBDA_VERSION"
venv checkov checkov "checkov==$CHECKOV_VERSION"
