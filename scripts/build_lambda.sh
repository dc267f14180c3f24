#!/usr/bin/env bash
# Build the Lambda artifacts Terraform deploys (infra/variables.tf: lambda_zip_path, layer_zip_path).
#
#   scripts/build_lambda.sh            # both: build/costagent.zip and build/costagent-layer.zip
#   scripts/build_lambda.sh package    # only the function package (offline)
#   scripts/build_lambda.sh layer      # only the dependency layer (needs the package index)
#
# build/costagent.zip holds the `costagent` package from functions/ at the zip's root (handlers are
# `costagent.handlers.<name>.handler`). build/costagent-layer.zip holds the runtime dependencies from
# pyproject.toml under python/, as Lambda layers expect, built for the Lambda runtime (python3.12,
# manylinux2014 wheels only) whatever the build machine is: LAMBDA_ARCH=x86_64 (default) or arm64, the
# same value as Terraform's lambda_architecture. The zips are reproducible: fixed
# entry order and timestamps, so source_code_hash only changes when the content does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
PYTHON="${PYTHON:-python3}"
PYTHON_VERSION="3.12"
LAMBDA_ARCH="${LAMBDA_ARCH:-x86_64}"
case "$LAMBDA_ARCH" in
  x86_64) PLATFORM="manylinux2014_x86_64" ;;
  arm64) PLATFORM="manylinux2014_aarch64" ;;
  *) echo "LAMBDA_ARCH must be x86_64 or arm64, not '$LAMBDA_ARCH'" >&2; exit 2 ;;
esac
WHAT="${1:-all}"

# Runtime dependencies of the Lambdas (pyproject.toml [project] dependencies).
DEPENDENCIES=(
  "boto3>=1.34,<2"
  "anthropic>=2.0,<3"
  "aws-lambda-powertools[parser,tracer]>=3.0,<4"
  "pydantic>=2.7,<3"
)

zip_dir() {
  # zip_dir SOURCE_DIR OUTPUT_ZIP: deterministic zip of SOURCE_DIR's contents, without bytecode.
  "$PYTHON" - "$1" "$2" <<'PY'
import sys
import zipfile
from pathlib import Path

source, output = Path(sys.argv[1]), Path(sys.argv[2])
output.parent.mkdir(parents=True, exist_ok=True)
files = sorted(
    p for p in source.rglob("*")
    if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
)
with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
    for path in files:
        info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, path.read_bytes())
print(f"{output}: {len(files)} files")
PY
}

build_package() {
  local staging="$BUILD/package"
  rm -rf "$staging"
  mkdir -p "$staging"
  cp -R "$ROOT/functions/costagent" "$staging/costagent"
  # Workstation-only parts: the embedded-AWS runner (moto), the backtest (numpy, matplotlib) and the
  # operator's review commands (report, replay, promote).
  rm -rf "$staging/costagent/local" "$staging/costagent/backtest" "$staging/costagent/review"
  cp "$ROOT/statemachine/cycle.asl.json" "$staging/costagent/cycle.asl.json"
  zip_dir "$staging" "$BUILD/costagent.zip"
}

build_layer() {
  local staging="$BUILD/layer"
  rm -rf "$staging"
  mkdir -p "$staging/python"
  "$PYTHON" -m pip install \
    --quiet \
    --platform "$PLATFORM" \
    --implementation cp \
    --python-version "$PYTHON_VERSION" \
    --only-binary=:all: \
    --target "$staging/python" \
    "${DEPENDENCIES[@]}"
  zip_dir "$staging" "$BUILD/costagent-layer.zip"
}

case "$WHAT" in
  all) build_package; build_layer ;;
  package) build_package ;;
  layer) build_layer ;;
  *) echo "usage: $0 [all|package|layer]" >&2; exit 2 ;;
esac
