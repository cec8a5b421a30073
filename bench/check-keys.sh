#!/usr/bin/env bash
# Checks that bench/lib/gateway.lua's {{uscc}} keys equal enterpriseUscc(i) of
# src/demo/syntheticData.ts (the keys the bench CSVs are written with) and pass the gateway's
# own GB 32100 check. Needs luajit (apt-get install luajit; wrk embeds the same LuaJIT).
#   bash bench/check-keys.sh [i ...]     default: 1..40, some round numbers and random ones
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v luajit >/dev/null || { echo "luajit missing (apt-get install luajit)" >&2; exit 2; }
if [ $# -eq 0 ]; then
  set -- $(seq 1 40) 99 100 1000 9999 10000 123456 123457 500000 999998 999999 1000000 99999999 \
         $(for _ in $(seq 1 200); do echo $((RANDOM * 32768 % 999999 + RANDOM % 32768 + 1)); done)
fi
lua_out=$(luajit bench/lib/check-keys.lua "$@")
ts_out=$(npx tsx -e '
  import { enterpriseUscc } from "./src/demo/syntheticData";
  import { isValidUscc } from "./src/validation/checksums";
  for (const a of process.argv.slice(1)) {
    const u = enterpriseUscc(Number(a));
    if (!isValidUscc(u)) throw new Error(`enterpriseUscc(${a}) = ${u} fails GB 32100`);
    console.log(u);
  }' "$@")
if [ "$lua_out" = "$ts_out" ]; then
  echo "check-keys ok: $# keys identical in Lua and TypeScript, all valid GB 32100 (i=$1 -> $(echo "$lua_out" | head -1))"
else
  echo "check-keys FAILED:"; diff <(echo "$lua_out") <(echo "$ts_out") | head -20; exit 1
fi
