-- Prints bench_uscc_of(i) of lib/gateway.lua for each i given on the command line, one per line,
-- so the Lua keys can be compared with enterpriseUscc(i) of src/demo/syntheticData.ts:
--   luajit bench/lib/check-keys.lua 1 2 999999 ... | diff - <(npx tsx -e '…enterpriseUscc…')
-- (bench/check-keys.sh does exactly that.)
wrk = { format = function() return "" end }
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
dofile(dir .. "/gateway.lua")
for _, a in ipairs(arg) do print(bench_uscc_of(tonumber(a))) end
