#!/usr/bin/env bash
# The project's benchmark, in one command (`npm run bench`; see bench/README.md):
#   (a) the shared harness's setup (wrk, reference servers, benchdb)
#   (b) a fresh database $BENCH_DB for the gateway
#   (c) the bench data set as CSV (1,000,000 enterprises, ~3M licences; reused when unchanged)
#   (d) the gateway with the access path on (`npm start`: builds, then runs dist/) on :4100,
#       waited for on /readyz; development tokens (`npm run token`) for the source department
#       HZ-SCJGJ (source_approver) and the consuming agency HZ-GAJ (purpose claim bench-q)
#   (e) both CSVs delivered through POST /datasets/<code>/deliveries as HZ-SCJGJ: rows/s, peak RSS, CPU
#   (e2) HZ-SCJGJ's grants to HZ-GAJ for purpose bench-q on both datasets (issueGrant over HTTP;
#       skipped when grants covering the bench's fields exist), then a second gateway with the
#       access path off (ACCESS_ENFORCE=false) on :4101, same database
#   (f) Q1 and Q2 against gateway (access on, as HZ-GAJ with its token), gateway-noaccess
#       (anonymous) and the reference servers floor-lean and PostGraphile v5, interleaved pass
#       by pass with the shared harness's measurement (run.sh + wrk)
#   (g) a summary table with the ratios against the targets; raw lines in $OUT
#
# Knobs (environment):
#   RUNS=4           passes; each pass runs every case × query once (gateway, gateway-noaccess,
#                    floor-lean, postgraphile)
#   DUR=10 WARM=3    measured / warm-up seconds per run          CONNS=32  wrk connections
#   ENTERPRISES=1000000   size of the gateway's data set (licences: 1-5 each, mean 3)
#   REFERENCES="floor-lean postgraphile"   reference cases of the shared baselines.sh
#   SHARED_BENCH=<repo>/../shared/bench    the shared harness     BENCH_WORK=/tmp/bench-work
#   BENCH_DB=hzgw_bench (hzgw_bench_n<ENTERPRISES> when ENTERPRISES is not 1000000, so a dry run
#                    never drops the loaded 1M database)   DATABASE_POOL_SIZE=10 (same pool as the references)
#   GATEWAY_PORT=4100 (access on)   GATEWAY_NOACCESS_PORT=4101 (access off)   NOACCESS=0 skips that case
#   RATE_LIMIT_PER_AGENCY=100000000  the limiter stays on (its cost is measured) but never refuses
#   AUDIT_HASH_KEY   access-record key (default: 32 random bytes kept in $BENCH_WORK/audit-hash.key)
#   AUTH_DEV_KEY_DIR=$BENCH_WORK/dev-keys   development signing key of the gateways and `npm run token`
#   REUSE_DB=1       skip (b) and (e): serve the already loaded $BENCH_DB (for iterating on the
#                    load phase only; the delivery figures are then missing)
#   CSV_ONLY=1       only (a) and (c): prepare the CSVs, then stop
#   SKIP_SETUP=1     skip (a) (when setup.sh already ran on this machine)
#   GATEWAY_CMD="npm start"   how the gateway is started (from the repo root, with the env above);
#                    e.g. "npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/src/main.js" for a
#                    CPU profile, written when the gateway exits at the end (node refuses --cpu-prof in NODE_OPTIONS)
#   GATEWAY_NOACCESS_CMD   the same for the access-off gateway; default "npm start --ignore-scripts"
#                    (npm start without its prestart build: dist/ was just built), or GATEWAY_CMD when set
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
if [ "$ENTERPRISES" = 1000000 ]; then BENCH_DB=${BENCH_DB:-hzgw_bench}; else BENCH_DB=${BENCH_DB:-hzgw_bench_n$ENTERPRISES}; fi
PORT=${GATEWAY_PORT:-4100}
PORT_OFF=${GATEWAY_NOACCESS_PORT:-4101}
NOACCESS=${NOACCESS:-1}
RATE_LIMIT=${RATE_LIMIT_PER_AGENCY:-100000000}
DEV_KEYS=${AUTH_DEV_KEY_DIR:-$BENCH_WORK/dev-keys}
GATEWAY_CMD=${GATEWAY_CMD:-} GATEWAY_NOACCESS_CMD=${GATEWAY_NOACCESS_CMD:-${GATEWAY_CMD:-npm start --ignore-scripts}}
GATEWAY_CMD=${GATEWAY_CMD:-npm start}
# The consuming agency the bench reads as, its declared purpose, and the grants' source department.
CONSUMER=HZ-GAJ SOURCE=HZ-SCJGJ PURPOSE=bench-q TOKEN_TTL=${TOKEN_TTL:-86400}
POOL=${DATABASE_POOL_SIZE:-10}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$W"
OUT=${OUT:-$W/results-gateway-$STAMP.txt}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGPASSWORD=${PGPASSWORD:-postgres}
DB_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
GQL="http://127.0.0.1:$PORT/graphql"
GQL_OFF="http://127.0.0.1:$PORT_OFF/graphql"
ENT_CODE='3.44.13.002/00000001' LIC_CODE='3.44.13.002/00000002'
export BENCH_ENTERPRISES=$ENTERPRISES
# Tokens are passed per case (run.sh's TOKEN argument); one left in the environment would be
# sent to gateway-noaccess and the references as well.
unset BENCH_TOKEN

