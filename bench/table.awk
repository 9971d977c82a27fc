# table.awk: bench/run's table from its results file.
#
# Input lines, in the order they were measured:
#   NAME rps p50_us p99_us cpu_us_per_req requests errors non2xx
#   proxied_conns NEW_CONNECTIONS UPSTREAM_REQUESTS STUB_TICKS CLK_TCK
# Every app scenario follows a "fcgi" line of the same round: its ratio is
# to that floor.  "static" is followed by one, and is compared with it too.
# Variables: mem_warm, m0, mem_after (KiB), memdone (requests), workers.

function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function add(name, field, v) {
	k = name SUBSEP field
	cnt[k]++
	val[k, cnt[k]] = v
}

function med(name, field,    i, a) {
	k = name SUBSEP field
	if (!(k in cnt))
		return -1
	for (i = 1; i <= cnt[k]; i++)
		a[i] = val[k, i]
	return median(a, cnt[k])
}

$1 == "proxied_conns" {
	newconns += $2; upreqs += $3
	if (NF >= 5 && $5 > 0) stubus += $4 / $5 * 1e6
	next
}
{
	add($1, "rps", $2); add($1, "p50", $3 / 1000); add($1, "p99", $4 / 1000)
	add($1, "cpu", $5); add($1, "req", $6)
	if ($1 == "fcgi") {
		floor = $2
		if (pending_static != "")
			add("static", "ratio", pending_static / floor)
		pending_static = ""
	} else if ($1 == "static") {
		pending_static = $2
	} else if (floor > 0) {
		add($1, "ratio", $2 / floor)
	}
	if (!($1 in seen)) { seen[$1] = 1; order[++norder] = $1 }
}

function verdict(ok) { return ok ? "PASS" : "MISS" }

END {
	title["static"] = "floor: nginx, fixed body"
	title["fcgi"] = "floor: libfcgi program, fixed body"
	title["launch"] = "launch (POST /api/portal/...)"
	title["context"] = "GET /api/v1/context"
	title["proxied"] = "proxied read (GET /api/v1/ledgers)"
	title["installs"] = "install callbacks, new keys"
	title["duplicate"] = "install callback, redelivered"
	want["launch"] = 0.8; want["context"] = 0.85; want["proxied"] = 0.5

	printf "%-36s %9s %8s %8s %9s %10s  %s\n", "median of the rounds",
	    "req/s", "p50 ms", "p99 ms", "x fcgi", "CPU us/req", "target"
	for (i = 1; i <= norder; i++) {
		s = order[i]
		r = med(s, "ratio")
		t = ""
		if (s in want)
			t = sprintf(">= %.2fx  %s", want[s], verdict(r >= want[s]))
		else if (s == "installs")
			t = sprintf(">= 500/s, p99 <= 100 ms  %s",
			    verdict(med(s, "rps") >= 500 && med(s, "p99") <= 100))
		printf "%-36s %9.0f %8.2f %8.2f %9s %10.1f  %s\n", title[s],
		    med(s, "rps"), med(s, "p50"), med(s, "p99"),
		    s == "fcgi" ? "1.00" : (r < 0 ? "-" : sprintf("%.2f", r)),
		    med(s, "cpu"), t
	}
	print ""
	proxied = 0
	for (i = 1; i <= norder; i++)
		if (order[i] == "proxied")
			proxied = 1
	per = upreqs > 0 ? newconns / upreqs : -1
	if (!proxied)
		printf "%-52s %s\n", "new upstream connections per proxied " \
		    "request", "not measured (the proxied read is not in --only)"
	else
		printf "%-52s %s\n", "new upstream connections per proxied " \
		    "request", sprintf("%.4f (%d new over %d calls to Cloud)  " \
		    "target 0  %s", per, newconns, upreqs,
		    verdict(upreqs > 0 && newconns == 0))
	if (upreqs > 0)
		printf "%-52s %s\n", "the Cloud stub's CPU per proxied request",
		    sprintf("%.1f us (bench/cloud-stub.c; not in the pool's " \
		    "figure)", stubus / upreqs)
	growth = mem_after - m0
	printf "%-52s %s\n", "worker private memory (RssAnon, largest of " workers ")",
	    sprintf("%.2f MiB after warm-up, %.2f MiB after the rounds, " \
	    "%.2f MiB after %d more requests", mem_warm / 1024, m0 / 1024,
	    mem_after / 1024, memdone)
	printf "%-52s %s\n", "  growth over those " memdone " requests",
	    sprintf("%+d KiB (%+d KiB since warm-up)  target <= 4 MiB and " \
	    "no growth (<= 64 KiB)  %s", growth, mem_after - mem_warm,
	    verdict(mem_after <= 4096 && growth <= 64))
}
