#!/usr/bin/env bash
# Builds the Lambda binaries with cargo-lambda (zig links them for Amazon Linux 2023).
#
#   scripts/build.sh          `sam build`: both functions for arm64, as template.yaml deploys
#                             them, into .aws-sam/build; prints the bootstrap and zip sizes.
#                             If the arm64 standard library cannot be installed, says so and
#                             builds for x86_64 instead (a template copy with x86_64).
#   scripts/build.sh --host   release binaries for this machine's architecture into
#                             target/lambda-host/NAME/bootstrap, for the runtime API tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/cargo-lambda/bin:$PATH" SAM_CLI_TELEMETRY=0

case "$(uname -m)" in
  aarch64 | arm64) host_flag=--arm64 ;;
  *) host_flag=--x86-64 ;;
esac

if [ "${1:-}" = "--host" ]; then
  cargo lambda build --release --workspace "$host_flag" --lambda-dir target/lambda-host
  exit
fi

template=template.yaml
arch=arm64
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu &&
  ! rustup target add aarch64-unknown-linux-gnu; then
  echo "build: the aarch64-unknown-linux-gnu standard library cannot be installed here;" >&2
  echo "build: building x86_64 binaries with an x86_64 copy of the template instead." >&2
  echo "build: deploy .aws-sam/build/template.yaml as built, or build on a machine with arm64." >&2
  template=.template-x86_64.yaml
  arch=x86_64
  sed 's/^    Architectures: \[arm64\]$/    Architectures: [x86_64]/' template.yaml >"$template"
fi
.tools/sam/bin/sam build --template-file "$template"

echo "build: $arch binaries" >&2
python3 - .aws-sam/build/*Function <<'PY'
import io, os, sys, zipfile

for folder in sys.argv[1:]:
    path = os.path.join(folder, "bootstrap")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "bootstrap")
    mb = 1024 * 1024
    print(f"{os.path.basename(folder):<22} bootstrap {os.path.getsize(path) / mb:5.1f} MB, "
          f"zipped {len(buffer.getvalue()) / mb:5.1f} MB")
PY
