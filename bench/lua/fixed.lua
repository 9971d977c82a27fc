-- fixed.lua: the same request every time.  From the environment:
-- BENCH_METHOD (GET), BENCH_PATH, BENCH_BODY (a JSON body, or empty) and
-- BENCH_TOKEN_FILE (a file holding a portal session token, or empty).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local function slurp(path)
	local f = assert(io.open(path, "r"))
	local s = f:read("*l")
	f:close()
	return s
end

wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH")
local tf = os.getenv("BENCH_TOKEN_FILE") or ""
if tf ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. slurp(tf)
end
local body = os.getenv("BENCH_BODY") or ""
if body ~= "" then
	wrk.body = body
	wrk.headers["Content-Type"] = "application/json"
end