log() { echo "$*" | tee -a "$OUT"; }
say() { echo "== $*" >&2; }
tree() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" 2>/dev/null); do tree "$c"; done; }
mem_kb() { local t=0 v; for p in $(tree "$1"); do
  v=$(awk -v k="$2:" '$1==k{print $2}' "/proc/$p/status" 2>/dev/null || true); t=$((t + ${v:-0})); done; echo $t; }
cpu_ticks() { local t=0; for p in $(tree "$1"); do
  [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
listener_pid() { ss -ltnpH "sport = :$1" 2>/dev/null | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2 || true; }

GW_PGIDS="" SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  for pgid in $GW_PGIDS; do
    kill -0 "$pgid" 2>/dev/null || continue
    say "stopping a gateway (process group $pgid)"
    kill -TERM -- "-$pgid" 2>/dev/null || true
  done
  for pgid in $GW_PGIDS; do
    for _ in $(seq 1 30); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 -- "-$pgid" 2>/dev/null; then
      say "gateway process group $pgid did not exit within 15 s of SIGTERM: SIGKILL"
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "# gateway bench $STAMP RUNS=$RUNS DUR=${DUR}s WARM=${WARM}s CONNS=$CONNS ENTERPRISES=$ENTERPRISES db=$BENCH_DB pool=$POOL host=$(nproc) cores references: $REFERENCES"
log "# cases: gateway (access path on, :$PORT, as $CONSUMER with a token, purpose $PURPOSE, RATE_LIMIT_PER_AGENCY=$RATE_LIMIT)$([ "$NOACCESS" = 1 ] && echo ", gateway-noaccess (ACCESS_ENFORCE=false, :$PORT_OFF, anonymous)")"
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

# (d) the gateway (access path on), and the tokens --------------------------------------------
# Both gateways and `npm run token` share the development signing key in $DEV_KEYS; the access
# record key is fixed per $BENCH_WORK, so the chain of a reused database stays verifiable
# (`AUDIT_HASH_KEY=$(cat $BENCH_WORK/audit-hash.key) DATABASE_URL=… npm run audit:verify`).
mkdir -p "$DEV_KEYS"
if [ -z "${AUDIT_HASH_KEY:-}" ]; then
  [ -s "$W/audit-hash.key" ] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' > "$W/audit-hash.key"
  AUDIT_HASH_KEY=$(cat "$W/audit-hash.key")
fi
dev_token() { # agency roles [purpose] -> a JWT signed by the development key
  (cd "$ROOT" && GATEWAY_MODE=development AUTH_DEV_KEY_DIR="$DEV_KEYS" npm run --silent token -- \
    --agency "$1" --roles "$2" ${3:+--purpose "$3"} --ttl "$TOKEN_TTL")
}
say "tokens: $SOURCE (source_approver), $CONSUMER (consumer, purpose $PURPOSE), ttl ${TOKEN_TTL}s"
SOURCE_TOKEN=$(dev_token "$SOURCE" source_approver) || { echo "npm run token failed for $SOURCE" >&2; exit 1; }
CONSUMER_TOKEN=$(dev_token "$CONSUMER" consumer "$PURPOSE") || { echo "npm run token failed for $CONSUMER" >&2; exit 1; }

start_gateway() { # name port access-enforce command -> sets STARTED_PID (the listening process)
  local name=$1 port=$2 enforce=$3 cmd=$4 pgid i
  if [ -n "$(listener_pid "$port")" ]; then echo "port $port is already in use (pid $(listener_pid "$port")); set GATEWAY_PORT / GATEWAY_NOACCESS_PORT" >&2; exit 1; fi
  say "starting $name on :$port (ACCESS_ENFORCE=$enforce; log $W/$name.log)"
  log "# $name command: $cmd (ACCESS_ENFORCE=$enforce)"
  # setsid: own process group (npm -> sh -> node), stopped as a whole by cleanup().
  (cd "$ROOT" && exec setsid env DATABASE_URL="$DB_URL" PORT="$port" HOST=127.0.0.1 DEMO_LOAD=false LOG_LEVEL=warn \
    NODE_ENV=production GATEWAY_MODE=development DATABASE_POOL_SIZE="$POOL" ACCESS_ENFORCE="$enforce" \
    RATE_LIMIT_PER_AGENCY="$RATE_LIMIT" AUDIT_HASH_KEY="$AUDIT_HASH_KEY" AUTH_DEV_KEY_DIR="$DEV_KEYS" \
    bash -c "$cmd") > "$W/$name.log" 2>&1 &
  pgid=$!
  GW_PGIDS="$GW_PGIDS $pgid"
  # (npm start compiles first: `prestart` runs the TypeScript build, so allow for it)
  for i in $(seq 1 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    kill -0 "$pgid" 2>/dev/null || { echo "$name exited; see $W/$name.log:" >&2; tail -30 "$W/$name.log" >&2; exit 1; }
    [ "$i" = 600 ] && { echo "$name not ready after 300 s; see $W/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  STARTED_PID=$(listener_pid "$port")
  [ -n "$STARTED_PID" ] || { echo "no process listens on :$port" >&2; exit 1; }
  log "# $name: listening pid $STARTED_PID ($(tr '\0' ' ' < "/proc/$STARTED_PID/cmdline" | cut -c1-120)), idle rss $(awk '/VmRSS/{printf "%.1fMB", $2/1024}' "/proc/$STARTED_PID/status")"
}
start_gateway gateway "$PORT" true "$GATEWAY_CMD"
GW_PID=$STARTED_PID

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
  res=$(curl -sS -X POST -T "$file" -H 'Expect:' -H 'content-type: text/csv' -H "authorization: Bearer $SOURCE_TOKEN" \
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

# (e2) grants: HZ-SCJGJ issues HZ-GAJ a grant for purpose bench-q on each dataset, unless one
# covering the bench's fields is held already (a reused database keeps them) ---------------------
gql_source() { # body-json reply-file -> HTTP status
  curl -sS -X POST -H 'content-type: application/json' -H "authorization: Bearer $SOURCE_TOKEN" \
    --data-binary "$1" -o "$2" -w '%{http_code}' "$GQL"
}
http=$(gql_source "$(node "$HERE/lib/grants.mjs" list-body "$CONSUMER" "$PURPOSE")" "$W/grants-list.json")
[ "$http" = 200 ] || { echo "listing the grants failed (HTTP $http): $(head -c 1500 "$W/grants-list.json")" >&2; exit 1; }
missing=$(node "$HERE/lib/grants.mjs" missing "$W/grants-list.json" 2> >(tee -a "$OUT" >&2)) || { echo "listing the grants failed" >&2; exit 1; }
for code in $missing; do
  http=$(gql_source "$(node "$HERE/lib/grants.mjs" issue-body "$CONSUMER" "$PURPOSE" "$code")" "$W/grant-issue.json")
  issued=$(node "$HERE/lib/grants.mjs" issued "$W/grant-issue.json") && [ "$http" = 200 ] ||
    { echo "issueGrant for $code failed (HTTP $http): $(head -c 1500 "$W/grant-issue.json")" >&2; exit 1; }
  log "# grant issued by $SOURCE to $CONSUMER for $PURPOSE: id $issued"
done
[ -n "$missing" ] || log "# grants: $CONSUMER already holds grants for $PURPOSE covering the bench's fields"

# (d2) the same gateway with the access path off, on the same database ----------------------------
GW_OFF_PID=""
if [ "$NOACCESS" = 1 ]; then
  start_gateway gateway-noaccess "$PORT_OFF" false "$GATEWAY_NOACCESS_CMD"
  GW_OFF_PID=$STARTED_PID
fi

# The peak RSS of the load phase must not include the delivery's: reset VmHWM to the current
# RSS (Linux: `echo 5 > /proc/PID/clear_refs`); the delivery peak is reported above.
for p in $(tree "$GW_PID") ${GW_OFF_PID:+$(tree "$GW_OFF_PID")}; do echo 5 > "/proc/$p/clear_refs" 2>/dev/null || true; done
log "# gateway rss before load $(awk -v k="$(mem_kb "$GW_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') (VmHWM reset)"
[ -n "$GW_OFF_PID" ] && log "# gateway-noaccess rss before load $(awk -v k="$(mem_kb "$GW_OFF_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') (VmHWM reset)"

# Shape check: the replies should match the references' (Q2: 50 enterprises, ~150 licences);
# with the access path on, legalRepresentative and legalRepIdNumber come back masked.
node "$HERE/lib/shape.mjs" "$GQL" "$HERE/queries/gateway/q1.json" "$HERE/queries/gateway/q2.json" "$CONSUMER_TOKEN" gateway 2>&1 | tee -a "$OUT" >&2 || true
[ -n "$GW_OFF_PID" ] && { node "$HERE/lib/shape.mjs" "$GQL_OFF" "$HERE/queries/gateway/q1.json" "$HERE/queries/gateway/q2.json" "" gateway-noaccess 2>&1 | tee -a "$OUT" >&2 || true; }
log "# reference shape (benchdb, 海淀区): $(psql -d benchdb -Atc "SELECT count(*) || ' licences of the first 50 enterprises' FROM enterprise_license WHERE uscc IN (SELECT uscc FROM enterprise WHERE district = '海淀区' ORDER BY uscc LIMIT 50)" 2>/dev/null || echo n/a)"

# Page cache: a database just loaded (and benchdb, after a while) may be partly out of the OS
# cache, and a cold first run then waits on the disk (seen: 63-87% iowait in the first Q1 run after
# the deliveries). Both databases' tables and indexes are read once (pg_prewarm 'read' mode: into
# the OS cache, not shared_buffers), so every case starts from the same warm cache.
prewarm() { # database
  psql -d "$1" -v ON_ERROR_STOP=1 -Atq -c 'CREATE EXTENSION IF NOT EXISTS pg_prewarm' \
    -c "SELECT pg_size_pretty(sum(pg_prewarm(c.oid, 'read')) * current_setting('block_size')::bigint) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'i', 't', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relpersistence = 'p'" \
    -c 'DROP EXTENSION pg_prewarm' 2>&1 | tail -1
}
for db in "$BENCH_DB" benchdb; do log "# page cache warmed: $db, $(prewarm "$db") read"; done

# Checkpoint: the load and its VACUUM leave ~2 GB of pages dirty, which the checkpoint that the
# load's WAL started writes out during the first runs. Its fsyncs then made the access records'
# commits (WAL fsyncs on the same disk) wait: the first Q2 run after a fresh load had a p99 of
# 1.1-2.1 s in four runs out of four (2026-11-28), the later ones 180-290 ms. An immediate
# checkpoint here finishes that work before anything is measured.
t0=$(date +%s.%N)
psql -d "$BENCH_DB" -v ON_ERROR_STOP=1 -q -c 'CHECKPOINT'
log "# checkpoint before the load phase: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

# (f) load: gateway and references, interleaved pass by pass -------------------------------------
gateway_runs() { # case pid url pass [token]
  local name=$1 pid=$2 url=$3 pass=$4 token=${5:-} q
  for q in q1 q2; do
    # A failing case (preflight: errors in the reply) is recorded and the bench goes on.
    "$H/run.sh" -d "$DUR" -w "$WARM" -c "$CONNS" -p "$pid" -l "$name/$q/run$pass" "$url" "$HERE/queries/gateway/$q.json" ${token:+"$token"} 2>"$W/run.err" | tee -a "$OUT" ||
      { log "# $name/$q/run$pass FAILED: $(head -c 600 "$W/run.err" | tr '\n' ' ')"; }
  done
}
gateway_on() { gateway_runs gateway "$GW_PID" "$GQL" "$1" "$CONSUMER_TOKEN"; }
gateway_off() { [ -z "$GW_OFF_PID" ] || gateway_runs gateway-noaccess "$GW_OFF_PID" "$GQL_OFF" "$1"; }
chain_seq() { psql -d "$BENCH_DB" -Atc 'SELECT seq FROM access_chain_head WHERE id = 1' 2>/dev/null || echo 0; }
reference_runs() { # the shared baselines.sh, one run per case and query; it appends to $OUT
  # shellcheck disable=SC2086
  RUNS=1 DUR=$DUR WARM=$WARM CONNS=$CONNS OUT=$OUT bash "$SHARED_BENCH/baselines.sh" $REFERENCES >&2
}
# Odd passes: gateway, gateway-noaccess, references; even passes the other way round, so drift
# hits every side alike.
seq0=$(chain_seq)
for pass in $(seq 1 "$RUNS"); do
  log "# pass $pass of $RUNS"
  if [ $((pass % 2)) = 1 ]; then gateway_on "$pass"; gateway_off "$pass"; reference_runs "$pass"
  else reference_runs "$pass"; gateway_off "$pass"; gateway_on "$pass"; fi
done
sleep 1 # the access-record writer's last group commit
seq1=$(chain_seq)
log "# access records: $((${seq1:-0} - ${seq0:-0})) written during the passes (chain head seq $seq0 -> $seq1; includes warm-ups and preflights)"
log "# gateway after load: rss $(awk -v k="$(mem_kb "$GW_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') peak $(awk -v k="$(mem_kb "$GW_PID" VmHWM)" 'BEGIN{printf "%.1fMB", k/1024}')"
[ -n "$GW_OFF_PID" ] && log "# gateway-noaccess after load: rss $(awk -v k="$(mem_kb "$GW_OFF_PID" VmRSS)" 'BEGIN{printf "%.1fMB", k/1024}') peak $(awk -v k="$(mem_kb "$GW_OFF_PID" VmHWM)" 'BEGIN{printf "%.1fMB", k/1024}')"

# (g) summary -----------------------------------------------------------------------------------
node "$HERE/lib/summary.mjs" "$OUT" | tee "$OUT.summary.md"
echo "raw lines: $OUT   summary: $OUT.summary.md" >&2
