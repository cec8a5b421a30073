#!/usr/bin/env bash
# The project's benchmark, in one command (`npm run bench`; see bench/README.md):
#   (a) the shared harness's setup (wrk, reference servers, benchdb)
#   (b) a fresh database $BENCH_DB for the gateway
#   (c) the bench data set as CSV (1,000,000 enterprises, ~3M licences; reused when unchanged)
#   (d) the gateway (`npm start`: builds, then runs dist/), waited for on /readyz
#   (e) both CSVs delivered through POST /datasets/<code>/deliveries: rows/s, peak RSS, CPU
#   (f) Q1 and Q2 against the gateway and the reference servers floor-lean and PostGraphile v5,
#       interleaved pass by pass with the shared harness's measurement (run.sh + wrk)
#   (g) a summary table with the ratios against the targets; raw lines in $OUT
#
# Knobs (environment):
#   RUNS=4           passes; each pass runs every case × query once (gateway, floor-lean, postgraphile)
#   DUR=10 WARM=3    measured / warm-up seconds per run          CONNS=32  wrk connections
#   ENTERPRISES=1000000   size of the gateway's data set (licences: 1-5 each, mean 3)
#   REFERENCES="floor-lean postgraphile"   reference cases of the shared baselines.sh
#   SHARED_BENCH=<repo>/../shared/bench    the shared harness     BENCH_WORK=/tmp/bench-work
#   BENCH_DB=hzgw_bench   GATEWAY_PORT=4100   DATABASE_POOL_SIZE=10 (same pool as the references)
#   REUSE_DB=1       skip (b) and (e): serve the already loaded $BENCH_DB (for iterating on the
#                    load phase only; the delivery figures are then missing)
#   CSV_ONLY=1       only (a) and (c): prepare the CSVs, then stop
#   SKIP_SETUP=1     skip (a) (when setup.sh already ran on this machine)
#   GATEWAY_CMD="npm start"   how the gateway is started (from the repo root, with the env above);
#                    e.g. "npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/src/main.js" for a
#                    CPU profile, written when the gateway exits at the end (node refuses --cpu-prof in NODE_OPTIONS)
#   OUT=$BENCH_WORK/results-gateway-<UTC timestamp>.txt
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SHARED_BENCH=$(cd "${SHARED_BENCH:-$ROOT/../shared/bench}" && pwd)
export BENCH_WORK=${BENCH_WORK:-/tmp/bench-work}
W=$BENCH_WORK
RUNS=${RUNS:-4} DUR=${DUR:-10} WARM=${WARM:-3} CONNS=${CONNS:-32}
ENTERPRISES=${ENTERPRISES:-1000000}
REFERENCES=${REFERENCES:-floor-lean postgraphile}
BENCH_DB=${BENCH_DB:-hzgw_bench}
PORT=${GATEWAY_PORT:-4100}
POOL=${DATABASE_POOL_SIZE:-10}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$W"
OUT=${OUT:-$W/results-gateway-$STAMP.txt}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGPASSWORD=${PGPASSWORD:-postgres}
DB_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
GQL="http://127.0.0.1:$PORT/graphql"
ENT_CODE='3.44.13.002/00000001' LIC_CODE='3.44.13.002/00000002'
export BENCH_ENTERPRISES=$ENTERPRISES

log() { echo "$*" | tee -a "$OUT"; }
say() { echo "== $*" >&2; }
tree() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" 2>/dev/null); do tree "$c"; done; }
mem_kb() { local t=0 v; for p in $(tree "$1"); do
  v=$(awk -v k="$2:" '$1==k{print $2}' "/proc/$p/status" 2>/dev/null || true); t=$((t + ${v:-0})); done; echo $t; }
