-- installs.lua: install callbacks, each a new install with its own
-- idempotency key and api key, as Cloud sends them.  BENCH_PATH is the
-- callback route; BENCH_TAG (letters and digits) keeps the ids of one
-- run apart from another's.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local n = 0
local path = os.getenv("BENCH_PATH")
local tag = os.getenv("BENCH_TAG") or "x"
local headers = { ["Content-Type"] = "application/json" }

request = function()
	n = n + 1
	local id = string.format("instapp_%s_%d_%d", tag, tid, n)
	local body = string.format('{"installed_app_id":"%s",' ..
	    '"app_id":"app_bench","instance_id":"inst_%s_%d_%d",' ..
	    '"api_key":"blnk_bench_%s_%d_%d_0123456789abcdef",' ..
	    '"api_key_prefix":"blnk_benc",' ..
	    '"granted_permissions":["data:read","data:write"],' ..
	    '"idempotency_key":"install:%s"}',
	    id, tag, tid, n, tag, tid, n, id)
	return wrk.format("POST", path, headers, body)
end
