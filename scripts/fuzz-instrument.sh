#!/usr/bin/env bash
# Long differential fuzzing run of the instrumenter (host/src/sandbox/instrument):
# N binaryen translate-to-fuzz modules, each run as it is and instrumented,
# compared result by result. Usage: npm run fuzz [-- MODULES [FIRST_SEED]]
# (defaults: 10000 modules from seed 1). Needs binaryen's wasm-opt
# (apt-get install binaryen). Divergent modules are kept in $WEIR_FUZZ_KEEP
# (default: $TMPDIR/weir-fuzz-divergences) to replay with WEIR_FUZZ_SEED.
set -euo pipefail
cd "$(dirname "$0")/.."
export WEIR_FUZZ_MODULES="${1:-10000}"
export WEIR_FUZZ_SEED="${2:-1}"
exec npx vitest run host/test/sandbox/instrument-fuzz.test.ts
