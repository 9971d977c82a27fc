/*
 * Stripe Sync portal: the reconciliation's chart, drawn here in a few
 * lines of SVG (no library, nothing fetched: the page's
 * Content-Security-Policy allows scripts from this origin only, and no
 * inline style, so every colour and size is a class of app.css or a
 * presentation attribute, never a style attribute).
 *
 * One chart per currency: Stripe's total and Blnk's total of each day of
 * the period, two lines, the days that differ marked with a band and a
 * label.  Amounts are plotted as numbers (a picture need not be exact);
 * every figure the user reads as text stays the API's decimal string.
 *
 * window.StripeSyncChart.daily(doc, opts) returns a <figure>:
 *   opts.currency   "USD"
 *   opts.from, .to  the period, "YYYY-MM-DD" (to inclusive); null: the
 *                   first and last day of opts.days
 *   opts.days       [{day, stripe, blnk, match}] of this currency
 *   opts.width      the width to draw for, in CSS pixels
 *   opts.amount     fn("1234.5") -> "1,234.50": how an amount is shown
 *   opts.dayWords   fn("2026-11-03") -> "3 Nov"
 *   opts.title      the summary said by the SVG's <title> and aria-label
 */
(function () {
	"use strict";

	var NS = "http://www.w3.org/2000/svg";
	var DAY_MS = 86400000;

	function svg(doc, tag, attrs, text) {
		var e = doc.createElementNS(NS, tag), k;

		for (k in attrs || {})
			if (Object.prototype.hasOwnProperty.call(attrs, k) &&
			    attrs[k] !== null && attrs[k] !== undefined)
				e.setAttribute(k, String(attrs[k]));
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	function dayMs(d) {
		return Date.parse(d + "T00:00:00Z");
	}

	function dayOf(ms) {
		return new Date(ms).toISOString().slice(0, 10);
	}

	/* Every day from a to b, both included (at most 400: the API
	 * allows 366). */
	function span(a, b) {
		var out = [], t = dayMs(a), end = dayMs(b);

		if (isNaN(t) || isNaN(end) || end < t)
			return out;
		for (; t <= end && out.length < 400; t += DAY_MS)
			out.push(dayOf(t));
		return out;
	}

	function n(v) {
		var x = parseFloat(v);

		return isFinite(x) ? x : 0;
	}

	/* Round steps for an axis from lo to hi, about count of them. */
	function ticks(lo, hi, count) {
		var raw = (hi - lo) / count, p, step, out = [], t;

		p = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
		step = raw / p >= 5 ? 10 * p : raw / p >= 2 ? 5 * p :
		    raw / p >= 1 ? 2 * p : p;
		for (t = Math.floor(lo / step) * step; t <= hi + step / 2;
		    t += step)
			out.push(Math.abs(t) < step / 1e6 ? 0 : t);
		return { values: out, step: step };
	}

	/* A tick's label: whole units when the step allows. */
	function tickText(v, step, amount) {
		var d = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log(step) /
		    Math.LN10));

		return amount(v.toFixed(d));
	}

	function daily(doc, o) {
		var days = o.days || [], first, last, all, i, by = {};
		var W = Math.max(300, Math.min(900, Math.round(o.width || 600)));
		var H = W < 480 ? 240 : 280;
		var top = 44, bottom = 42, right = 14, left, pw, ph;
		var lo = 0, hi = 0, yt, fig, root, plot, x, y, diffs = [];
		var sPts = [], bPts = [], gap, rows, labels, lw, maxLab = 0;

		for (i = 0; i < days.length; i++)
			by[days[i].day] = days[i];
		first = o.from || (days.length ? days.map(function (d) {
			return d.day;
		}).sort()[0] : null);
		last = o.to || (days.length ? days.map(function (d) {
			return d.day;
		}).sort()[days.length - 1] : null);
		all = first && last ? span(first, last) : [];
		/* Days of activity outside the period (a payout's) still
		 * count. */
		days.forEach(function (d) {
			if (all.indexOf(d.day) === -1)
				all.push(d.day);
		});
		all.sort();
		all.forEach(function (d) {
			var r = by[d];

			if (!r)
				return;
			lo = Math.min(lo, n(r.stripe), n(r.blnk));
			hi = Math.max(hi, n(r.stripe), n(r.blnk));
		});
		if (lo === hi)
			hi = lo + 1;
		yt = ticks(lo, hi, 4);
		lo = Math.min(lo, yt.values[0]);
		hi = Math.max(hi, yt.values[yt.values.length - 1]);
		yt.values.forEach(function (v) {
			maxLab = Math.max(maxLab, tickText(v, yt.step,
			    o.amount).length);
		});
		left = Math.max(40, 8 + maxLab * 7);
		pw = W - left - right;
		ph = H - top - bottom;
		x = function (k) {
			return left + (all.length <= 1 ? pw / 2 :
			    k * pw / (all.length - 1));
		};
		y = function (v) {
			return top + ph - (v - lo) * ph / (hi - lo);
		};

		root = svg(doc, "svg", { viewBox: "0 0 " + W + " " + H,
		    width: W, height: H, role: "img", "aria-label": o.title,
		    class: "chart-svg", focusable: "false" });
		root.appendChild(svg(doc, "title", null, o.title));
		plot = svg(doc, "g", { class: "chart-grid" });
		root.appendChild(plot);

		/* The amount axis: gridlines with labels, zero stronger. */
		yt.values.forEach(function (v) {
			var yy = y(v).toFixed(1);

			plot.appendChild(svg(doc, "line", { x1: left, x2: W - right,
			    y1: yy, y2: yy, class: v === 0 ? "chart-zero" :
			    "chart-gridline" }));
			plot.appendChild(svg(doc, "text", { x: left - 6, y: yy,
			    dy: "0.32em", "text-anchor": "end",
			    class: "chart-tick" }, tickText(v, yt.step, o.amount)));
		});
		root.appendChild(svg(doc, "text", { x: 4, y: 14,
		    class: "chart-axis-title" }, o.currency + " a day"));

		/* The day axis: a label about every 70 px, the first and the
		 * last always, none closer than 56 px to another. */
		(function () {
			var every = Math.max(1, Math.ceil(all.length /
			    Math.max(1, Math.floor(pw / 70)))), k, at = -Infinity;
			var end = all.length - 1;

			root.appendChild(svg(doc, "line", { x1: left, x2: W - right,
			    y1: top + ph, y2: top + ph, class: "chart-axis" }));
			/* The first label starts at its day, the last ends at
			 * its day: their middles are some 20 px inside. */
			function mid(j) {
				return end === 0 ? x(j) : j === 0 ? x(j) + 20 :
				    j === end ? x(j) - 20 : x(j);
			}
			for (k = 0; k <= end; k++) {
				if (k !== end && (k % every !== 0 || mid(k) - at < 56 ||
				    mid(end) - mid(k) < 56))
					continue;
				at = mid(k);
				root.appendChild(svg(doc, "line", { x1: x(k), x2: x(k),
				    y1: top + ph, y2: top + ph + 4,
				    class: "chart-axis" }));
				root.appendChild(svg(doc, "text", { x: x(k),
				    y: top + ph + 17, "text-anchor": k === 0 &&
				    end > 0 ? "start" : k === end && end > 0 ? "end" :
				    "middle", class: "chart-tick" },
				    o.dayWords(all[k])));
			}
			root.appendChild(svg(doc, "text", { x: left + pw / 2,
			    y: H - 4, "text-anchor": "middle",
			    class: "chart-axis-title" }, "Day (UTC)"));
		})();

		/* The days that differ: a band each, labelled above the plot
		 * with the day, on two rows when they crowd, or with a number
		 * (the list under the chart says which day) when even that
		 * is too tight. */
		all.forEach(function (d, k) {
			if (by[d] && by[d].match === false)
				diffs.push(k);
		});
		gap = Infinity;
		for (i = 1; i < diffs.length; i++)
			gap = Math.min(gap, x(diffs[i]) - x(diffs[i - 1]));
		lw = 46;
		rows = gap >= lw ? 1 : gap >= lw / 2 ? 2 : 0;
		labels = [];
		diffs.forEach(function (k, j) {
			var d = all[k], r = by[d], bw, g, lx, ly;

			bw = Math.max(8, all.length > 1 ? pw / (all.length - 1) *
			    0.8 : 16);
			g = svg(doc, "g", { class: "chart-diff", "data-day": d });
			g.appendChild(svg(doc, "title", null, o.dayWords(d) +
			    ": Stripe " + o.amount(r.stripe) + ", Blnk " +
			    o.amount(r.blnk) + " " + o.currency));
			g.appendChild(svg(doc, "rect", { x: (x(k) - bw / 2)
			    .toFixed(1), y: top, width: bw.toFixed(1), height: ph,
			    class: "chart-diff-band" }));
			lx = Math.min(Math.max(x(k), left + 12), W - right - 12);
			ly = rows === 2 && j % 2 ? top - 20 : top - 6;
			g.appendChild(svg(doc, "text", { x: lx.toFixed(1), y: ly,
			    "text-anchor": "middle", class: "chart-diff-label" },
			    rows ? o.dayWords(d) : String(j + 1)));
			labels.push(g);
		});

		/* The two series; points when there is room to see them. */
		all.forEach(function (d, k) {
			var r = by[d] || { stripe: "0", blnk: "0" };

			sPts.push(x(k).toFixed(1) + "," + y(n(r.stripe)).toFixed(1));
			bPts.push(x(k).toFixed(1) + "," + y(n(r.blnk)).toFixed(1));
		});
		labels.forEach(function (g) {
			root.appendChild(g);
		});
		root.appendChild(svg(doc, "polyline", { points: sPts.join(" "),
		    class: "chart-line chart-stripe" }));
		root.appendChild(svg(doc, "polyline", { points: bPts.join(" "),
		    class: "chart-line chart-blnk" }));
		if (all.length <= 62)
			all.forEach(function (d, k) {
				var r = by[d] || { stripe: "0", blnk: "0" };
				var yb = y(n(r.blnk));

				root.appendChild(svg(doc, "circle", { cx: x(k)
				    .toFixed(1), cy: y(n(r.stripe)).toFixed(1), r: 3,
				    class: "chart-dot chart-stripe" }));
				root.appendChild(svg(doc, "rect", { x: (x(k) - 2.5)
				    .toFixed(1), y: (yb - 2.5).toFixed(1), width: 5,
				    height: 5, class: "chart-dot chart-blnk" }));
			});

		fig = doc.createElement("figure");
		fig.className = "chart";
		fig.setAttribute("data-currency", o.currency);
		fig.appendChild(root);
		return { figure: fig, differing: diffs.map(function (k) {
			return all[k];
		}), numbered: rows === 0 };
	}

	window.StripeSyncChart = { daily: daily, span: span };
})();
