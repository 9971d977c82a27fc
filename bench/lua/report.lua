-- report.lua: what bench/run reads of a wrk run, as one line at its end.
-- Every scenario script loads it (dofile); times are in microseconds.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("WRK requests=%d duration_us=%d p50_us=%d " ..
	    "p99_us=%d errors=%d non2xx=%d\n", summary.requests,
	    summary.duration, latency:percentile(50), latency:percentile(99),
	    e.connect + e.read + e.write + e.timeout, e.status))
end
