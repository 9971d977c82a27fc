-- mixed.lua: the memory run.  Launch, context, a proxied read and a
-- duplicate install callback in turn.  From the environment:
-- BENCH_TOKEN_FILE (a file holding a portal session token), BENCH_LAUNCH
-- (the launch route), BENCH_LAUNCH_BODY, BENCH_CALLBACK (the callback
-- route) and BENCH_DUP_BODY.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local function slurp(path)
	local f = assert(io.open(path, "r"))
	local s = f:read("*l")
	f:close()
	return s
end

local reqs, i

function init(args)
	local auth = { Authorization = "Bearer " ..
	    slurp(os.getenv("BENCH_TOKEN_FILE")) }
	local json = { ["Content-Type"] = "application/json" }
	reqs = {
		wrk.format("POST", os.getenv("BENCH_LAUNCH"), json,
		    os.getenv("BENCH_LAUNCH_BODY")),
		wrk.format("GET", "/api/v1/context", auth),
		wrk.format("GET", "/api/v1/ledgers", auth),
		wrk.format("POST", os.getenv("BENCH_CALLBACK"), json,
		    os.getenv("BENCH_DUP_BODY")),
	}
	i = 0
end

request = function()
	i = i % #reqs + 1
	return reqs[i]
end