cpu_ticks() { local t=0; for p in $(tree "$1"); do
  [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
listener_pid() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2 || true; }

GW_PGID="" SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  if [ -n "$GW_PGID" ] && kill -0 "$GW_PGID" 2>/dev/null; then
    say "stopping the gateway (process group $GW_PGID)"
    kill -TERM -- "-$GW_PGID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 -- "-$GW_PGID" 2>/dev/null || break; sleep 0.5; done
    if kill -0 -- "-$GW_PGID" 2>/dev/null; then
      say "the gateway did not exit within 15 s of SIGTERM: SIGKILL"
      kill -KILL -- "-$GW_PGID" 2>/dev/null || true
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "# gateway bench $STAMP RUNS=$RUNS DUR=${DUR}s WARM=${WARM}s CONNS=$CONNS ENTERPRISES=$ENTERPRISES pool=$POOL host=$(nproc) cores references: $REFERENCES"
log "# machine: $(uname -r), $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); node $(node --version); $(psql -d postgres -Atc 'show server_version' 2>/dev/null | sed 's/^/PostgreSQL /')"
log "# repo: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (working tree as checked out)"

# (a) shared setup: wrk, floor deps, Node 22 + PostGraphile, benchdb ---------------------------
if [ "${SKIP_SETUP:-0}" != 1 ]; then say "setup ($SHARED_BENCH/setup.sh)"; bash "$SHARED_BENCH/setup.sh" >&2; fi
command -v wrk >/dev/null || { echo "wrk missing: run $SHARED_BENCH/setup.sh" >&2; exit 1; }

# The gateway's harness: a copy of the shared one whose wrk script and preflight use the
# gateway's key scheme (bench/lib/gateway.lua, bench/lib/preflight.mjs); run.sh is unchanged.
H=$W/harness
rm -rf "$H" && mkdir -p "$H/lib"
cp "$SHARED_BENCH/run.sh" "$H/" && cp "$SHARED_BENCH"/lib/* "$H/lib/"
cp "$HERE/lib/gateway.lua" "$H/lib/graphql.lua" && cp "$HERE/lib/preflight.mjs" "$HERE/lib/uscc.mjs" "$H/lib/"
chmod u+w -R "$H" && chmod +x "$H/run.sh"

# (b) fresh database ----------------------------------------------------------------------------
if [ "${REUSE_DB:-0}" != 1 ] && [ "${CSV_ONLY:-0}" != 1 ]; then
  say "fresh database $BENCH_DB"
  psql -d postgres -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB"
fi

# (c) CSVs, reused when written with the same parameters by the same generator code -------------
CSV=$W/gateway-csv/n$ENTERPRISES
params="enterprises=$ENTERPRISES districts=beijing keys=gb32100 seed=default generator=$(cat "$ROOT"/src/demo/syntheticData.ts "$ROOT"/src/demo/benchDataset.ts "$ROOT"/src/demo/writeBenchCsv.ts | sha256sum | cut -c1-16)"
if [ "$(cat "$CSV/params" 2>/dev/null)" = "$params" ] && [ -s "$CSV/enterprises.csv" ] && [ -s "$CSV/enterprise_licenses.csv" ]; then
  say "reusing $CSV ($params)"
else
  say "writing the bench CSVs to $CSV"
  rm -rf "$CSV" && mkdir -p "$CSV"
  (cd "$ROOT" && npx tsx src/demo/writeBenchCsv.ts "$CSV" "$ENTERPRISES" --districts=beijing --keys=gb32100) | tee -a "$OUT" >&2
  echo "$params" > "$CSV/params"
fi
ENT_ROWS=$(($(wc -l < "$CSV/enterprises.csv") - 1))
LIC_ROWS=$(($(wc -l < "$CSV/enterprise_licenses.csv") - 1))
log "# data set: $ENT_ROWS enterprises ($(du -m "$CSV/enterprises.csv" | cut -f1) MB CSV), $LIC_ROWS licences ($(du -m "$CSV/enterprise_licenses.csv" | cut -f1) MB CSV)"
[ "${CSV_ONLY:-0}" = 1 ] && exit 0

# (d) the gateway -------------------------------------------------------------------------------
if [ -n "$(listener_pid "$PORT")" ]; then echo "port $PORT is already in use (pid $(listener_pid "$PORT")); set GATEWAY_PORT" >&2; exit 1; fi
say "starting the gateway on :$PORT (log $W/gateway.log)"
# setsid: own process group (npm -> sh -> node), stopped as a whole by cleanup().
log "# gateway command: ${GATEWAY_CMD:-npm start}"
(cd "$ROOT" && exec setsid env DATABASE_URL="$DB_URL" PORT="$PORT" HOST=127.0.0.1 DEMO_LOAD=false LOG_LEVEL=warn \
  NODE_ENV=production GATEWAY_MODE=development DATABASE_POOL_SIZE="$POOL" bash -c "${GATEWAY_CMD:-npm start}") > "$W/gateway.log" 2>&1 &
GW_PGID=$!
# (npm start compiles first: `prestart` runs the TypeScript build, so allow for it)
for i in $(seq 1 600); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break
  kill -0 "$GW_PGID" 2>/dev/null || { echo "the gateway exited; see $W/gateway.log:" >&2; tail -30 "$W/gateway.log" >&2; exit 1; }
  [ "$i" = 600 ] && { echo "gateway not ready after 300 s; see $W/gateway.log" >&2; exit 1; }
  sleep 0.5
done
GW_PID=$(listener_pid "$PORT")
[ -n "$GW_PID" ] || { echo "no process listens on :$PORT" >&2; exit 1; }
log "# gateway: listening pid $GW_PID ($(tr '\0' ' ' < "/proc/$GW_PID/cmdline" | cut -c1-120)), idle rss $(awk '/VmRSS/{printf "%.1fMB", $2/1024}' "/proc/$GW_PID/status")"

# (e) deliveries --------------------------------------------------------------------------------
deliver() { # name dataset-code file expected-rows
  local name=$1 code=$2 file=$3 expect=$4 enc c0 c1 res http secs rows peak_sampled
  enc=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$code")
  echo 0 > "$W/rss-peak"
  # the process tree's VmRSS every 0.2 s (VmHWM of the same tree is read at the end as well)
  ( m=0; while :; do r=$(mem_kb "$GW_PID" VmRSS); [ "$r" -gt "$m" ] && { m=$r; echo "$m" > "$W/rss-peak"; }; sleep 0.2; done ) &
  SAMPLER=$!
  c0=$(cpu_ticks "$GW_PID")
  say "delivering $file to $code"
  res=$(curl -sS -X POST -T "$file" -H 'Expect:' -H 'content-type: text/csv' -H 'x-dev-agency: HZ-SCJGJ' \
          -o "$W/delivery-$name.json" -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/datasets/$enc/deliveries")
  c1=$(cpu_ticks "$GW_PID")
  kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
  read -r http secs <<<"$res"
  rows=$(node -e 'try { const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(j.rowCount ?? j.delivery?.rowCount ?? "")); } catch { }' "$W/delivery-$name.json")
  peak_sampled=$(cat "$W/rss-peak")
  log "delivery/$name http=$http rows=${rows:-?} secs=$secs rows/s=$(awk -v r="${rows:-0}" -v s="$secs" 'BEGIN{printf "%.0f", (s>0)?r/s:0}') peak_rss=$(awk -v k="$(mem_kb "$GW_PID" VmHWM)" 'BEGIN{printf "%.1fMB", k/1024}') peak_rss_sampled=$(awk -v k="$peak_sampled" 'BEGIN{printf "%.1fMB", k/1024}') server_cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz}')"
  if [ "$http" != 201 ] || [ "${rows:-}" != "$expect" ]; then
    echo "delivery of $name failed or incomplete (HTTP $http, rowCount ${rows:-?}, expected $expect):" >&2
    head -c 2000 "$W/delivery-$name.json" >&2; echo >&2; exit 1
  fi
}
if [ "${REUSE_DB:-0}" != 1 ]; then
  deliver enterprises "$ENT_CODE" "$CSV/enterprises.csv" "$ENT_ROWS"
  deliver licenses "$LIC_CODE" "$CSV/enterprise_licenses.csv" "$LIC_ROWS"
  say "VACUUM ANALYZE"
  psql -d "$BENCH_DB" -v ON_ERROR_STOP=1 -q -c 'VACUUM ANALYZE ds.enterprise' -c 'VACUUM ANALYZE ds.enterprise_license'
fi
got=$(psql -d "$BENCH_DB" -Atc 'SELECT (SELECT count(*) FROM ds.enterprise) || $$ $$ || (SELECT count(*) FROM ds.enterprise_license)')
log "# rows in $BENCH_DB: enterprises licences = $got; size $(psql -d "$BENCH_DB" -Atc "SELECT pg_size_pretty(pg_total_relation_size('ds.enterprise') + pg_total_relation_size('ds.enterprise_license'))") with indexes"
[ "$got" = "$ENT_ROWS $LIC_ROWS" ] || { echo "row counts differ from the CSVs ($ENT_ROWS $LIC_ROWS)" >&2; exit 1; }

# The peak RSS of the load phase must not include the delivery's: reset VmHWM to the current
# RSS (Linux: `echo 5 > /proc/PID/clear_refs`); the delivery peak is reported above.
for p in $(tree "$GW_PID"); do echo 5 > "/proc/$p/clear_refs" 2>/dev/null || true; done
log "# gateway rss before load $(awk -v k="$(mem_kb "$GW_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') (VmHWM reset)"

# Shape check: the replies should match the references' (Q2: 50 enterprises, ~150 licences).
node "$HERE/lib/shape.mjs" "$GQL" "$HERE/queries/gateway/q1.json" "$HERE/queries/gateway/q2.json" 2>&1 | tee -a "$OUT" >&2 || true
log "# reference shape (benchdb, 海淀区): $(psql -d benchdb -Atc "SELECT count(*) || ' licences of the first 50 enterprises' FROM enterprise_license WHERE uscc IN (SELECT uscc FROM enterprise WHERE district = '海淀区' ORDER BY uscc LIMIT 50)" 2>/dev/null || echo n/a)"

# (f) load: gateway and references, interleaved pass by pass -------------------------------------
gateway_runs() { # pass
  for q in q1 q2; do
    # A failing case (preflight: errors in the reply) is recorded and the bench goes on.
    "$H/run.sh" -d "$DUR" -w "$WARM" -c "$CONNS" -p "$GW_PID" -l "gateway/$q/run$1" "$GQL" "$HERE/queries/gateway/$q.json" 2>"$W/run.err" | tee -a "$OUT" ||
      { log "# gateway/$q/run$1 FAILED: $(head -c 300 "$W/run.err" | tr '\n' ' ')"; }
  done
}
reference_runs() { # the shared baselines.sh, one run per case and query; it appends to $OUT
  # shellcheck disable=SC2086
  RUNS=1 DUR=$DUR WARM=$WARM CONNS=$CONNS OUT=$OUT bash "$SHARED_BENCH/baselines.sh" $REFERENCES >&2
}
for pass in $(seq 1 "$RUNS"); do
  log "# pass $pass of $RUNS"
  if [ $((pass % 2)) = 1 ]; then gateway_runs "$pass"; reference_runs "$pass"; else reference_runs "$pass"; gateway_runs "$pass"; fi
done
log "# gateway after load: rss $(awk -v k="$(mem_kb "$GW_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') peak $(awk -v k="$(mem_kb "$GW_PID" VmHWM)" 'BEGIN{printf "%.1fMB", k/1024}')"

# (g) summary -----------------------------------------------------------------------------------
node "$HERE/lib/summary.mjs" "$OUT" | tee "$OUT.summary.md"
echo "raw lines: $OUT   summary: $OUT.summary.md" >&2
