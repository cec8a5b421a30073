-- wrk script for the gateway: the shared harness's lib/graphql.lua (../shared/bench/lib/graphql.lua)
-- with ONE difference, the key scheme of {{uscc}}. Request building, randomness and the
-- WRK_RESULT line are the same code, so the measurement is identical.
--   BENCH_QUERY_FILE  path to {"query": ..., "variables": {...}} (required)
--   BENCH_TOKEN       bearer token -> "Authorization: Bearer <token>" on every request, read once
--                     in init(). run.sh exports it from its TOKEN argument; bench/run-all.sh passes
--                     the consuming agency's token (HZ-GAJ, purpose claim bench-q) for the case
--                     `gateway` (access path on) and none for `gateway-noaccess` (access path off).
-- Placeholders substituted on every request:
--   {{uscc}}      a random existing enterprise key: enterpriseUscc(i) of src/demo/syntheticData.ts,
--                 i uniform in 1..BENCH_ENTERPRISES (default 1,000,000). The shared script's
--                 reference keys (91110000 + lpad(i, 9) + alphabet[i % 31]) fail the gateway's
--                 GB 32100 check, so the bench data set is keyed with valid credit codes instead.
--   {{district}}  one of the 16 districts, uniformly
--   {{i}}         the random enterprise number itself
-- done() prints one machine-readable line: "WRK_RESULT <req/s> <p50 ms> <p99 ms> <requests> <errors> <non2xx>"
local districts = { "东城区","西城区","朝阳区","丰台区","石景山区","海淀区","门头沟区","房山区",
                    "通州区","顺义区","昌平区","大兴区","怀柔区","平谷区","密云区","延庆区" }
local alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
local enterprises = tonumber(os.getenv("BENCH_ENTERPRISES") or "") or 1000000
local template, static_req, headers

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open BENCH_QUERY_FILE " .. tostring(path))
  local s = f:read("*a"); f:close(); return s
end

function init(args)
  template = read_file(os.getenv("BENCH_QUERY_FILE"))
  headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  if not template:find("{{", 1, true) then
    static_req = wrk.format("POST", nil, headers, template)
  end
end

-- GB 11714-1997 organisation code check: weights 3 7 9 10 5 8 4 2, c = 11 - (sum mod 11), 10 -> X, 11 -> 0.
local org_weights = { 3, 7, 9, 10, 5, 8, 4, 2 }
-- GB 32100-2015 check: weights 3^(k-1) mod 31, check = alphabet[(31 - sum mod 31) mod 31].
local uscc_weights = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28 }
local uscc_value = {}
for v = 1, #alphabet do uscc_value[alphabet:byte(v)] = v - 1 end

-- enterpriseUscc(i) of src/demo/syntheticData.ts: "91" + "441300" + lpad(i, 8) + org check + GB 32100 check.
local function uscc_of(i)
  local body = string.format("%08d", i)
  local sum = 0
  for k = 1, 8 do sum = sum + (body:byte(k) - 48) * org_weights[k] end
  local c = 11 - sum % 11
  local first17 = "91441300" .. body .. (c == 10 and "X" or c == 11 and "0" or tostring(c))
  sum = 0
  for k = 1, 17 do sum = sum + uscc_value[first17:byte(k)] * uscc_weights[k] end
  local v = (31 - sum % 31) % 31 + 1
  return first17 .. alphabet:sub(v, v)
end
bench_uscc_of = uscc_of -- exposed for bench/lib/check-keys.lua

function request()
  if static_req then return static_req end
  local i = math.random(1, enterprises)
  local body = template:gsub("{{uscc}}", uscc_of(i))
                       :gsub("{{district}}", districts[math.random(1, #districts)])
                       :gsub("{{i}}", tostring(i))
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("WRK_RESULT %.1f %.3f %.3f %d %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors, e.status))
end
