/*
 * Stripe Sync portal.  Plain JavaScript, no build step, no inline script
 * or style (the page's Content-Security-Policy allows only files from this
 * origin).  Every node is built with textContent: no data ever goes
 * through innerHTML.
 *
 * The session.  Cloud opens this page as https://HOST/?token=<launch
 * token>.  The token is taken out of the address bar before anything else
 * (so it is not kept in the history, a bookmark or a copied link) and kept
 * in this tab's sessionStorage, so that reloading the tab keeps the
 * session until it expires; a new tab, another site and a closed tab never
 * see it.  Never localStorage (it outlives the tab), never cookies
 * (unreliable in Cloud's iframe, and sent with every request).  When the
 * server says the session is over (expired, uninstalled, ...) or its
 * expiry passes, the token is deleted.  Every API call goes through api(),
 * which sends it as "Authorization: Bearer"; the server checks it on every
 * call.
 *
 * Screens are chosen by the address's fragment: #/, #/ledgers?page=2,
 * #/transactions/<id>, #/new, #/alerts/<id> ...
 */
(function () {
	"use strict";

	var doc = window.document;
	var STORE_KEY = "stripe-sync.session";

	/* What each scope allows, as Blnk Cloud describes it. */
	var SCOPES = [
		["data:read", "Read ledgers, balances, transactions and identities"],
		["data:write", "Create and update ledger data (import Stripe pay-ins and payouts)"],
		["alerts:read", "Read alerts"],
		["alerts:write", "Flag transactions and balances for review"]
	];

	var LAUNCH_AGAIN = "Launch the app again from Blnk Cloud.";

	/* Codes after which the session cannot be used again. */
	var ENDS_SESSION = ["MISSING_TOKEN", "SESSION_EXPIRED", "TOKEN_INVALID",
	    "APP_UNINSTALLED", "SESSION_REVOKED", "INSTALL_NOT_FOUND",
	    "INSTANCE_MISMATCH"];

	/* Error codes of the API (and of nginx's JSON error pages):
	 * [title, what happened and what to do, may be retried]. */
	var ERRORS = {
		MISSING_TOKEN: ["This page needs a launch link",
		    "Stripe Sync opens from Blnk Cloud, which gives it a " +
		    "one-time link. " + LAUNCH_AGAIN],
		SESSION_EXPIRED: ["Session expired",
		    "Your session has expired: launch the app again from " +
		    "Blnk Cloud."],
		TOKEN_INVALID: ["Invalid session",
		    "This launch link is not valid (it may have been copied " +
		    "incompletely or changed). " + LAUNCH_AGAIN],
		APP_UNINSTALLED: ["App uninstalled",
		    "Stripe Sync has been uninstalled from this instance. " +
		    "Install it again from Blnk Cloud to use it."],
		SESSION_REVOKED: ["Session ended",
		    "Stripe Sync was reinstalled after this session began. " +
		    LAUNCH_AGAIN],
		INSTALL_NOT_FOUND: ["Unknown installation",
		    "This session names an installation Stripe Sync does not " +
		    "know. " + LAUNCH_AGAIN],
		INSTANCE_MISMATCH: ["Wrong instance",
		    "This session belongs to a different Blnk instance than " +
		    "the installation it names. " + LAUNCH_AGAIN],
		MISSING_PERMISSION: ["Permission not granted",
		    "This installation was not granted the permission this " +
		    "needs. Reinstall the app from Blnk Cloud and grant it."],
		CLOUD_KEY_REVOKED: ["Instance unavailable",
		    "Blnk Cloud no longer accepts this installation's key: it " +
		    "was revoked, or the instance is unavailable. Reinstall " +
		    "the app from Blnk Cloud; if that does not help, ask your " +
		    "Blnk Cloud administrator about the instance.", true],
		CLOUD_FORBIDDEN: ["Instance unavailable",
		    "Blnk Cloud refused this installation access to the " +
		    "instance. Reinstall the app from Blnk Cloud; if that does " +
		    "not help, ask your Blnk Cloud administrator.", true],
		CLOUD_UNREACHABLE: ["Blnk Cloud cannot be reached",
		    "Stripe Sync could not reach Blnk Cloud. Nothing was " +
		    "changed. Try again in a minute.", true],
		CLOUD_TIMEOUT: ["Blnk Cloud did not answer in time",
		    "Blnk Cloud took too long to answer. Try again in a " +
		    "minute.", true],
		CLOUD_TLS: ["Blnk Cloud cannot be reached",
		    "The secure connection to Blnk Cloud failed. Try again " +
		    "later; if it persists, tell the app's operator.", true],
		CLOUD_RATE_LIMITED: ["Blnk Cloud is busy",
		    "Blnk Cloud asked Stripe Sync to slow down. Wait a few " +
		    "seconds, then try again.", true],
		CLOUD_ERROR: ["Blnk Cloud had a problem",
		    "Blnk Cloud could not answer this request. Try again in a " +
		    "minute.", true],
		CLOUD_ANSWER_TOO_LARGE: ["Answer too large",
		    "Blnk Cloud's answer was too large to show. Narrow the " +
		    "list with filters.", true],
		DATABASE_UNAVAILABLE: ["Stripe Sync is not answering",
		    "Stripe Sync could not read its records. Try again in a " +
		    "moment.", true],
		SERVICE_UNAVAILABLE: ["Stripe Sync is not answering",
		    "The Stripe Sync server is busy or restarting. Try again " +
		    "in a moment.", true],
		NETWORK: ["Cannot reach Stripe Sync",
		    "The request did not reach the Stripe Sync server. Check " +
		    "your connection and try again.", true],
		/* Stripe, the settings and the syncs. */
		STRIPE_KEY_INVALID: ["Stripe refused the key",
		    "Stripe does not accept this key. Check that you copied " +
		    "all of it, from the right Stripe account, and that it " +
		    "was not rolled or deleted; then paste it again."],
		STRIPE_PERMISSION: ["The key cannot read what the sync needs",
		    "This restricted key may not read the balance. In " +
		    "Stripe's dashboard, give it read access to the balance, " +
		    "balance transactions, charges, customers, disputes, " +
		    "payouts and refunds, or use a secret key."],
		STRIPE_UNREACHABLE: ["Stripe cannot be reached",
		    "Stripe Sync could not reach Stripe. Nothing was changed. " +
		    "Try again in a minute.", true],
		STRIPE_TIMEOUT: ["Stripe did not answer in time",
		    "Stripe took too long to answer. Nothing was changed. Try " +
		    "again in a minute.", true],
		STRIPE_RATE_LIMITED: ["Stripe is busy",
		    "Stripe asked Stripe Sync to slow down. Wait a few " +
		    "seconds, then try again.", true],
		STRIPE_ERROR: ["Stripe had a problem",
		    "Stripe could not answer this request, or answered " +
		    "something Stripe Sync cannot use. Try again in a minute.",
		    true],
		STRIPE_NOT_CONNECTED: ["Stripe is not connected",
		    "Connect a Stripe key on the Stripe screen first."],
		SYNC_IN_PROGRESS: ["A sync is already running",
		    "Only one sync runs at a time: wait for it to end, then " +
		    "start another."],
		JOB_IN_PROGRESS: ["Another job is running",
		    "A sync or a reconciliation of this installation is " +
		    "queued or running, and they run one at a time: wait for " +
		    "it to end, then start this one."],
		NOT_FOUND: ["Not found",
		    "There is nothing at this address: it may have been " +
		    "mistyped, or belong to another installation."],
		KIND_NOT_IMPORTED: ["Nothing to import",
		    "The settings turn off what this sync would import. Turn " +
		    "it on in Settings, or choose another kind of sync."],
		MODE_SWITCH_UNCONFIRMED: ["Confirm the switch",
		    "This key is of the other Stripe mode than the one this " +
		    "installation used. Confirm to switch."],
		START_DATE_LOCKED: ["The start date is fixed",
		    "The first sync has run from the saved start date, and an " +
		    "opening balance was posted for it: it cannot change now. " +
		    "Set the start date back to what it was."],
		INVALID_FIELD: ["Not accepted",
		    "A value was refused: fix the field marked, then try " +
		    "again."],
		UNKNOWN_FIELD: ["Not accepted",
		    "This version of Stripe Sync does not know a value that " +
		    "was sent. Reload the page, then try again."]
	};

	/* Codes whose server message says something the user needs (which
	 * run is active, which kind is off): shown before the next step. */
	var SHOW_MESSAGE = ["SYNC_IN_PROGRESS", "KIND_NOT_IMPORTED",
	    "START_DATE_LOCKED", "JOB_IN_PROGRESS"];

	var S = {
		token: null,
		ctx: null,
		expiresAt: 0,	/* this browser's clock, ms */
		timer: null,
		over: false,
		seq: 0,		/* bumped on every screen change */
		poll: null	/* the one refresh timer of a screen following a run */
	};

	function $(id) {
		return doc.getElementById(id);
	}

	/* --- the session ------------------------------------------------- */

	/* sessionStorage, or null where the browser refuses it (some
	 * sandboxed frames): the session then lasts as long as the page. */
	function storage() {
		try {
			return window.sessionStorage || null;
		} catch (e) {
			return null;
		}
	}

	function storeToken(t) {
		var s = storage();

		try {
			if (s !== null && t !== null)
				s.setItem(STORE_KEY, t);
			else if (s !== null)
				s.removeItem(STORE_KEY);
		} catch (e) {
			/* full or refused: memory only */
		}
	}

	function storedToken() {
		var s = storage();

		try {
			return s !== null ? s.getItem(STORE_KEY) : null;
		} catch (e) {
			return null;
		}
	}

	/*
	 * Take the token out of the address bar, keeping any other query
	 * parameters and the fragment.  Returns the token, "" for an empty
	 * one, or null if the address has none.
	 */
	function takeToken() {
		var params = new URLSearchParams(window.location.search);
		var t = params.get("token");
		var rest, url;

		if (!params.has("token"))
			return null;
		params.delete("token");
		rest = params.toString();
		url = window.location.pathname + (rest ? "?" + rest : "") +
		    window.location.hash;
		try {
			window.history.replaceState(null, "", url);
		} catch (e) {
			/* Some sandboxes forbid it; the token still works. */
		}
		return t || "";
	}

	/* The session is over: forget the token and say what to do. */
	function endSession(code, message, status) {
		S.over = true;
		S.token = null;
		storeToken(null);
		if (S.timer !== null)
			window.clearTimeout(S.timer);
		S.timer = null;
		stopPolling();
		$("nav").hidden = true;
		$("session").hidden = true;
		problem(code, message, status);
	}

	/* --- the API --------------------------------------------------- */

	/*
	 * Every call to the portal API: the bearer token, no cookies, no
	 * referrer.  Resolves (never rejects) to {ok, status, body, error},
	 * error being {code, message, field} when !ok.  A code that ends the
	 * session ends it here, whoever asked.
	 */
	function api(method, path, data) {
		var init = {
			method: method,
			headers: {
				"Authorization": "Bearer " + S.token,
				"Accept": "application/json"
			},
			cache: "no-store",
			credentials: "omit",
			referrerPolicy: "no-referrer"
		};

		if (data !== undefined) {
			init.headers["Content-Type"] = "application/json";
			init.body = JSON.stringify(data);
		}
		return window.fetch(path, init).then(function (res) {
			return res.text().then(function (text) {
				var body = null;

				try {
					body = text ? JSON.parse(text) : null;
				} catch (e) {
					body = null;
				}
				return answer(res.ok, res.status, body);
			});
		}, function () {
			return answer(false, 0, null);
		});
	}

	function answer(ok, status, body) {
		var r = { ok: ok, status: status, body: body, error: null };
		var err = body && body.error;

		if (ok)
			return r;
		if (err && typeof err === "object" && typeof err.code === "string")
			r.error = { code: err.code, message: err.message,
			    field: err.field };
		else if (status === 0)
			r.error = { code: "NETWORK" };
		else if (status === 502 || status === 503 || status === 504)
			r.error = { code: "SERVICE_UNAVAILABLE" };
		else
			r.error = { code: "HTTP_" + status };
		if (ENDS_SESSION.indexOf(r.error.code) !== -1 && !S.over)
			endSession(r.error.code, r.error.message, status);
		return r;
	}

	/* --- building the page ----------------------------------------- */

	/*
	 * el(tag, props, children...): an element.  props: "text" (its
	 * textContent), "class", "on<event>" (a listener), and anything else
	 * as an attribute (false/null/undefined leave it out).  Children are
	 * nodes or strings (text); arrays are flattened; null is skipped.
	 */
	function el(tag, props) {
		var e = doc.createElement(tag);
		var k, i;

		for (k in props || {}) {
			if (!Object.prototype.hasOwnProperty.call(props, k))
				continue;
			if (k === "text")
				e.textContent = props[k];
			else if (k === "class")
				e.className = props[k];
			else if (k.slice(0, 2) === "on")
				e.addEventListener(k.slice(2), props[k]);
			else if (props[k] === true)
				e.setAttribute(k, "");
			else if (props[k] !== false && props[k] !== null &&
			    props[k] !== undefined)
				e.setAttribute(k, String(props[k]));
		}
		for (i = 2; i < arguments.length; i++)
			add(e, arguments[i]);
		return e;
	}

	function add(e, c) {
		var i;

		if (c === null || c === undefined || c === false)
			return;
		if (Array.isArray(c)) {
			for (i = 0; i < c.length; i++)
				add(e, c[i]);
		} else if (typeof c === "string" || typeof c === "number")
			e.appendChild(doc.createTextNode(String(c)));
		else
			e.appendChild(c);
	}

	function show(section) {
		["loading", "problem", "context", "screen"].forEach(function (id) {
			$(id).hidden = (id !== section);
		});
	}

	function say(msg) {
		$("status").textContent = msg;
	}

	/* The text of an error code: [title, next step, retry?]. */
	function describe(err) {
		var e = ERRORS[err.code];

		if (err.code === "MISSING_PERMISSION" && err.message)
			return [e[0], "This installation was not granted what " +
			    "this needs (" + err.message + "). Reinstall the " +
			    "app from Blnk Cloud and grant it."];
		if (e && SHOW_MESSAGE.indexOf(err.code) !== -1 && err.message)
			return [e[0], sentence(err.message) + " " + e[1], e[2]];
		if (e)
			return e;
		return ["Something went wrong", (err.message ?
		    err.message + ". " : "") + "If this persists, launch the " +
		    "app again from Blnk Cloud.", false];
	}

	/* The whole-page state for a session that cannot go on. */
	function problem(code, serverMessage, status) {
		var d = describe({ code: code, message: serverMessage });

		$("problem-title").textContent = d[0];
		$("problem-text").textContent = d[1];
		$("problem-code").textContent = code ?
		    "Code: " + code + (status ? " (HTTP " + status + ")" : "") : "";
		show("problem");
		say(d[0] + ". " + d[1]);
	}

	/* A notice inside a screen: an error with its next step and, when
	 * trying again may help, a button that does. */
	function notice(err, status, retry) {
		var d = describe(err);

		return el("div", { class: "notice", role: "alert" },
		    el("h3", { text: d[0] }),
		    el("p", { text: d[1] }),
		    el("p", { class: "code", text: "Code: " + err.code +
			(status ? " (HTTP " + status + ")" : "") }),
		    d[2] && retry ? el("button", { type: "button",
			class: "button", onclick: retry, text: "Try again" }) :
			null);
	}

	/* --- scopes --------------------------------------------------- */

	/* "yes", "no" (requested, not granted: reinstall to grant) or
	 * "never" (the app does not ask for it: nothing to offer). */
	function can(scope) {
		var c = S.ctx || {};

		if ((c.granted_permissions || []).indexOf(scope) !== -1)
			return "yes";
		if ((c.not_granted_permissions || []).indexOf(scope) !== -1)
			return "no";
		return "never";
	}

	function needs(scope) {
		return "Needs " + scope + ": reinstall the app from Blnk " +
		    "Cloud and grant it.";
	}

	/* A screen the install may not use. */
	function locked(scope) {
		return el("div", { class: "notice locked" },
		    el("h3", { text: "Not available for this installation" }),
		    el("p", { text: needs(scope) }));
	}

	/* --- formatting ------------------------------------------------ */

	function str(v) {
		return v === null || v === undefined ? "" : String(v);
	}

	/* Minor units as a decimal at a power-of-ten precision, exactly
	 * (string arithmetic: amounts may exceed 2^53). */
	function money(minor, precision) {
		var s = str(minor), p = str(precision), neg = false, d, w;

		if (!/^-?[0-9]+$/.test(s) || !/^10*$/.test(p))
			return s;
		if (s.charAt(0) === "-") {
			neg = true;
			s = s.slice(1);
		}
		d = p.length - 1;
		while (s.length <= d)
			s = "0" + s;
		w = s.slice(0, s.length - d);
		return (neg ? "-" : "") + w + (d ? "." + s.slice(w.length) : "");
	}

	function txnAmount(t) {
		var v = t.precise_amount !== undefined ?
		    money(t.precise_amount, t.precision) : str(t.amount);

		return v + " " + str(t.currency);
	}

	function balanceAmount(b, field) {
		var p = b.precision || b.currency_multiplier;

		if (p && p > 1)
			return money(b[field], p) + " " + str(b.currency);
		return str(b[field]) + " " + str(b.currency) + " (minor units)";
	}

	function when(v) {
		var d = new Date(v);

		if (!v || isNaN(d.getTime()))
			return str(v);
		return d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/,
		    " UTC");
	}

	function badge(status) {
		var s = str(status);

		return el("span", { class: "badge badge-" +
		    s.toLowerCase().replace(/[^a-z]/g, ""), text: s || "?" });
	}

	/* A link to the detail screen of an id, when it names one. */
	function idLink(id) {
		var s = str(id), kind = null;

		if (/^bln_/.test(s))
			kind = "balances";
		else if (/^txn_/.test(s))
			kind = "transactions";
		else if (/^ldg_|^general_ledger_id$/.test(s))
			kind = "ledgers";
		if (kind === null || can("data:read") !== "yes")
			return el("span", { class: "mono", text: s || "none" });
		return el("a", { class: "mono", href: "#/" + kind + "/" +
		    encodeURIComponent(s), text: s });
	}

	/* --- the header and the overview ------------------------------- */

	function clock(ms) {
		var d = new Date(ms);

		return d.toLocaleTimeString([], { hour: "2-digit",
		    minute: "2-digit" });
	}

	/* Show the expiry; at the expiry, end the session here (the server
	 * would refuse the next call anyway). */
	function tick() {
		var left = S.expiresAt - Date.now(), min, text;

		S.timer = null;
		if (S.over)
			return;
		if (left <= 0) {
			endSession("SESSION_EXPIRED");
			return;
		}
		min = Math.ceil(left / 60000);
		text = "Session ends at " + clock(S.expiresAt) + " (in " +
		    (min === 1 ? "1 minute" : min + " minutes") + "); then " +
		    "launch the app again from Blnk Cloud.";
		$("session").textContent = text;
		$("session").className = "session" + (min <= 2 ? " soon" : "");
		$("session").hidden = false;
		$("expires").textContent = clock(S.expiresAt) + ", in " +
		    (min === 1 ? "1 minute" : min + " minutes") + ". Then " +
		    "launch the app again from Blnk Cloud.";
		if (min === 2)
			say("Your session ends in 2 minutes. Then launch the " +
			    "app again from Blnk Cloud.");
		S.timer = window.setTimeout(tick, Math.min(left,
		    (left % 60000) || 60000));
	}

	/* The nav: hide what the app never asks for, mark what is not
	 * granted, mark the current screen. */
	function renderNav(current) {
		var links = $("nav").getElementsByTagName("a");
		var i, a, scope, st;

		for (i = 0; i < links.length; i++) {
			a = links[i];
			scope = a.getAttribute("data-scope");
			st = scope ? can(scope) : "yes";
			a.parentNode.hidden = (st === "never");
			a.className = st === "no" ? "locked" : "";
			if (st === "no")
				a.setAttribute("title", needs(scope));
			else
				a.removeAttribute("title");
			if (a.getAttribute("data-screen") === current)
				a.setAttribute("aria-current", "page");
			else
				a.removeAttribute("aria-current");
		}
		$("nav").hidden = false;
	}

	function action(href, label, scope) {
		var st = scope ? can(scope) : "yes";

		if (st === "never")
			return null;
		if (st === "no")
			return el("span", { class: "action-off" },
			    el("span", { class: "button", "aria-disabled": "true",
				text: label }),
			    el("span", { class: "hint", text: needs(scope) }));
		return el("a", { class: "button", href: href, text: label });
	}

	function renderContext() {
		var ctx = S.ctx, list = $("permissions"), q = $("quick");
		var granted = ctx.granted_permissions || [];
		var missing = ctx.not_granted_permissions || [];
		var ignored = ctx.ignored_permissions || [];

		$("instance-id").textContent = str(ctx.instance_id);
		$("installed-app-id").textContent = str(ctx.installed_app_id);
		list.textContent = "";
		SCOPES.forEach(function (s) {
			var has = granted.indexOf(s[0]) !== -1;
			var asked = has || missing.indexOf(s[0]) !== -1;

			if (!asked)
				return;	/* never requested: nothing to offer */
			list.appendChild(el("li", { class: has ? "granted" :
			    "missing" },
			    el("span", { class: "scope", text: s[0] }),
			    el("span", { class: "state", text: has ? "Granted" :
				"Not granted" }),
			    el("span", { class: "what", text: s[1] +
				(has ? "" : ". Reinstall the app from Blnk " +
				"Cloud and grant it to use this.") })));
		});
		$("ignored").hidden = ignored.length === 0;
		$("ignored").textContent = ignored.length === 0 ? "" :
		    "Also granted, but not used by this app: " +
		    ignored.join(", ") + ".";
		q.textContent = "";
		add(q, [action("#/syncs", "Syncs", "data:read"),
		    action("#/reconciliations", "Reconcile", "data:read"),
		    action("#/problems", "Problems", "data:read"),
		    action("#/transactions", "Transactions", "data:read"),
		    action("#/new", "New transaction", "data:write"),
		    action("#/alerts", "Alerts", "alerts:read")]);
	}

	/* --- lists ------------------------------------------------------ */

	var ID_RE = /^[A-Za-z0-9_.:-]{1,256}$/;
	var PARTY_RE = /^@?[A-Za-z0-9_.:-]{1,256}$/;
	var CURRENCY_RE = /^[A-Z0-9_]{1,16}$/;
	var DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
	var TXN_STATUSES = ["QUEUED", "APPLIED", "REJECTED", "INFLIGHT",
	    "VOID", "COMMIT", "SCHEDULED"];

	/* Filters: the parameter in the fragment, its label, the API's
	 * filter, and the check of its value (mirroring api-data.c). */
	function idFilter(name, label, api) {
		return { name: name, label: label, api: api, check: ID_RE,
		    bad: "letters, digits and _ . : - only" };
	}
	var FROM = { name: "from", label: "Created from", api: "created_at_gte",
	    type: "date", check: DATE_RE, bad: "a date", suffix: "T00:00:00Z" };
	var TO = { name: "to", label: "Created until", api: "created_at_lte",
	    type: "date", check: DATE_RE, bad: "a date", suffix: "T23:59:59Z" };
	var CURRENCY = { name: "currency", label: "Currency", api: "currency_eq",
	    check: CURRENCY_RE, bad: "capital letters and digits, e.g. USD",
	    upper: true };

	var LISTS = {
		ledgers: {
			title: "Ledgers", idKey: "ledger_id", noun: "ledgers",
			filters: [
				{ name: "name", label: "Name", api: "name_eq",
				    check: /^[^\x00-\x1f\x7f]{1,128}$/,
				    bad: "at most 128 characters" },
				idFilter("ledger_id", "Ledger id", "ledger_id_eq"),
				FROM, TO
			],
			row: function (x) {
				return [x.name || x.ledger_id, null,
				    [x.ledger_id, when(x.created_at)]];
			}
		},
		balances: {
			title: "Balances", idKey: "balance_id", noun: "balances",
			filters: [
				idFilter("ledger_id", "Ledger id", "ledger_id_eq"),
				CURRENCY,
				{ name: "indicator", label: "Indicator",
				    api: "indicator_eq", check: PARTY_RE,
				    bad: "e.g. @stripe" },
				idFilter("balance_id", "Balance id", "balance_id_eq"),
				FROM, TO
			],
			row: function (x) {
				return [(x.indicator || x.balance_id) + ": " +
				    balanceAmount(x, "balance"), null,
				    [x.balance_id, "ledger " + str(x.ledger_id)]];
			}
		},
		transactions: {
			title: "Transactions", idKey: "transaction_id",
			noun: "transactions",
			filters: [
				{ name: "status", label: "Status", api: "status_eq",
				    options: TXN_STATUSES },
				CURRENCY,
				{ name: "reference", label: "Reference",
				    api: "reference_eq", check: ID_RE,
				    bad: "letters, digits and _ . : - only" },
				{ name: "source", label: "Source", api: "source_eq",
				    check: PARTY_RE, bad: "a balance id or @indicator" },
				{ name: "destination", label: "Destination",
				    api: "destination_eq", check: PARTY_RE,
				    bad: "a balance id or @indicator" },
				idFilter("balance_id", "Balance id", "balance_id_eq"),
				FROM, TO
			],
			row: function (x) {
				return [txnAmount(x), x.status,
				    [str(x.source) + " \u2192 " + str(x.destination),
				    "ref " + str(x.reference), when(x.created_at)]];
			}
		}
	};

	/* The API query of a list screen's fragment parameters, or an
	 * {field, message} for a value the server would refuse. */
	function listQuery(L, params) {
		var q = new URLSearchParams(), i, f, v;

		q.set("page", params.get("page") || "1");
		for (i = 0; i < L.filters.length; i++) {
			f = L.filters[i];
			v = params.get(f.name);
			if (!v)
				continue;
			if (f.options ? f.options.indexOf(v) === -1 :
			    !f.check.test(v))
				return { field: f.name, message: f.bad ||
				    "not a value this filter takes" };
			q.set(f.api, v + (f.suffix || ""));
		}
		return q;
	}

	function filterForm(kind, L, params, badField, badMessage) {
		var active = 0, fields, form;

		fields = L.filters.map(function (f) {
			var id = "f-" + f.name, v = params.get(f.name) || "";
			var input, err = null;

			if (v)
				active++;
			if (f.options) {
				input = el("select", { id: id, name: f.name },
				    el("option", { value: "", text: "Any" }),
				    f.options.map(function (o) {
					return el("option", { value: o, text: o,
					    selected: o === v });
				    }));
			} else {
				input = el("input", { id: id, name: f.name,
				    type: f.type || "text", value: v,
				    autocomplete: "off", spellcheck: "false",
				    "aria-invalid": badField === f.name ? "true" :
				    null, "aria-describedby": badField === f.name ?
				    id + "-err" : null });
			}
			if (badField === f.name)
				err = el("p", { class: "field-error", id: id + "-err",
				    text: badMessage });
			return el("div", { class: "field" },
			    el("label", { for: id, text: f.label }), input, err);
		});
		form = el("form", { class: "filters-form", novalidate: true,
		    onsubmit: function (ev) {
			var p = new URLSearchParams(), i, f, v;

			ev.preventDefault();
			for (i = 0; i < L.filters.length; i++) {
				f = L.filters[i];
				v = form.elements[f.name].value.trim();
				if (f.upper)
					v = v.toUpperCase();
				if (v)
					p.set(f.name, v);
			}
			go("#/" + kind + (p.toString() ? "?" + p : ""));
		    } },
		    el("div", { class: "grid" }, fields),
		    el("div", { class: "actions" },
			el("button", { type: "submit", class: "button",
			    text: "Apply filters" }),
			active ? el("a", { href: "#/" + kind,
			    text: "Clear filters" }) : null));
		return el("details", { class: "filters", open: active > 0 ||
		    badField ? true : null },
		    el("summary", { text: "Filters" + (active ? " (" + active +
			" active)" : "") }), form);
	}

	function pager(kind, params, page, size, total, shown) {
		var last = total >= 0 ? Math.max(1, Math.ceil(total / size)) :
		    null;
		var more = last !== null ? page < last : shown === size;

		function to(p) {
			var q = new URLSearchParams(params);

			q.set("page", String(p));
			return "#/" + kind + "?" + q;
		}
		return el("nav", { class: "pager", "aria-label": "Pages" },
		    page > 1 ? el("a", { href: to(page - 1), rel: "prev",
			text: "\u2190 Previous" }) :
			el("span", { class: "off", text: "\u2190 Previous" }),
		    el("span", { text: "Page " + page + (last !== null ?
			" of " + last : "") }),
		    more ? el("a", { href: to(page + 1), rel: "next",
			text: "Next \u2192" }) :
			el("span", { class: "off", text: "Next \u2192" }));
	}

	function heading(text) {
		return el("h2", { tabindex: "-1", text: text });
	}

	/*
	 * Show "Loading what..." in a new part of box, then the answer of
	 * request (a promise of api()'s result, or of an array of them, the
	 * first deciding): render(body, r) when it succeeded, else a notice
	 * with Try again.  An answer that comes after the user moved on is
	 * dropped.
	 */
	function load(box, seq, what, request, render, failed) {
		var body = el("div", { class: "load", "aria-busy": "true" },
		    el("p", { class: "loading", text: "Loading " + what +
			"\u2026" }));

		box.appendChild(body);
		request.then(function (rs) {
			var r = Array.isArray(rs) ? rs[0] : rs;

			if (seq !== S.seq || S.over)
				return;
			body.textContent = "";
			body.removeAttribute("aria-busy");
			if (r.ok) {
				render(body, Array.isArray(rs) ? rs : r);
				return;
			}
			if (failed)
				failed(r);
			body.appendChild(notice(r.error, r.status,
			    function () { route(); }));
			say("Could not load " + what + ".");
		});
	}

	function listScreen(kind, params, box, seq) {
		var L = LISTS[kind], q;

		box.appendChild(heading(L.title));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		q = listQuery(L, params);
		if (!(q instanceof URLSearchParams)) {
			box.appendChild(filterForm(kind, L, params, q.field,
			    q.message));
			return;
		}
		box.appendChild(filterForm(kind, L, params));
		load(box, seq, L.noun, api("GET", "/api/v1/" + kind + "?" + q),
		    function (body, r) {
			var rows, page, size, total;

			rows = Array.isArray(r.body.data) ? r.body.data : [];
			page = r.body.page || 1;
			size = r.body.page_size || rows.length || 20;
			total = typeof r.body.total === "number" ?
			    r.body.total : -1;
			if (rows.length === 0) {
				body.appendChild(el("div", { class: "empty" },
				    el("p", { text: page > 1 ? "No " + L.noun +
					" on this page." : "No " + L.noun +
					(params.toString().replace(/(^|&)page=\d+/,
					"") ? " match these filters." :
					" yet.") }),
				    page > 1 ? el("a", { href: "#/" + kind,
					text: "Go to the first page" }) : null));
				say("No " + L.noun + " to show.");
				return;
			}
			body.appendChild(el("p", { class: "hint", text: (total >= 0 ?
			    total + " " + L.noun + " in all" :
			    rows.length + " " + L.noun + " shown") + "." }));
			body.appendChild(el("ul", { class: "rows" },
			    rows.map(function (x) {
				var v = L.row(x), id = str(x[L.idKey]);

				return el("li", null, el("a", { href: "#/" + kind +
				    "/" + encodeURIComponent(id) },
				    el("span", { class: "row-title" }, v[0],
					v[1] ? [" ", badge(v[1])] : null),
				    el("span", { class: "row-meta",
					text: v[2].join(" \u00b7 ") })));
			    })));
			body.appendChild(pager(kind, params, page, size, total,
			    rows.length));
			say("Loaded " + rows.length + " " + L.noun + ", page " +
			    page + ".");
		}, function (r) {
			/* A filter the server refused: say which, at it. */
			if (r.error.code === "INVALID_FILTER" ||
			    r.error.code === "INVALID_QUERY")
				box.replaceChild(filterForm(kind, L, params,
				    r.error.field, r.error.message),
				    box.childNodes[1]);
		});
	}

	/* --- details ---------------------------------------------------- */

	/* A detail answer: Cloud's {"data": {...}} or the bare object. */
	function record(body) {
		if (body && body.data && typeof body.data === "object" &&
		    !Array.isArray(body.data))
			return body.data;
		return body || {};
	}

	function facts(pairs) {
		return el("dl", { class: "facts" }, pairs.map(function (p) {
			if (p === null)
				return null;
			return [el("dt", { text: p[0] }),
			    el("dd", null, typeof p[1] === "object" && p[1] !==
			    null ? p[1] : str(p[1]) || "\u2014")];
		}));
	}

	function rawFields(x) {
		return el("details", { class: "raw" },
		    el("summary", { text: "All fields" }),
		    el("pre", { text: JSON.stringify(x, null, 2) }));
	}

	var DETAILS = {
		ledgers: function (x) {
			return [facts([["Name", x.name],
			    ["Ledger id", el("span", { class: "mono",
				text: str(x.ledger_id) })],
			    ["Created", when(x.created_at)]]),
			    el("div", { class: "actions" }, el("a", {
				href: "#/balances?ledger_id=" +
				encodeURIComponent(str(x.ledger_id)),
				text: "Balances in this ledger" }))];
		},
		balances: function (x) {
			return [facts([["Balance", balanceAmount(x, "balance")],
			    ["Credits", balanceAmount(x, "credit_balance")],
			    ["Debits", balanceAmount(x, "debit_balance")],
			    ["Indicator", x.indicator],
			    ["Balance id", el("span", { class: "mono",
				text: str(x.balance_id) })],
			    ["Ledger", idLink(x.ledger_id)],
			    x.identity_id ? ["Identity", x.identity_id] : null,
			    ["Created", when(x.created_at)]]),
			    el("div", { class: "actions" }, el("a", {
				href: "#/transactions?source=" +
				encodeURIComponent(str(x.balance_id)),
				text: "Transactions from this balance" }), el("a", {
				href: "#/transactions?destination=" +
				encodeURIComponent(str(x.balance_id)),
				text: "Transactions to this balance" }))];
		},
		transactions: function (x) {
			var reason = x.meta_data &&
			    x.meta_data.blnk_rejection_reason;

			return [facts([["Amount", txnAmount(x)],
			    ["Status", badge(x.status)],
			    reason ? ["Rejected because", str(reason)] : null,
			    ["Reference", el("span", { class: "mono",
				text: str(x.reference) })],
			    ["From", idLink(x.source)],
			    ["To", idLink(x.destination)],
			    ["Description", x.description],
			    ["Transaction id", el("span", { class: "mono",
				text: str(x.transaction_id) })],
			    x.parent_transaction ? ["Queued as",
				idLink(x.parent_transaction)] : null,
			    ["Created", when(x.created_at)],
			    x.effective_date ? ["Effective", when(x.effective_date)] :
				null])];
		}
	};

	function detailScreen(kind, id, box, seq) {
		var L = LISTS[kind];

		box.appendChild(el("p", { class: "crumbs" },
		    el("a", { href: "#/" + kind, text: "\u2190 " + L.title })));
		box.appendChild(heading(L.title.replace(/s$/, "") + " " + id));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		load(box, seq, id, api("GET", "/api/v1/" + kind + "/" +
		    encodeURIComponent(id)), function (body, r) {
			var x;

			x = record(r.body);
			add(body, DETAILS[kind](x));
			if (kind !== "ledgers")
				body.appendChild(flagForm(id));
			body.appendChild(rawFields(x));
			say("Loaded " + id + ".");
		});
	}

	/* --- forms ------------------------------------------------------ */

	/* A labelled input with a hint and a place for its error. */
	function field(id, label, input, hint) {
		var hintId = id + "-hint", errId = id + "-err";

		input.id = id;
		input.setAttribute("aria-describedby", (hint ? hintId + " " :
		    "") + errId);
		return el("div", { class: "field", "data-for": id },
		    input.type === "checkbox" ?
			el("label", { class: "check" }, input, " " + label) :
			[el("label", { for: id, text: label }), input],
		    hint ? el("p", { class: "hint", id: hintId, text: hint }) :
			null,
		    el("p", { class: "field-error", id: errId, hidden: true }));
	}

	/* Show (or clear, msg "") the error of a field. */
	function fieldError(form, name, msg) {
		var input = form.elements[name], err;

		if (!input)
			return;
		err = $(input.id + "-err");
		err.textContent = msg;
		err.hidden = !msg;
		if (msg)
			input.setAttribute("aria-invalid", "true");
		else
			input.removeAttribute("aria-invalid");
	}

	/* Check every field of form with checks {name: fn(value) -> error
	 * or ""}; show the errors, focus the first bad field.  Returns
	 * whether all are good. */
	function checkForm(form, checks) {
		var first = null, n = 0, k, msg;

		for (k in checks) {
			if (!Object.prototype.hasOwnProperty.call(checks, k))
				continue;
			msg = checks[k](form.elements[k].value, form);
			fieldError(form, k, msg);
			if (msg) {
				n++;
				if (first === null)
					first = form.elements[k];
			}
		}
		if (first !== null) {
			first.focus();
			say(n === 1 ? "One field needs fixing." : n +
			    " fields need fixing.");
		}
		return first === null;
	}

	/* Once a field is marked bad, check it again as the user types, so
	 * the error goes as soon as it is fixed.  (Not on leaving the field:
	 * an error appearing or going then moves the button being clicked.) */
	function liveChecks(form, checks) {
		Object.keys(checks).forEach(function (k) {
			form.elements[k].addEventListener("input", function () {
				if (form.elements[k].getAttribute("aria-invalid"))
					fieldError(form, k, checks[k](
					    form.elements[k].value, form));
			});
		});
	}

	function utf8len(s) {
		return typeof TextEncoder === "function" ?
		    new TextEncoder().encode(s).length : s.length;
	}

	function textRule(what, max, optional) {
		return function (v) {
			if (v.trim() === "")
				return optional ? "" : what + " is required.";
			if (/[\x00-\x1f\x7f]/.test(v))
				return "No control characters.";
			if (utf8len(v) > max)
				return "At most " + max + " bytes.";
			return "";
		};
	}

	/* The result of a submission: role=status so it is announced. */
	function result(box, cls, children) {
		box.textContent = "";
		box.className = "result " + cls;
		add(box, children);
		if (box.scrollIntoView)
			box.scrollIntoView({ block: "nearest" });
	}

	/* The flag's body: the title is optional (blnk-docs
	 * cloud/reference/create-alert.mdx), so an empty one is left out. */
	function flagBody(id, title, description) {
		var b = { target_id: id, description: description };

		if (title !== "")
			b.title = title;
		return b;
	}

	/* Flag a balance or transaction for review (alerts:write). */
	function flagForm(id) {
		var st = can("alerts:write"), form, out, checks;

		if (st === "never")
			return null;
		if (st === "no")
			return el("section", { class: "panel" },
			    el("h3", { text: "Flag for review" }),
			    el("p", { class: "hint", text: needs("alerts:write") }),
			    el("button", { type: "button", class: "button",
				disabled: true, text: "Flag for review" }));
		out = el("div", { class: "result", role: "status" });
		checks = {
			title: textRule("A title", 200, true),	/* optional */
			description: textRule("A description", 1000)
		};
		form = el("form", { novalidate: true, onsubmit: function (ev) {
			var b = form.querySelector("button");

			ev.preventDefault();
			if (!checkForm(form, checks))
				return;
			b.disabled = true;
			result(out, "pending", "Flagging\u2026");
			api("POST", "/api/v1/alerts", flagBody(id,
			    form.elements.title.value.trim(),
			    form.elements.description.value.trim())
			).then(function (r) {
				var aid;

				b.disabled = false;
				if (S.over)
					return;
				if (!r.ok) {
					if (r.error.field && form.elements[r.error.field])
						fieldError(form, r.error.field,
						    r.error.message);
					result(out, "bad", notice(r.error, r.status));
					return;
				}
				aid = str(r.body.alert_id || r.body.anomaly_id);
				result(out, "good", ["Flagged for review as ",
				    can("alerts:read") === "yes" ? el("a", {
					href: "#/alerts/" + encodeURIComponent(aid),
					class: "mono", text: aid }) :
					el("span", { class: "mono", text: aid }),
				    "."]);
				form.reset();
				say("Flagged " + id + " for review.");
			});
		} },
		    field("flag-title", "Title (optional)", el("input", { name: "title",
			maxlength: 200, autocomplete: "off" })),
		    field("flag-description", "What is wrong",
			el("textarea", { name: "description", rows: 2 })),
		    el("button", { type: "submit", class: "button",
			text: "Flag for review" }));
		liveChecks(form, checks);
		return el("section", { class: "panel" },
		    el("h3", { text: "Flag for review" }), form, out);
	}

	/* --- posting a transaction ------------------------------------- */

	/* Zero- and three-decimal currencies (Stripe's list); the others
	 * have two. */
	var PRECISION = { BIF: 1, CLP: 1, DJF: 1, GNF: 1, JPY: 1, KMF: 1,
	    KRW: 1, MGA: 1, PYG: 1, RWF: 1, UGX: 1, VND: 1, VUV: 1, XAF: 1,
	    XOF: 1, XPF: 1, BHD: 1000, JOD: 1000, KWD: 1000, OMR: 1000,
	    TND: 1000 };

	/* The server's rules (api-txn.c), field by field. */
	var TXN_CHECKS = {
		amount: function (v) {
			v = v.trim();
			if (v === "")
				return "An amount is required.";
			if (!/^[0-9]+$/.test(v))
				return "A whole number of minor units (cents): " +
				    "digits only.";
			if (/^0+$/.test(v))
				return "Must be at least 1.";
			if (v.replace(/^0+/, "").length > 15)
				return "At most 999999999999999.";
			return "";
		},
		precision: function (v) {
			v = v.trim();
			if (!/^10{0,18}$/.test(v))
				return "A power of ten: 1, 10, 100, 1000 ...";
			return "";
		},
		currency: function (v) {
			v = v.trim();
			if (v === "")
				return "A currency is required, e.g. USD.";
			if (!CURRENCY_RE.test(v))
				return "Capital letters, digits or _, at most 16.";
			return "";
		},
		source: function (v) {
			return partyRule(v, "A source");
		},
		destination: function (v, form) {
			var m = partyRule(v, "A destination");

			if (!m && v.trim() === form.elements.source.value.trim())
				return "Must differ from the source.";
			return m;
		},
		description: textRule("A description", 1000),
		reference: function (v) {
			v = v.trim();
			if (v === "")
				return "";
			if (!/^[A-Za-z0-9_.:-]+$/.test(v))
				return "Letters, digits and _ . : - only.";
			if (v.length > 100)
				return "At most 100 characters.";
			if (v.length > 2 && /_q$/.test(v))
				return "Must not end in _q (Blnk gives that to the " +
				    "applied row).";
			return "";
		}
	};

	function partyRule(v, what) {
		v = v.trim();
		if (v === "")
			return what + " is required.";
		if (!PARTY_RE.test(v))
			return "A balance id (bln_...) or an @indicator.";
		return "";
	}

	function newScreen(box, seq) {
		var st = can("data:write"), form, out, hint, ref = null;

		box.appendChild(heading("New transaction"));
		if (st !== "yes") {
			box.appendChild(locked("data:write"));
			return;
		}
		out = el("div", { class: "result", role: "status" });
		hint = el("p", { class: "hint", id: "amount-shown" });
		form = el("form", { class: "txn-form", novalidate: true,
		    onsubmit: function (ev) {
			ev.preventDefault();
			submitTxn(form, out, seq, function () { return ref; },
			    function (r) { ref = r; });
		    } },
		    el("div", { class: "grid" },
			field("t-amount", "Amount in minor units", el("input", {
			    name: "amount", inputmode: "numeric",
			    autocomplete: "off", required: true }),
			    "A whole number: 1250 is 12.50 at precision 100."),
			field("t-currency", "Currency", el("input", {
			    name: "currency", autocomplete: "off",
			    maxlength: 16, required: true, value: "USD" })),
			field("t-precision", "Precision", el("input", {
			    name: "precision", inputmode: "numeric",
			    autocomplete: "off", required: true,
			    value: "100" }),
			    "Minor units in one unit: 100 for USD, 1 for JPY."),
			field("t-source", "Source", el("input", {
			    name: "source", autocomplete: "off",
			    spellcheck: "false", required: true }),
			    "A balance id (bln_...) or an @indicator."),
			field("t-destination", "Destination", el("input", {
			    name: "destination", autocomplete: "off",
			    spellcheck: "false", required: true })),
			field("t-reference", "Reference (optional)", el("input", {
			    name: "reference", autocomplete: "off",
			    spellcheck: "false", maxlength: 100 }),
			    "Unique; one is made if you leave it empty.")),
		    field("t-description", "Description", el("input", {
			name: "description", autocomplete: "off",
			required: true })),
		    field("t-overdraft", "Allow the source to go below zero",
			el("input", { name: "allow_overdraft",
			    type: "checkbox" }),
			"Needed for an @indicator source that holds no funds."),
		    hint,
		    el("div", { class: "actions" },
			el("button", { type: "submit", class: "button primary",
			    text: "Post transaction" })));
		liveChecks(form, TXN_CHECKS);
		/* The amount as the user would read it; a precision that
		 * follows the currency until the user sets one. */
		form.elements.currency.addEventListener("input", function () {
			var c = form.elements.currency;
			var p = form.elements.precision;

			c.value = c.value.toUpperCase();
			if (!p.getAttribute("data-touched"))
				p.value = String(PRECISION[c.value] || 100);
			shown();
		});
		form.elements.precision.addEventListener("input", function () {
			form.elements.precision.setAttribute("data-touched", "1");
			shown();
		});
		form.elements.amount.addEventListener("input", shown);
		["amount", "currency", "precision", "source", "destination",
		    "description", "allow_overdraft"].forEach(function (k) {
			form.elements[k].addEventListener("change", function () {
				ref = null;	/* a different transaction */
			});
		});
		function shown() {
			var a = form.elements.amount.value.trim();
			var p = form.elements.precision.value.trim();

			hint.textContent = TXN_CHECKS.amount(a) === "" &&
			    TXN_CHECKS.precision(p) === "" ? "That is " +
			    money(a.replace(/^0+/, ""), p) + " " +
			    form.elements.currency.value.trim() + "." : "";
		}
		box.appendChild(form);
		box.appendChild(out);
	}

	/* A reference for a posting the user left without one, made here so
	 * that trying again after a lost answer cannot post it twice. */
	function makeReference() {
		var b, s = "portal-", i;

		if (!window.crypto || !window.crypto.getRandomValues)
			return null;
		b = new Uint8Array(12);
		window.crypto.getRandomValues(b);
		for (i = 0; i < b.length; i++)
			s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
		return s;
	}

	function submitTxn(form, out, seq, getRef, setRef) {
		var e = form.elements, b = form.querySelector("button[type=submit]");
		var ref = e.reference.value.trim(), body;

		if (!checkForm(form, TXN_CHECKS))
			return;
		if (ref === "") {
			ref = getRef() || makeReference();
			setRef(ref);
		}
		body = {
			amount: Number(e.amount.value.trim().replace(/^0+/, "")),
			precision: Number(e.precision.value.trim()),
			currency: e.currency.value.trim(),
			source: e.source.value.trim(),
			destination: e.destination.value.trim(),
			description: e.description.value.trim(),
			allow_overdraft: e.allow_overdraft.checked
		};
		if (ref !== null)
			body.reference = ref;
		b.disabled = true;
		result(out, "pending", "Posting\u2026");
		say("Posting the transaction\u2026");
		api("POST", "/api/v1/transactions", body).then(function (r) {
			if (S.over)
				return;
			if (!r.ok) {
				b.disabled = false;
				if (r.status !== 0 && r.error.code !== "CLOUD_TIMEOUT")
					setRef(null);	/* refused: nothing posted */
				if (r.error.code === "TXN_DUPLICATE_REFERENCE")
					r.error.field = "reference";
				if (r.error.field && e[r.error.field]) {
					fieldError(form, r.error.field, r.error.message ||
					    "Not accepted.");
					e[r.error.field].focus();
				}
				result(out, "bad", notice(r.error, r.status));
				say("The transaction was not posted.");
				return;
			}
			setRef(null);
			follow(r.body.reference, out, seq, function () {
				b.disabled = false;
			});
		});
	}

	/* How long to wait before each status check (ms): bounded. */
	var FOLLOW = [300, 600, 1200, 2400, 4000, 6000, 8000, 8000];

	/*
	 * Follow a posted transaction by its reference until Blnk applies or
	 * rejects it (its "<reference>_q" row), showing each check; give up
	 * after the last delay with a way to look again.
	 */
	function follow(ref, out, seq, done) {
		var progress = el("progress", { max: FOLLOW.length, value: 0,
		    "aria-label": "Checks made" });
		var line = el("p", { text: "Posted with reference " + ref +
		    ": queued. Waiting for Blnk to apply it\u2026" });
		var n = 0;

		result(out, "pending", [line, progress]);
		say("Posted. Waiting for Blnk to apply it.");
		function check() {
			api("GET", "/api/v1/references/" + encodeURIComponent(ref))
			    .then(function (r) {
				var t;

				if (S.over || seq !== S.seq)
					return;
				n++;
				progress.value = n;
				if (r.ok && r.body.final) {
					outcome(ref, r.body, out);
					done();
					return;
				}
				if (!r.ok && r.error.code !== "NOT_FOUND" &&
				    !describe(r.error)[2]) {
					result(out, "bad", notice(r.error, r.status));
					done();
					return;
				}
				if (n >= FOLLOW.length) {
					stillQueued(ref, out, seq, done);
					return;
				}
				t = r.ok ? str(r.body.state).toLowerCase() :
				    "not visible yet";
				line.textContent = "Posted with reference " + ref +
				    ": " + t + ". Check " + n + " of " +
				    FOLLOW.length + "; next in " +
				    FOLLOW[n] / 1000 + " s\u2026";
				window.setTimeout(check, FOLLOW[n]);
			});
		}
		window.setTimeout(check, FOLLOW[0]);
	}

	function outcome(ref, st, out) {
		var t = st.transaction || {}, id = str(t.transaction_id);
		var reason = t.meta_data && t.meta_data.blnk_rejection_reason;
		var link = id ? el("a", { href: "#/transactions/" +
		    encodeURIComponent(id), text: "See the transaction" }) : null;

		if (st.state === "APPLIED") {
			result(out, "good", [el("p", null, badge("APPLIED"),
			    " Applied: " + txnAmount(t) + ", reference " + ref +
			    "."), link]);
			say("The transaction was applied.");
		} else {
			result(out, "bad", [el("p", null, badge(st.state),
			    " " + (st.state === "REJECTED" ? "Rejected by Blnk" :
			    "Ended as " + st.state) + (reason ? ": " +
			    str(reason) : "") + ". Reference " + ref + "."), link]);
			say("The transaction was " + str(st.state).toLowerCase() +
			    (reason ? ": " + str(reason) : "") + ".");
		}
	}

	function stillQueued(ref, out, seq, done) {
		var total = FOLLOW.reduce(function (a, b) { return a + b; }, 0);

		result(out, "pending", [el("p", { text: "Still queued after " +
		    Math.round(total / 1000) + " s. Blnk applies queued " +
		    "transactions in the background; it may take longer." }),
		    el("div", { class: "actions" },
			el("button", { type: "button", class: "button",
			    text: "Check again", onclick: function () {
				follow(ref, out, seq, done);
			    } }),
			el("a", { href: "#/transactions?reference=" +
			    encodeURIComponent(ref), text: "Find it later in " +
			    "Transactions" }))]);
		say("Still queued. You can check again.");
		done();
	}

	/* --- alerts ----------------------------------------------------- */

	function alertId(a) {
		return str(a.alert_id || a.anomaly_id || a.id);
	}

	/* What an alert is about: its entity id, or the affected lists. */
	function alertTarget(a) {
		var ids = [];

		if (a.entity_id)
			ids.push(a.entity_id);
		["affected_balances", "affected_transactions",
		    "affected_identities"].forEach(function (k) {
			if (Array.isArray(a[k]))
				ids = ids.concat(a[k]);
		});
		return ids;
	}

	function alertsScreen(box, seq) {
		box.appendChild(heading("Alerts"));
		if (can("alerts:read") !== "yes") {
			box.appendChild(locked("alerts:read"));
			return;
		}
		load(box, seq, "alerts", api("GET", "/api/v1/alerts"),
		    function (body, r) {
			var rows;

			rows = Array.isArray(r.body) ? r.body :
			    Array.isArray(r.body.data) ? r.body.data : [];
			if (rows.length === 0) {
				body.appendChild(el("div", { class: "empty" },
				    el("p", { text: "No alerts. Flag a balance or " +
					"a transaction from its page to raise one." })));
				say("No alerts.");
				return;
			}
			body.appendChild(el("ul", { class: "rows" },
			    rows.map(function (a) {
				return el("li", null, el("a", { href: "#/alerts/" +
				    encodeURIComponent(alertId(a)) },
				    el("span", { class: "row-title" },
					str(a.title || a.description || alertId(a)),
					" ", badge(a.status)),
				    el("span", { class: "row-meta", text:
					alertTarget(a).concat([when(a.created_at)])
					.join(" \u00b7 ") })));
			    })));
			say("Loaded " + rows.length + " alerts.");
		});
	}

	/*
	 * The statuses an alert may take: Cloud's built-in ones (blnk-docs
	 * cloud/alerts/overview.mdx) and the workspace's own from
	 * GET /api/v1/alert-statuses, ["KEY", ...] or [{key, name}, ...].
	 */
	var BUILTIN_STATUSES = [["FLAGGED", "Flagged"],
	    ["INVESTIGATING", "Investigating"], ["RESOLVED", "Resolved"]];

	function statusOptions(body) {
		var d = body && (Array.isArray(body) ? body : body.data);
		var own = (Array.isArray(d) ? d : []).map(function (s) {
			return typeof s === "string" ? [s, s] :
			    [str(s.key), str(s.name || s.key)];
		}).filter(function (s) { return s[0] !== ""; });

		return BUILTIN_STATUSES.filter(function (b) {
			return !own.some(function (o) { return o[0] === b[0]; });
		}).concat(own);
	}

	function alertScreen(id, box, seq) {
		box.appendChild(el("p", { class: "crumbs" },
		    el("a", { href: "#/alerts", text: "\u2190 Alerts" })));
		box.appendChild(heading("Alert " + id));
		if (can("alerts:read") !== "yes") {
			box.appendChild(locked("alerts:read"));
			return;
		}
		load(box, seq, "alert " + id, Promise.all([api("GET",
		    "/api/v1/alerts/" + encodeURIComponent(id)),
		    api("GET", "/api/v1/alert-statuses")]), function (body, rs) {
			var r = rs[0], a;

			a = record(r.body);
			body.appendChild(facts([["Title", a.title],
			    ["Status", badge(a.status)],
			    ["Description", a.description],
			    ["About", el("span", null, alertTarget(a).map(
				function (t, i) {
				    return [i ? ", " : "", idLink(t)];
				}))],
			    ["Created", when(a.created_at)],
			    a.updated_at ? ["Updated", when(a.updated_at)] : null]));
			body.appendChild(statusForm(id, a, rs[1]));
			body.appendChild(rawFields(a));
			say("Loaded alert " + id + ".");
		});
	}

	function statusForm(id, a, sr) {
		var st = can("alerts:write"), opts, form, out;

		if (st === "never")
			return null;
		if (st === "no")
			return el("section", { class: "panel" },
			    el("h3", { text: "Change its status" }),
			    el("p", { class: "hint", text: needs("alerts:write") }));
		if (!sr.ok)
			return el("section", { class: "panel" },
			    el("h3", { text: "Change its status" }),
			    notice(sr.error, sr.status));
		opts = statusOptions(sr.body);
		out = el("div", { class: "result", role: "status" });
		form = el("form", { novalidate: true, onsubmit: function (ev) {
			var b = form.querySelector("button");
			var v = form.elements.status.value;

			ev.preventDefault();
			b.disabled = true;
			result(out, "pending", "Saving\u2026");
			api("PUT", "/api/v1/alerts/" + encodeURIComponent(id),
			    { status: v }).then(function (r) {
				b.disabled = false;
				if (S.over)
					return;
				if (!r.ok) {
					result(out, "bad", notice(r.error, r.status));
					return;
				}
				result(out, "good", "Status changed to " + v + ".");
				say("Status changed to " + v + ".");
			});
		} },
		    el("div", { class: "field" },
			el("label", { for: "alert-status", text: "Status" }),
			el("select", { id: "alert-status", name: "status" },
			    opts.map(function (o) {
				return el("option", { value: o[0], text: o[1],
				    selected: o[0] === a.status });
			    }))),
		    el("button", { type: "submit", class: "button",
			text: "Save status" }));
		return el("section", { class: "panel" },
		    el("h3", { text: "Change its status" }), form, out);
	}

	/* --- refreshing, shared by the sync screens --------------------- */

	/*
	 * A screen that follows a run refreshes it every POLL_MS while it is
	 * queued or running.  One timer for the whole page, in S.poll: set
	 * again only after the last refresh has answered (so refreshes never
	 * stack), cleared by every screen change and by the session's end.
	 */
	var POLL_MS = 1500;
	var POLL_RETRY_MS = 4000;	/* after a refresh that failed */

	function stopPolling() {
		if (S.poll !== null)
			window.clearTimeout(S.poll);
		S.poll = null;
	}

	function pollAgain(seq, fn, ms) {
		stopPolling();
		S.poll = window.setTimeout(function () {
			S.poll = null;
			if (seq === S.seq && !S.over)
				fn();
		}, ms || POLL_MS);
	}

	/* A server message ("must be ...") as a sentence. */
	function sentence(msg) {
		var s = str(msg).trim();

		if (s === "")
			return "";
		s = s.charAt(0).toUpperCase() + s.slice(1);
		return /[.!?]$/.test(s) ? s : s + ".";
	}

	/* Set a live region's text only when it changes: each change is read
	 * out, so an unchanged refresh must not repeat it. */
	function liveText(node, text) {
		if (node.textContent !== text)
			node.textContent = text;
	}

	/* The key that finds a control again after its part of the page was
	 * built anew. */
	function focusKey(e) {
		return e.getAttribute("data-key") || e.getAttribute("href") ||
		    e.id || null;
	}

	/* Replace what container holds with nodes, keeping the focus on the
	 * same link or button if one of them had it. */
	function refill(container, nodes) {
		var a = doc.activeElement, key = null, all, i;

		if (a && a !== container && container.contains(a))
			key = focusKey(a);
		container.textContent = "";
		add(container, nodes);
		if (key === null)
			return;
		all = container.querySelectorAll("a, button, input, select");
		for (i = 0; i < all.length; i++)
			if (focusKey(all[i]) === key) {
				all[i].focus();
				return;
			}
	}

	function num(v) {
		return typeof v === "number" && isFinite(v) ? v : 0;
	}

	function plural(n, one, many) {
		return n + " " + (n === 1 ? one : many);
	}

	/* A write control the install may not use: null when data:write is
	 * granted, else the reason ("" when the app never asks for it). */
	function writeReason() {
		var st = can("data:write");

		return st === "yes" ? null : st === "no" ? needs("data:write") : "";
	}

	/* --- sync runs --------------------------------------------------- */

	var RUN_STATUS = { queued: "Queued", running: "Running",
	    completed: "Completed", failed: "Failed" };

	/* The four cards of the history: [status filter, label]. */
	var RUN_FILTERS = [["all", "All"], ["completed", "Completed"],
	    ["in_progress", "In progress"], ["failed", "Failed"]];

	/* What each kind of run imports. */
	var RUN_KINDS = [
		["all", "Full sync", "pay-ins, fees, payouts and everything " +
		    "else the settings import"],
		["payins", "Pay-in sync", "pay-ins (with their fees) only"],
		["payouts", "Payout sync", "payouts to your bank only"]
	];

	var PAGE_SIZE = 20;

	function runActive(run) {
		return run.status === "queued" || run.status === "running";
	}

	function runBadge(run) {
		var s = str(run.status);

		return el("span", { class: "badge badge-" +
		    s.replace(/[^a-z]/g, ""), text: RUN_STATUS[s] || s || "?" });
	}

	function runName(run) {
		return str(run.name) || "Sync";
	}

	function triggerWords(t) {
		if (t === "portal")
			return "Started from the portal";
		if (t === "schedule")
			return "Started by the schedule";
		return t ? "Started by " + t : "";
	}

	function modeWords(m) {
		return m === "live" ? "Live mode" : m === "test" ? "Test mode" :
		    str(m);
	}

	/* "12 s", "3 min 5 s": how long a run took, or "". */
	function took(run) {
		var a = new Date(run.started_at).getTime();
		var b = new Date(run.finished_at).getTime(), s;

		if (!run.started_at || !run.finished_at || isNaN(a) || isNaN(b) ||
		    b < a)
			return "";
		s = Math.round((b - a) / 1000);
		return s < 60 ? s + " s" : Math.floor(s / 60) + " min" +
		    (s % 60 ? " " + s % 60 + " s" : "");
	}

	/*
	 * Where a run is: {step (0 to 5), done (0 to STEPS, for the bar),
	 * words}.  The phases of src/sync.h in plain words, with the counts
	 * the runner stores as it goes.
	 */
	var STEPS = 5;

	function progressOf(run) {
		var p = run.progress || {}, n = run.counts || {};
		var found = num(n.found), present = num(n.present);
		var sent = num(p.to_confirm), ok = num(p.confirmed);

		if (run.status === "queued" || p.phase === "queued" || !p.phase)
			return { step: 0, done: 0, words: "Waiting to start: " +
			    "the sync runner takes it in a moment" };
		switch (p.phase) {
		case "start":
			return { step: 1, done: 0, words: "Starting: reading " +
			    "the settings and Stripe's balance" };
		case "customers":
			return { step: 1, done: 0.5, words: "Starting: reading " +
			    "which Blnk balance each Stripe customer names" };
		case "fetch":
			return { step: 2, done: 1, words: "Listing from Stripe: " +
			    found + " found" + (present ? ", " + present +
			    " already in Blnk" : "") };
		case "post":
			return { step: 3, done: 2, words: "Posting to Blnk: " +
			    plural(sent, "posting", "postings") + " sent for " +
			    found + " found" };
		case "confirm":
			return { step: 4, done: 3 + (sent ? Math.min(ok, sent) /
			    sent : 0), words: "Confirming: " + ok + " of " +
			    plural(sent, "posting", "postings") + " applied in " +
			    "Blnk" };
		case "check":
			return { step: 5, done: 4, words: "Comparing the balances " +
			    "with Stripe's" };
		case "done":
			return { step: 5, done: 5, words: "Finishing" };
		}
		return { step: 0, done: 0, words: "Working (" + str(p.phase) + ")" };
	}

	/* The bar and its words for a run in progress, labelled by its
	 * words; wordsId: words shown elsewhere (the run's live region). */
	function progressBar(run, idBase, wordsId) {
		var pr = progressOf(run), wid = wordsId || idBase + "-words";

		return el("div", { class: "progress" },
		    wordsId ? null : el("p", { class: "progress-words", id: wid,
			text: pr.words + "." }),
		    el("progress", { max: STEPS, value: pr.done, "aria-labelledby":
			wid, "aria-valuetext": "Step " + Math.max(pr.step, 1) +
			" of " + STEPS + ": " + pr.words }),
		    el("p", { class: "progress-step", text: pr.step === 0 ?
			"Queued" : "Step " + pr.step + " of " + STEPS }));
	}

	/* "300 found · 300 imported", and what else is not zero. */
	function countsLine(n, sep) {
		var c = n || {}, parts = [num(c.found) + " found",
		    num(c.imported) + " imported"];

		if (num(c.present))
			parts.push(num(c.present) + " already in Blnk");
		if (num(c.rejected))
			parts.push(num(c.rejected) + " rejected");
		if (num(c.failed))
			parts.push(num(c.failed) + " not imported");
		return parts.join(sep || " \u00b7 ");
	}

	/* What to say when a run ends. */
	function runOutcome(run) {
		if (run.status === "completed")
			return runName(run) + " completed: " + countsLine(run.counts,
			    ", ") + ".";
		return runName(run) + " failed" + (run.error && run.error.message ?
		    ": " + sentence(run.error.message) : ".");
	}

	/* The four cards: each a link filtering the list, with its count. */
	function statusCards(counts, status, base, label) {
		var c = counts || {};

		return el("nav", { class: "cards", "aria-label": label },
		    el("ul", null, RUN_FILTERS.map(function (f) {
			return el("li", null, el("a", { class: "card card-" +
			    f[0].replace("_", "-"), href: base + (f[0] === "all" ?
			    "" : "?status=" + f[0]), "data-key": "card-" + f[0],
			    "aria-current": f[0] === status ? "true" : null },
			    el("span", { class: "card-label", text: f[1] }),
			    el("span", { class: "card-count",
				text: String(num(c[f[0]])) })));
		    })));
	}

	function runRow(run) {
		var when1 = run.started_at || run.created_at;

		return el("li", null, el("a", { href: "#/syncs/" +
		    encodeURIComponent(str(run.id)), "data-key": "run-" + str(run.id) },
		    el("span", { class: "row-title" }, runName(run), " ",
			runBadge(run)),
		    el("span", { class: "row-meta", text: [triggerWords(run.trigger),
			modeWords(run.mode), (run.started_at ? "started " :
			"queued ") + when(when1), run.finished_at ? "finished " +
			when(run.finished_at) : null].filter(Boolean)
			.join(" \u00b7 ") }),
		    el("span", { class: "row-counts", text: countsLine(run.counts) }),
		    runActive(run) ? progressBar(run, "p-" + str(run.id)) : null,
		    run.status === "failed" && run.error ? el("span",
			{ class: "row-error", text: sentence(run.error.message ||
			run.error.code) }) : null));
	}

	/* The history's part that refreshes: cards, list, pages.  o names
	 * the screen: see historyScreen. */
	function historyView(body, status, page, o) {
		var rows = Array.isArray(body.data) ? body.data : [];
		var counts = body.counts || {}, total = num(counts[status]);
		var label = RUN_FILTERS.filter(function (f) {
			return f[0] === status;
		})[0][1].toLowerCase();
		var out = [statusCards(counts, status, o.hash, o.Many + " by status")];

		if (rows.length === 0) {
			out.push(el("div", { class: "empty" }, el("p", { text: page > 1 ?
			    "No " + o.many + " on this page." : status === "all" ?
			    o.none : "No " + label + " " + o.many + "." }),
			    page > 1 && o.firstPage ? el("a", { href: o.hash +
			    (status === "all" ? "" : "?status=" + status),
			    text: "Go to the first page" }) : null));
			return out;
		}
		out.push(el("ul", { class: o.listClass, "aria-label": status === "all" ?
		    o.Many + ", newest first" : o.Many + " " + label + ", newest first" },
		    rows.map(o.row)));
		if (total > o.size || page > 1)
			out.push(pager(o.many, status === "all" ?
			    new URLSearchParams() : new URLSearchParams("status=" +
			    status), page, o.size, total, rows.length));
		return out;
	}

	/* Refresh a screen from path until shown stops asking: on a failure,
	 * say so in note and try again later. */
	function refresher(seq, note, path, shown) {
		function refresh() {
			api("GET", path).then(function (r) {
				if (seq !== S.seq || S.over)
					return;
				if (!r.ok) {
					note.textContent = "Could not refresh: " +
					    describe(r.error)[0] + ". Trying again in " +
					    POLL_RETRY_MS / 1000 + " s\u2026";
					pollAgain(seq, refresh, POLL_RETRY_MS);
					return;
				}
				shown(r.body, false);
			});
		}
		return refresh;
	}

	/* A one-job page's parts: each rebuilt only when its data changed. */
	function partsOf() {
		var last = {};

		return function (node, key, v, build) {
			var k = JSON.stringify(v);

			if (last[key] !== k) {
				last[key] = k;
				refill(node, build());
			}
		};
	}

	/* A history screen (syncs, reconciliations): the create panel, the
	 * cards, the list and the pages, followed while a job is going.
	 * o: api (path), hash, one, many, Many (nouns), size (page), row,
	 * outcome (what to say when a job ends), panel (conn, seq, started),
	 * none (the empty list's text), firstPage (link to it when empty),
	 * listClass. */
	function historyScreen(params, box, seq, o) {
		var status = params.get("status") || "all";
		var page = Number(params.get("page") || "1");
		var path;

		box.appendChild(heading(o.Many));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		if (!RUN_FILTERS.some(function (f) { return f[0] === status; }))
			status = "all";
		if (!(page >= 1 && page <= 100000 && page % 1 === 0))
			page = 1;
		path = o.api + "?status=" + status + "&page=" + page +
		    "&page_size=" + o.size;
		load(box, seq, "the " + o.many, Promise.all([api("GET", path),
		    api("GET", "/api/v1/stripe")]), function (body, rs) {
			var view = el("div", { class: "runs-view" });
			var note = el("p", { class: "hint refresh-note" });
			var was = {};	/* ids of jobs seen in progress */
			var refresh;

			/* Show an answer; follow it while a job is going. */
			function shown(b) {
				var rows = Array.isArray(b.data) ? b.data : [];
				var going = num((b.counts || {}).in_progress) > 0;

				refill(view, historyView(b, status, page, o));
				note.textContent = "";
				rows.forEach(function (job) {
					if (runActive(job))
						was[job.id] = true;
					else if (was[job.id]) {
						delete was[job.id];
						say(o.outcome(job));
					}
				});
				if (going || rows.some(runActive))
					pollAgain(seq, refresh);
			}
			refresh = refresher(seq, note, path, shown);
			add(body, [o.panel(rs[1].ok ? rs[1].body : null, seq,
			    function () {
				/* The new job is on the first page of "all" and
				 * "in progress": go there if this is not it. */
				if ((status === "all" || status === "in_progress") &&
				    page === 1)
					refresh();
				else
					go(o.hash);
			    }), view, note]);
			shown(rs[0].body);
			say("Loaded " + plural(num((rs[0].body.counts || {})[status]),
			    o.one, o.many) + ".");
		});
	}

	/* Start a run: the kind and the button, or why not. */
	function syncNowPanel(conn, seq, started) {
		var reason = writeReason(), off, form, out, kind;

		if (reason === "")
			return null;
		off = reason !== null || (conn !== null && !conn.connected);
		out = el("div", { class: "result", role: "status" });
		kind = el("select", { name: "kind", disabled: off },
		    RUN_KINDS.map(function (k) {
			return el("option", { value: k[0], text: k[1] });
		    }));
		form = el("form", { class: "sync-now", novalidate: true,
		    onsubmit: function (ev) {
			var b = form.querySelector("button[type=submit]");

			ev.preventDefault();
			fieldError(form, "kind", "");
			b.disabled = true;
			result(out, "pending", "Starting\u2026");
			api("POST", "/api/v1/syncs", { kind: kind.value })
			    .then(function (r) {
				var m;

				b.disabled = false;
				if (S.over || seq !== S.seq)
					return;
				if (!r.ok) {
					if (r.error.field === "kind")
						fieldError(form, "kind",
						    sentence(r.error.message));
					m = r.error.code === "SYNC_IN_PROGRESS" &&
					    /run_[0-9a-f]+/.exec(str(r.error.message));
					result(out, "bad", [notice(r.error, r.status),
					    m ? el("p", null, el("a", { href: "#/syncs/" +
						m[0], text: "See the sync that is running" })) :
						null,
					    r.error.code === "STRIPE_NOT_CONNECTED" ?
						el("p", null, el("a", { href: "#/stripe",
						text: "Connect Stripe" })) : null]);
					say(runNameOf(kind.value) + " not started: " +
					    describe(r.error)[0] + ".");
					return;
				}
				result(out, "good", [runName(r.body) + " queued. ",
				    el("a", { href: "#/syncs/" +
					encodeURIComponent(str(r.body.id)),
					text: "Follow it on its own page" }), "."]);
				say(runName(r.body) + " queued.");
				started(r.body);
			    });
		    } },
		    field("sync-kind", "What to sync", kind, RUN_KINDS.map(
			function (k) {
			    return k[1] + ": " + k[2] + ".";
			}).join(" ") + " Each sync imports what is new in Stripe " +
			"since the last one: nothing is imported twice. Only a full " +
			"sync, with every kind turned on in Settings, keeps the " +
			"Stripe balance in Blnk equal to Stripe's."),
		    el("div", { class: "actions" },
			el("button", { type: "submit", class: "button primary",
			    disabled: off, text: "Sync now" }),
			reason !== null ? el("p", { class: "hint", text: reason }) :
			    conn !== null && !conn.connected ? el("p",
			    { class: "hint" }, "Stripe is not connected: ",
			    el("a", { href: "#/stripe", text: "connect it first" }),
			    ".") : null));
		return el("section", { class: "panel", "aria-labelledby":
		    "sync-now-title" },
		    el("h3", { id: "sync-now-title", text: "Start a sync" }),
		    form, out);
	}

	function runNameOf(kind) {
		var k = RUN_KINDS.filter(function (x) { return x[0] === kind; })[0];

		return k ? k[1] : "The sync";
	}

	function syncsScreen(params, box, seq) {
		historyScreen(params, box, seq, { api: "/api/v1/syncs",
		    hash: "#/syncs", one: "sync", many: "syncs", Many: "Syncs",
		    size: PAGE_SIZE, row: runRow, outcome: runOutcome,
		    panel: syncNowPanel, none: "No syncs yet. Connect Stripe, " +
		    "then press Sync now.", firstPage: true, listClass: "rows runs" });
	}

	/* --- one run ---------------------------------------------------- */

	var COUNTERS = [
		["found", "Found in Stripe", "New balance transactions this " +
		    "sync listed. A pay-in or payout sync imports only its " +
		    "kind: the others wait for a full sync."],
		["imported", "Imported", "Posted to Blnk and applied there."],
		["present", "Already in Blnk", "Listed again, and left alone: " +
		    "nothing is imported twice."],
		["rejected", "Rejected by Blnk", "Blnk refused or rejected the " +
		    "posting: see the problems below."],
		["failed", "Not imported", "Stripe Sync could not turn them " +
		    "into postings: see the problems below."]
	];

	/* What to do about a problem, by its code (the message says what
	 * happened; these say where to act). */
	var PROBLEM_HELP = {
		REJECTED: ["Settings", "#/settings"],
		BLNK_REFUSED: ["Settings", "#/settings"],
		mapping: ["Settings", "#/settings"]
	};

	function counters(run) {
		var n = run.counts || {};

		return el("dl", { class: "counters" }, COUNTERS.map(function (c) {
			return el("div", { class: "counter counter-" + c[0] },
			    el("dt", { text: c[1] }),
			    el("dd", null, el("span", { class: "counter-n",
				text: String(num(n[c[0]])) }),
				el("span", { class: "hint", text: c[2] })));
		}));
	}

	/* Stripe holds X; Blnk's <balance> shows Y; matches or differs. */
	function balancesPart(run, stripeBal) {
		var b = run.balances, partial;

		if (!Array.isArray(b))
			return [el("p", { class: "hint", text: runActive(run) ?
			    "Compared with Stripe's when the sync ends." :
			    "Not compared: the sync ended before the balance check." })];
		if (b.length === 0)
			return [el("p", { class: "hint", text: "Stripe holds no " +
			    "balance in any currency." })];
		partial = b.some(function (x) {
			return !x.match && x.blnk_found && !x.all_kinds_imported;
		});
		return [el("p", { class: "hint", text: "Blnk's " + stripeBal +
		    " mirrors Stripe's balance: when Stripe holds 100.00, " +
		    stripeBal + " shows -100.00." }),
		    partial ? el("p", { class: "hint balances-partial", text:
			"This sync did not import every kind (a pay-in or payout " +
			"sync, or a kind turned off in Settings), so the balances " +
			"need not be equal: a full sync of every kind makes them " +
			"match." }) : null,
		    el("ul", { class: "balances" }, b.map(function (x) {
			var cur = str(x.currency), why = null, holds, shows;
			var expected = false;

			holds = x.stripe !== undefined ? str(x.stripe) + " " + cur :
			    str(x.stripe_minor) + " (" + cur + " minor units)";
			shows = x.blnk !== undefined ? str(x.blnk) + " " + cur :
			    str(x.blnk_precise) + " (" + cur + " minor units)";
			if (!x.match) {
				if (!x.blnk_found)
					why = "Blnk has no " + stripeBal + " balance in " +
					    cur + " yet.";
				else if (!x.all_kinds_imported)
					expected = true;	/* said above */
				else if (x.stripe === undefined)
					why = "Stripe Sync cannot convert " + cur + " to " +
					    "Blnk's precision.";
				else
					why = "Look at the problems below, and at postings " +
					    "made to " + stripeBal + " outside Stripe Sync.";
			}
			return el("li", { class: x.match ? "match" : "differs" },
			    el("span", { class: "balance-cur", text: cur }),
			    el("span", { class: "balance-text", text: "Stripe holds " +
				holds + "; Blnk's " + stripeBal + " shows " + shows +
				"." }),
			    el("span", { class: "badge " + (x.match ? "badge-match" :
				expected ? "badge-expected" : "badge-differs"),
				text: x.match ? "matches" : "differs" }),
			    why ? el("span", { class: "hint balance-why", text: why }) :
				null);
		    }))];
	}

	var PROBLEMS_SHOWN = 100;	/* at first; the API sends up to 500 */

	function problemsPart(run) {
		var list = Array.isArray(run.problems) ? run.problems : [];
		var total = num(run.problems_total) || list.length, ul, more;

		if (list.length === 0)
			return [el("p", { class: "hint", text: runActive(run) ?
			    "None so far." : "None: every item was imported or " +
			    "already in Blnk." })];
		function item(p) {
			var help = PROBLEM_HELP[p.code], ref = str(p.reference);

			return el("li", null,
			    el("p", { class: "problem-text" },
				el("span", { class: "badge badge-differs",
				    text: str(p.code) || "?" }), " ",
				sentence(p.message)),
			    el("dl", { class: "facts" },
				el("dt", { text: "Stripe id" }),
				el("dd", { class: "mono", text: str(p.stripe_id) ||
				    "\u2014" }),
				el("dt", { text: "Blnk reference" }),
				el("dd", null, ref && can("data:read") === "yes" ?
				    el("a", { class: "mono", href:
					"#/transactions?reference=" +
					encodeURIComponent(ref), text: ref }) :
				    el("span", { class: "mono", text: ref ||
					"none" }))),
			    help ? el("p", { class: "hint" }, "Then: ", el("a",
				{ href: help[1], text: help[0] }), ".") : null);
		}
		ul = el("ul", { class: "problems" },
		    list.slice(0, PROBLEMS_SHOWN).map(item));
		more = list.length > PROBLEMS_SHOWN ? el("button", { type: "button",
		    class: "button", "data-key": "problems-more",
		    text: "Show all " + list.length, onclick: function () {
			list.slice(PROBLEMS_SHOWN).forEach(function (p) {
				ul.appendChild(item(p));
			});
			more.remove();
		    } }) : null;
		return [el("p", { class: "hint", text: total > list.length ?
		    "The first " + list.length + " of " + total + " problems. " +
		    "Fix these and run a sync again to see the others." :
		    plural(total, "problem", "problems") + "." }), ul, more];
	}

	function runScreen(id, box, seq) {
		var h;

		box.appendChild(el("p", { class: "crumbs" },
		    el("a", { href: "#/syncs", text: "\u2190 Syncs" })));
		h = box.appendChild(heading("Sync run"));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		load(box, seq, "the sync run", Promise.all([api("GET",
		    "/api/v1/syncs/" + encodeURIComponent(id)),
		    api("GET", "/api/v1/settings")]), function (body, rs) {
			var stripeBal = rs[1].ok && rs[1].body && rs[1].body.mapping &&
			    rs[1].body.mapping.stripe_balance ?
			    str(rs[1].body.mapping.stripe_balance) : "@stripe";
			/* The parts; the live region is made once, so that
			 * screen readers follow it. */
			var facts1 = el("div"), live = el("p", { class: "run-live",
			    role: "status", id: "run-live" });
			var prog = el("div", { class: "run-progress" });
			var note = el("p", { class: "hint refresh-note" });
			var errBox = el("div"), counts = el("div");
			var bal = el("div"), probs = el("div"), part = partsOf();
			var refresh;

			function shown(run, first) {
				var pr = progressOf(run);

				h.textContent = runName(run) + " \u00b7 " +
				    (RUN_STATUS[run.status] || str(run.status));
				part(facts1, "facts", [run.status, run.started_at,
				    run.finished_at, run.attempts], function () {
					return runFacts(run);
				});
				if (runActive(run)) {
					liveText(live, pr.words + ".");
					refill(prog, progressBar(run, "run", "run-live"));
				} else {
					liveText(live, runOutcome(run));
					prog.textContent = "";
				}
				part(errBox, "error", run.error, function () {
					return runError(run);
				});
				part(counts, "counts", run.counts, function () {
					return counters(run);
				});
				part(bal, "balances", [run.balances, run.status],
				    function () {
					return balancesPart(run, stripeBal);
				});
				part(probs, "problems", [run.problems,
				    run.problems_total, run.status], function () {
					return problemsPart(run);
				});
				note.textContent = "";
				if (first)
					say("Loaded " + runName(run) + ".");
				if (runActive(run))
					pollAgain(seq, refresh);
			}
			refresh = refresher(seq, note, "/api/v1/syncs/" +
			    encodeURIComponent(id), shown);
			add(body, [facts1, el("section", { class: "panel",
			    "aria-labelledby": "run-progress-title" },
			    el("h3", { id: "run-progress-title", text: "Progress" }),
			    live, prog, note), errBox,
			    el("h3", { text: "Counts" }), counts,
			    el("h3", { text: "Balances" }), bal,
			    el("h3", { text: "Problems" }), probs]);
			shown(rs[0].body, true);
		});
	}

	function runFacts(run) {
		var kind = RUN_KINDS.filter(function (k) {
			return k[0] === run.kind;
		})[0];

		return facts([["Status", runBadge(run)],
		    ["What", runName(run) + (kind ? ": " + kind[2] : "")],
		    ["Started by", run.trigger === "portal" ? "Sync now, in the " +
			"portal" : run.trigger === "schedule" ? "The schedule (see " +
			"Settings)" : str(run.trigger) || "\u2014"],
		    ["Mode", modeWords(run.mode)],
		    ["Queued", when(run.created_at)],
		    ["Started", run.started_at ? when(run.started_at) :
			"Not yet"],
		    ["Finished", run.finished_at ? when(run.finished_at) +
			(took(run) ? " (took " + took(run) + ")" : "") :
			runActive(run) ? "Not yet" : "\u2014"],
		    num(run.attempts) > 1 ? ["Attempts", String(run.attempts) +
			" (the sync runner was restarted or interrupted; it " +
			"went on where it stopped)"] : null,
		    ["Run id", el("span", { class: "mono", text: str(run.id) })]]);
	}

	var FAILED_AT = { start: "starting", customers: "reading the " +
	    "customers", fetch: "listing from Stripe", post: "posting to Blnk",
	    confirm: "confirming the postings", check: "comparing the balances" };

	function runError(run) {
		var e = run.error, d;

		if (!e || run.status !== "failed")
			return null;
		d = ERRORS[e.code];
		return el("div", { class: "notice", role: "alert" },
		    el("h3", { text: "The sync failed" + (FAILED_AT[(run.progress ||
			{}).phase] ? " while " + FAILED_AT[run.progress.phase] :
			"") }),
		    el("p", { text: sentence(e.message || e.code) }),
		    el("p", { text: (d ? d[1] + " " : "") + "Then start a new " +
			"sync: it goes on from where this one stopped, and " +
			"imports nothing twice." }),
		    el("p", { class: "code", text: "Code: " + str(e.code) }),
		    can("data:write") === "yes" ? el("p", null, el("a",
			{ href: "#/syncs", text: "Go to Syncs to start one" })) :
			null);
	}

	/* --- reconciliations ---------------------------------------------- */

	var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
	    "Sep", "Oct", "Nov", "Dec"];

	/* "2026-11-03" -> [2026, "Nov", 3], or null. */
	function dayParts(d) {
		var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(str(d));

		if (!m || +m[2] < 1 || +m[2] > 12)
			return null;
		return [+m[1], MONTHS[+m[2] - 1], +m[3]];
	}

	/* "3 Nov" (the year is said once, by the period). */
	function dayShort(d) {
		var p = dayParts(d);

		return p ? p[2] + " " + p[1] : str(d);
	}

	function dayLong(d) {
		var p = dayParts(d);

		return p ? p[2] + " " + p[1] + " " + p[0] : str(d);
	}

	/* "1 Nov to 30 Nov 2026", "3 Dec 2025 to 2 Jan 2026", "3 Nov 2026". */
	function periodWords(from, to) {
		var a = dayParts(from), b = dayParts(to);

		if (!a || !b)
			return str(from) + " to " + str(to);
		if (from === to)
			return dayLong(to);
		return (a[0] === b[0] ? dayShort(from) : dayLong(from)) + " to " +
		    dayLong(to);
	}

	/* "1234567.5" -> "1,234,567.5": the API's decimal string, grouped,
	 * never through a float. */
	function grouped(v) {
		var m = /^(-?)(\d+)(\.\d+)?$/.exec(str(v));

		if (!m)
			return str(v);
		return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") +
		    (m[3] || "");
	}

	function count(v) {
		return grouped(String(num(v)));
	}

	/* "1,234 postings", "1 posting". */
	function counted(v, one, many) {
		return count(v) + " " + (num(v) === 1 ? one : many);
	}

	/* a - b of two decimal strings, exactly, as a decimal string with
	 * the longer of their decimals; null if either is not one. */
	function decDiff(a, b) {
		var ma = /^(-?)(\d+)(?:\.(\d+))?$/.exec(str(a));
		var mb = /^(-?)(\d+)(?:\.(\d+))?$/.exec(str(b));
		var d, ia, ib, r, neg, s;

		if (!ma || !mb || typeof BigInt !== "function")
			return null;
		d = Math.max((ma[3] || "").length, (mb[3] || "").length);
		function big(m) {
			var f = (m[3] || "");

			while (f.length < d)
				f += "0";
			return BigInt(m[1] + m[2] + f);
		}
		ia = big(ma);
		ib = big(mb);
		r = ia - ib;
		neg = r < BigInt(0);
		s = (neg ? -r : r).toString();
		while (s.length <= d)
			s = "0" + s;
		return (neg ? "-" : "") + s.slice(0, s.length - d) +
		    (d ? "." + s.slice(s.length - d) : "");
	}

	function amountText(v, cur) {
		return v === null || v === undefined ? "\u2014" :
		    grouped(v) + " " + str(cur);
	}

	/* Each kind of difference: [in a count, plural, a row's title]. */
	var DIFF_KINDS = [
		["missing", "missing in Blnk", "missing in Blnk", "Missing in Blnk"],
		["rejected", "rejected by Blnk", "rejected by Blnk",
		    "Rejected by Blnk"],
		["queued", "not yet applied in Blnk", "not yet applied in Blnk",
		    "Not yet applied in Blnk"],
		["amount", "amount mismatch", "amount mismatches",
		    "Amounts differ"],
		["currency", "currency mismatch", "currency mismatches",
		    "Currencies differ"],
		["unknown", "unknown to Stripe", "unknown to Stripe",
		    "Unknown to Stripe"],
		["balance", "balance that differs", "balances that differ",
		    "Balances differ"]
	];

	function diffKind(k) {
		return DIFF_KINDS.filter(function (d) { return d[0] === k; })[0] ||
		    [k, str(k), str(k), str(k)];
	}

	var RECON_STEPS = 4;

	/* Where a reconciliation is, as progressOf() says it for a sync. */
	function reconProgress(rec) {
		var n = rec.counts || {};
		var ph = str(rec.phase || (rec.progress || {}).phase);

		if (rec.status === "queued" || ph === "queued" || ph === "")
			return { step: 0, done: 0, words: "Waiting to start: " +
			    "the job runner takes it in a moment" };
		switch (ph) {
		case "rc_stripe":
			return { step: 1, done: 0.5, words: "Listing Stripe's " +
			    "balance transactions" + (num(n.stripe) ? ": " +
			    count(n.stripe) + " so far" : "") };
		case "rc_blnk":
		case "rc_lookup":
			return { step: 2, done: 1.5, words: "Reading Blnk's " +
			    "postings" + (num(n.blnk) ? ": " + count(n.blnk) +
			    " so far" : "") + (num(n.stripe) ? ", for " +
			    counted(n.stripe, "Stripe balance transaction",
			    "Stripe balance transactions") : "") };
		case "rc_balances":
			return { step: 3, done: 2.5, words: "Reading Stripe's " +
			    "balance and Blnk's" };
		case "rc_compare":
			return { step: 4, done: 3.5, words: "Comparing them one " +
			    "by one" };
		case "done":
			return { step: 4, done: 4, words: "Finishing" };
		}
		return { step: 1, done: 0, words: "Working (" + ph + ")" };
	}

	function reconBar(rec, wordsId) {
		var pr = reconProgress(rec);

		return el("div", { class: "progress" },
		    wordsId ? null : el("p", { class: "progress-words",
			text: pr.words + "." }),
		    el("progress", { max: RECON_STEPS, value: pr.done,
			"aria-label": wordsId ? null : "Reconciliation progress",
			"aria-labelledby": wordsId || null,
			"aria-valuetext": "Step " + Math.max(pr.step, 1) + " of " +
			RECON_STEPS + ": " + pr.words }),
		    el("p", { class: "progress-step", text: pr.step === 0 ?
			"Queued" : "Step " + pr.step + " of " + RECON_STEPS }));
	}

	/* "1 Nov to 30 Nov 2026, all currencies" or "Payout po_...". */
	function reconScope(rec) {
		if (rec.scope === "payout")
			return "Payout " + str(rec.payout);
		return periodWords(rec.from, rec.to) + (rec.currency ? ", " +
		    str(rec.currency).toUpperCase() + " only" :
		    ", all currencies");
	}

	/* The kinds found, in words: "1 missing in Blnk, 2 amount
	 * mismatches", from the differences listed. */
	function kindCounts(list) {
		return DIFF_KINDS.map(function (k) {
			var c = list.filter(function (d) {
				return d.kind === k[0];
			}).length;

			return c ? c + " " + (c === 1 ? k[1] : k[2]) : null;
		}).filter(Boolean).concat(list.filter(function (d) {
			return !DIFF_KINDS.some(function (k) {
				return k[0] === d.kind;
			});
		}).length ? ["others"] : []);
	}

	/* The totals of both sides, "USD 12,345.67 and EUR 10.00". */
	function totalsWords(rec) {
		var t = Array.isArray(rec.totals) ? rec.totals : [];
		var parts = t.map(function (x) {
			return str(x.currency) + " " + grouped(x.stripe);
		});

		if (parts.length === 0)
			return "";
		return parts.length === 1 ? parts[0] : parts.slice(0, -1)
		    .join(", ") + " and " + parts[parts.length - 1];
	}

	/* What a finished reconciliation found, in one sentence. */
	function reconHeadline(rec) {
		var n = rec.counts || {}, list = Array.isArray(rec.differences) ?
		    rec.differences : [], total = num(n.differences) ||
		    num(rec.differences_total) || list.length, what, tw;

		if (rec.status === "failed")
			return "The reconciliation failed" + (rec.error &&
			    rec.error.message ? ": " + sentence(rec.error.message) :
			    ".");
		if (rec.result === "clean" || (rec.result !== "differences" &&
		    total === 0)) {
			what = counted(n.stripe, "Stripe balance transaction",
			    "Stripe balance transactions");
			what = rec.scope === "payout" ? "the " + what +
			    " payout " + str(rec.payout) + " settled" : what +
			    (rec.currency ? " in " + str(rec.currency)
			    .toUpperCase() : "") + " from " +
			    periodWords(rec.from, rec.to);
			tw = totalsWords(rec);
			return "Everything matches: " + what + " equal" +
			    (num(n.stripe) === 1 && rec.scope !== "payout" ? "s" :
			    "") + " Blnk's postings" + (tw ? ": " + tw +
			    " on both sides." : ".");
		}
		return counted(total, "difference", "differences") + ": " +
		    kindCounts(list).join(", ") + (list.length < total ?
		    " (of the first " + list.length + " listed)" : "") + ".";
	}

	/* A list row's one-line result. */
	function reconResultLine(rec) {
		var n = rec.counts || {};

		if (runActive(rec))
			return null;
		if (rec.status === "failed")
			return el("span", { class: "row-error", text: "Failed: " +
			    sentence(rec.error && (rec.error.message ||
			    rec.error.code) || "no reason given") });
		if (rec.result === "clean")
			return el("span", { class: "row-counts" }, el("span",
			    { class: "badge badge-match", text: "Everything matches" }),
			    " " + counted(n.stripe, "balance transaction",
			    "balance transactions") + " compared");
		return el("span", { class: "row-counts" }, el("span",
		    { class: "badge badge-differs", text: counted(n.differences,
		    "difference", "differences") }), " in " + counted(n.stripe,
		    "balance transaction", "balance transactions"));
	}

	function reconBadge(rec) {
		var s = str(rec.status);

		return el("span", { class: "badge badge-" + s.replace(/[^a-z]/g,
		    ""), text: RUN_STATUS[s] || s || "?" });
	}

	function reconRow(rec) {
		return el("li", null, el("a", { href: "#/reconciliations/" +
		    encodeURIComponent(str(rec.id)), "data-key": "rec-" +
		    str(rec.id) },
		    el("span", { class: "row-title" }, reconScope(rec), " ",
			reconBadge(rec)),
		    el("span", { class: "row-meta", text: [triggerWords(
			rec.trigger), (rec.started_at ? "started " : "queued ") +
			when(rec.started_at || rec.created_at), rec.finished_at ?
			"finished " + when(rec.finished_at) : null]
			.filter(Boolean).join(" \u00b7 ") }),
		    runActive(rec) ? reconBar(rec) : reconResultLine(rec)));
	}

	var RECON_PAGE = 20;

	/* Today and 29 days before, UTC: the default period (30 days). */
	function defaultPeriod() {
		var now = Date.now();

		return [new Date(now - 29 * 86400000).toISOString().slice(0, 10),
		    new Date(now).toISOString().slice(0, 10)];
	}

	function validDay(v) {
		var d = new Date(v + "T00:00:00Z");

		return DATE_RE.test(v) && !isNaN(d.getTime()) &&
		    d.toISOString().slice(0, 10) === v;
	}

	var RECON_CHECKS = {
		from: function (v, form) {
			v = v.trim();
			if (form.elements.what.value !== "period")
				return "";
			if (!validDay(v))
				return "A date, e.g. " + defaultPeriod()[0] + ".";
			return "";
		},
		to: function (v, form) {
			var f = form.elements.from.value.trim(), days;

			v = v.trim();
			if (form.elements.what.value !== "period")
				return "";
			if (!validDay(v))
				return "A date, e.g. " + defaultPeriod()[1] + ".";
			if (!validDay(f))
				return "";
			if (v < f)
				return "Must be on or after the first day.";
			days = (Date.parse(v) - Date.parse(f)) / 86400000 + 1;
			if (days > 366)
				return "At most 366 days: this is " + days + ".";
			if (v > new Date().toISOString().slice(0, 10))
				return "Not after today (" + new Date().toISOString()
				    .slice(0, 10) + ", UTC).";
			return "";
		},
		currency: function (v, form) {
			v = v.trim();
			if (form.elements.what.value !== "period" || v === "")
				return "";
			if (!/^[A-Za-z]{3}$/.test(v))
				return "Three letters, e.g. USD; or leave it empty for " +
				    "every currency.";
			return "";
		},
		payout: function (v, form) {
			v = v.trim();
			if (form.elements.what.value !== "payout")
				return "";
			if (v === "")
				return "A payout id from Stripe, po_...";
			if (!/^po_[A-Za-z0-9]{1,250}$/.test(v))
				return "A Stripe payout id: po_ then letters and digits.";
			return "";
		}
	};

	/* The id of the job a JOB_IN_PROGRESS message names, as a link. */
	function activeJobLink(err) {
		var m = /\b(rec_[A-Za-z0-9]+|run_[A-Za-z0-9]+)\b/.exec(
		    str(err && err.message));

		if (!m)
			return null;
		return el("p", null, el("a", { href: (/^rec_/.test(m[1]) ?
		    "#/reconciliations/" : "#/syncs/") + m[1], text: /^rec_/
		    .test(m[1]) ? "See the reconciliation that is running" :
		    "See the sync that is running" }));
	}

	/* The form that starts one: a period (and a currency) or a payout. */
	function reconForm(conn, seq, started) {
		var out, form, what, off, per = defaultPeriod(), periodBox, payBox;

		off = conn !== null && !conn.connected;
		out = el("div", { class: "result", role: "status" });
		what = el("fieldset", { class: "choice" },
		    el("legend", { text: "What to reconcile" }),
		    el("label", { class: "check" }, el("input", { type: "radio",
			name: "what", value: "period", checked: true,
			id: "rc-what-period" }), " A period"),
		    el("label", { class: "check" }, el("input", { type: "radio",
			name: "what", value: "payout", id: "rc-what-payout" }),
			" A payout"));
		periodBox = el("div", { class: "grid" },
		    field("rc-from", "From (UTC)", el("input", { name: "from",
			type: "date", value: per[0], min: "2010-01-01",
			max: per[1] }), "The first day, included."),
		    field("rc-to", "To (UTC)", el("input", { name: "to",
			type: "date", value: per[1], min: "2010-01-01",
			max: per[1] }), "The last day, included. At most 366 " +
			"days in all."),
		    field("rc-currency", "Currency (optional)", el("input", {
			name: "currency", autocomplete: "off", maxlength: 3,
			spellcheck: "false", placeholder: "every currency" }),
			"Three letters, e.g. USD. Empty: every currency."));
		payBox = el("div", { hidden: true },
		    field("rc-payout", "Payout id", el("input", { name: "payout",
			autocomplete: "off", spellcheck: "false", maxlength: 255 }),
			"From Stripe's dashboard (Balances, Payouts): po_... " +
			"Compares what the payout settled with Blnk."));
		form = el("form", { class: "recon-form", novalidate: true,
		    onsubmit: function (ev) {
			var b = form.querySelector("button[type=submit]"), body;
			var e = form.elements;

			ev.preventDefault();
			if (!checkForm(form, RECON_CHECKS)) {
				result(out, "", "");
				return;
			}
			body = e.what.value === "payout" ?
			    { payout: e.payout.value.trim() } :
			    { from: e.from.value.trim(), to: e.to.value.trim() };
			if (e.what.value === "period" && e.currency.value.trim())
				body.currency = e.currency.value.trim().toLowerCase();
			b.disabled = true;
			result(out, "pending", "Starting\u2026");
			api("POST", "/api/v1/reconciliations", body).then(function (r) {
				var f;

				b.disabled = false;
				if (S.over || seq !== S.seq)
					return;
				if (!r.ok) {
					f = r.error.field;
					if (f && e[f] && f !== "what") {
						fieldError(form, f, sentence(r.error.message) ||
						    "Not accepted.");
						e[f].focus();
					}
					result(out, "bad", [notice(r.error, r.status),
					    f && e[f] ? el("p", { text: "\u201c" +
						e[f].labels[0].textContent.trim() + "\u201d: " +
						sentence(r.error.message) }) : null,
					    activeJobLink(r.error),
					    r.error.code === "STRIPE_NOT_CONNECTED" ?
						el("p", null, el("a", { href: "#/stripe",
						text: "Connect Stripe" })) : null]);
					say("The reconciliation was not started: " +
					    describe(r.error)[0] + ".");
					return;
				}
				result(out, "good", ["Reconciliation of " +
				    reconScope(r.body) + " queued. ", el("a", {
				    href: "#/reconciliations/" +
				    encodeURIComponent(str(r.body.id)),
				    text: "Follow it on its own page" }), "."]);
				say("Reconciliation queued.");
				started(r.body);
			});
		    } },
		    what, periodBox, payBox,
		    el("div", { class: "actions" },
			el("button", { type: "submit", class: "button primary",
			    disabled: off, text: "Reconcile" }),
			off ? el("p", { class: "hint" }, "Stripe is not " +
			    "connected: ", el("a", { href: "#/stripe",
			    text: "connect it first" }), ".") : null));
		Array.prototype.forEach.call(form.querySelectorAll(
		    "input[name=what]"), function (i) {
			i.addEventListener("change", function () {
				var pay = form.elements.what.value === "payout";

				periodBox.hidden = pay;
				payBox.hidden = !pay;
				["from", "to", "currency", "payout"].forEach(
				    function (k) {
					fieldError(form, k, "");
				    });
			});
		});
		form.elements.currency.addEventListener("input", function () {
			var c = form.elements.currency;

			c.value = c.value.toUpperCase();
		});
		liveChecks(form, RECON_CHECKS);
		return el("section", { class: "panel", "aria-labelledby":
		    "recon-now-title" },
		    el("h3", { id: "recon-now-title", text: "Reconcile with " +
			"Stripe" }),
		    el("p", { class: "hint", text: "Compares each of Stripe's " +
			"balance transactions with what Blnk holds under Stripe " +
			"Sync's references, day by day, and the balances. " +
			"Nothing is changed in Blnk or Stripe." }),
		    form, out);
	}

	function reconsScreen(params, box, seq) {
		historyScreen(params, box, seq, { api: "/api/v1/reconciliations",
		    hash: "#/reconciliations", one: "reconciliation",
		    many: "reconciliations", Many: "Reconciliations",
		    size: RECON_PAGE, row: reconRow, outcome: reconHeadline,
		    panel: reconForm, none: "No reconciliations yet. Choose a " +
		    "period above and press Reconcile.", firstPage: false,
		    listClass: "rows runs recons" });
	}

	/* --- one reconciliation ------------------------------------------ */

	function reconFacts(rec) {
		return facts([["Status", reconBadge(rec)],
		    ["What", rec.scope === "payout" ? "What payout " +
			str(rec.payout) + " settled" : reconScope(rec)],
		    ["Started by", rec.trigger === "portal" ? "Reconcile, in the " +
			"portal" : rec.trigger === "webhook" ? "Stripe, when the " +
			"payout was reconciled (webhook)" : rec.trigger ===
			"schedule" ? "The schedule" : str(rec.trigger) || "\u2014"],
		    ["Queued", when(rec.created_at)],
		    ["Started", rec.started_at ? when(rec.started_at) : "Not yet"],
		    ["Finished", rec.finished_at ? when(rec.finished_at) +
			(took(rec) ? " (took " + took(rec) + ")" : "") :
			runActive(rec) ? "Not yet" : "\u2014"],
		    ["Reconciliation id", el("span", { class: "mono",
			text: str(rec.id) })]]);
	}

	function reconError(rec) {
		var e = rec.error, d;

		if (!e || rec.status !== "failed")
			return null;
		d = ERRORS[e.code];
		return el("div", { class: "notice recon-error", role: "alert" },
		    el("h3", { text: "The reconciliation failed" }),
		    el("p", { text: sentence(e.message || e.code) }),
		    el("p", { text: (d ? d[1] + " " : "") + "Then reconcile " +
			"again: nothing was changed, in Blnk or in Stripe." }),
		    el("p", { class: "code", text: "Code: " + str(e.code) }),
		    el("p", null, el("a", { href: "#/reconciliations",
			text: "Reconcile again" })));
	}

	/* Each currency's totals, in words. */
	function totalsPart(rec) {
		var t = Array.isArray(rec.totals) ? rec.totals : [];

		if (t.length === 0)
			return [el("p", { class: "hint", text: "Neither Stripe nor " +
			    "Blnk has anything in this " + (rec.scope === "payout" ?
			    "payout." : "period.") })];
		return [num(rec.excluded) ? el("p", { class: "hint", text:
		    counted(rec.excluded, "Stripe balance transaction was",
		    "Stripe balance transactions were") + " left out: the " +
		    "settings do not import their kind, or they came before " +
		    "the start date (the opening balance stands for them)." }) :
		    null,
		    el("ul", { class: "balances totals" }, t.map(function (x) {
			var cur = str(x.currency), gap = decDiff(x.stripe, x.blnk);
			var sN = num(x.stripe_count), bN = num(x.blnk_count);
			var words = "Stripe's " + counted(sN, "balance transaction",
			    "balance transactions") + " total " +
			    amountText(x.stripe, cur) + "; Blnk's " +
			    counted(bN, "posting", "postings") + (x.match ?
			    " total the same." :
			    gap !== null && /^-?[0.]+$/.test(gap) ? " total the " +
			    "same, but not item by item: see the differences." :
			    " total " + amountText(x.blnk, cur) + (gap !== null ?
			    ", " + grouped(gap.replace(/^-/, "")) + " " + cur + " " +
			    (gap.charAt(0) === "-" ? "more" : "less") + " than " +
			    "Stripe's." : "."));

			return el("li", { class: x.match ? "match" : "differs" },
			    el("span", { class: "balance-cur", text: cur }),
			    el("span", { class: "balance-text", text: words }),
			    el("span", { class: "badge " + (x.match ? "badge-match" :
				"badge-differs"), text: x.match ? "matches" :
				"differs" }));
		}))];
	}

	/* One chart a currency, with its legend and the days it marks. */
	function chartsPart(rec, width) {
		var days = Array.isArray(rec.days) ? rec.days : [];
		var curs = [], C = window.StripeSyncChart;

		(Array.isArray(rec.totals) ? rec.totals : []).forEach(function (t) {
			if (curs.indexOf(str(t.currency)) === -1)
				curs.push(str(t.currency));
		});
		days.forEach(function (d) {
			if (curs.indexOf(str(d.currency)) === -1)
				curs.push(str(d.currency));
		});
		if (curs.length === 0)
			return [el("p", { class: "hint", text: "Nothing to draw: no " +
			    "activity on either side." })];
		if (!C)
			return [el("p", { class: "hint", text: "The chart could not " +
			    "be drawn (chart.js did not load): reload the page." })];
		return curs.map(function (cur) {
			var mine = days.filter(function (d) {
				return str(d.currency) === cur;
			});
			var bad = mine.filter(function (d) {
				return d.match === false;
			});
			var span = rec.scope === "period" && rec.from && rec.to ?
			    periodWords(rec.from, rec.to) : mine.length ?
			    periodWords(mine[0].day, mine[mine.length - 1].day) : "";
			var title = cur + ", Stripe's and Blnk's totals a day" +
			    (span ? ", " + span : "") + ": " + (bad.length === 0 ?
			    "equal on every day." : "they differ on " + plural(
			    bad.length, "day", "days") + ": " + bad.slice(0, 10)
			    .map(function (d) { return dayShort(d.day); })
			    .join(", ") + (bad.length > 10 ? " and " +
			    (bad.length - 10) + " more" : "") + ".");
			var c = C.daily(doc, { currency: cur, days: mine,
			    from: rec.scope === "period" ? rec.from : null,
			    to: rec.scope === "period" ? rec.to : null,
			    width: width, amount: grouped, dayWords: dayShort,
			    title: title });

			return el("section", { class: "chart-box", "aria-labelledby":
			    "chart-" + cur + "-title", "data-currency": cur },
			    el("h4", { id: "chart-" + cur + "-title", text: cur +
				": totals a day" }),
			    c.figure,
			    el("ul", { class: "legend", "aria-label": "Legend" },
				el("li", null, el("span", { class: "swatch " +
				    "swatch-stripe" }), "Stripe (solid line, dots)"),
				el("li", null, el("span", { class: "swatch " +
				    "swatch-blnk" }), "Blnk (dashed line, squares)"),
				bad.length ? el("li", null, el("span", { class: "swatch " +
				    "swatch-diff" }), "A day that differs") : null),
			    bad.length === 0 ? el("p", { class: "chart-note good",
				text: "Stripe and Blnk agree on every day: the two " +
				"lines lie on each other." }) :
			    el("div", { class: "chart-note bad" },
				el("p", { text: "They differ on " + plural(bad.length,
				    "day", "days") + ":" }),
				el("ol", { class: "diff-days" }, bad.map(function (d) {
					var gap = decDiff(d.stripe, d.blnk);

					return el("li", { "data-day": str(d.day) },
					    dayLong(d.day) + ": Stripe " +
					    amountText(d.stripe, cur) + ", Blnk " +
					    amountText(d.blnk, cur) + (gap !== null ?
					    ": " + grouped(gap.replace(/^-/, "")) + " " +
					    cur + " apart" : "") + ".");
				}))));
		});
	}

	/* The balance comparison, as the sync's: both signed as Stripe
	 * sees them. */
	function reconBalances(rec) {
		var b = Array.isArray(rec.balances) ? rec.balances : null;

		if (b === null)
			return [el("p", { class: "hint", text: "Not compared." })];
		if (b.length === 0)
			return [el("p", { class: "hint", text: "Stripe holds no " +
			    "balance in any currency." })];
		return [el("p", { class: "hint", text: "Now, both as Stripe " +
		    "sees them: what Stripe holds for you, and what Blnk's " +
		    "balance for your Stripe account mirrors." }),
		    b.some(function (x) {
			return !x.match && x.comparable === false;
		    }) ? el("p", { class: "hint balances-partial", text: "The " +
			"settings leave some kinds out of the import, so the " +
			"balances need not be equal: importing every kind makes " +
			"them match." }) : null,
		    el("ul", { class: "balances recon-balances" },
			b.map(function (x) {
			var cur = str(x.currency);
			var expected = !x.match && x.comparable === false;

			return el("li", { class: x.match ? "match" : "differs" },
			    el("span", { class: "balance-cur", text: cur }),
			    el("span", { class: "balance-text", text: "Stripe holds " +
				amountText(x.stripe, cur) + "; Blnk mirrors " +
				amountText(x.blnk, cur) + "." }),
			    el("span", { class: "badge " + (x.match ? "badge-match" :
				expected ? "badge-expected" : "badge-differs"),
				text: x.match ? "matches" : "differs" }));
		    }))];
	}

	var DIFFS_SHOWN = 100;

	/* The differences, a table (a card a row when narrow). */
	function diffsPart(rec) {
		var list = Array.isArray(rec.differences) ? rec.differences : [];
		var total = num(rec.differences_total) || list.length, tb, more;
		var cols = ["What", "Day", "Stripe id", "Blnk reference",
		    "Blnk id", "Stripe amount", "Blnk amount", "What to do"];

		if (list.length === 0)
			return [el("p", { class: "hint", text: "None: every Stripe " +
			    "balance transaction is in Blnk, applied, with the same " +
			    "amount and currency, and Blnk holds nothing of Stripe " +
			    "Sync's that Stripe does not know." })];
		function cell(label, content, cls) {
			return el("td", { "data-label": label, class: cls || null },
			    el("div", null, content));
		}
		function mono(v) {
			return v ? el("span", { class: "mono", text: str(v) }) :
			    "\u2014";
		}
		function row(d) {
			var k = diffKind(d.kind), ref = str(d.reference);
			var bid = str(d.blnk_id);

			return el("tr", { class: "diff diff-" + str(d.kind)
			    .replace(/[^a-z]/g, ""), "data-kind": str(d.kind) },
			    cell("What", [el("strong", { text: k[3] }),
				d.currency ? " (" + str(d.currency) + ")" : null,
				d.message ? el("span", { class: "diff-message",
				text: sentence(d.message) }) : null]),
			    cell("Day", d.day ? dayShort(d.day) : "\u2014",
				"diff-day"),
			    cell("Stripe id", mono(d.stripe_id), "diff-stripe-id"),
			    cell("Blnk reference", ref && can("data:read") === "yes" ?
				el("a", { class: "mono", href:
				"#/transactions?reference=" + encodeURIComponent(ref),
				text: ref }) : mono(ref), "diff-reference"),
			    cell("Blnk id", bid && /^txn_/.test(bid) ? el("a",
				{ class: "mono", href: "#/transactions/" +
				encodeURIComponent(bid), text: bid }) : bid &&
				/^bln_/.test(bid) ? el("a", { class: "mono",
				href: "#/balances/" + encodeURIComponent(bid),
				text: bid }) : mono(bid), "diff-blnk-id"),
			    cell("Stripe amount", amountText(d.stripe_amount,
				d.currency), "num diff-stripe-amount"),
			    cell("Blnk amount", amountText(d.blnk_amount,
				d.currency), "num diff-blnk-amount"),
			    cell("What to do", sentence(d.action) || "\u2014",
				"diff-action"));
		}
		tb = el("tbody", null, list.slice(0, DIFFS_SHOWN).map(row));
		more = list.length > DIFFS_SHOWN ? el("button", { type: "button",
		    class: "button", "data-key": "diffs-more",
		    text: "Show all " + list.length, onclick: function () {
			list.slice(DIFFS_SHOWN).forEach(function (d) {
				tb.appendChild(row(d));
			});
			more.remove();
		    } }) : null;
		return [el("p", { class: "hint", text: total > list.length ?
		    "The first " + list.length + " of " + total + " differences; " +
		    "the CSV has them all." : plural(total, "difference",
		    "differences") + "." }),
		    el("div", { class: "table-wrap" },
			el("table", { class: "diffs" },
			    el("caption", { class: "vh", text: "Differences " +
				"between Stripe and Blnk" }),
			    el("thead", null, el("tr", null, cols.map(function (c) {
				return el("th", { scope: "col", text: c });
			    }))), tb)), more];
	}

	/*
	 * The CSV: fetched with the session's bearer header (never a token
	 * in a URL), then saved from a Blob.  A frame whose sandbox lacks
	 * allow-downloads drops the download without a word to the page,
	 * so the CSV can also be shown here, to copy.
	 */
	function csvPanel(rec) {
		var out = el("div", { class: "result", role: "status" });
		var shown = el("div", { class: "csv-text" });
		var csv = null, name = str(rec.id) + ".csv", btn, showBtn;

		function fetchCsv() {
			return window.fetch("/api/v1/reconciliations/" +
			    encodeURIComponent(str(rec.id)) + "?format=csv", {
				method: "GET",
				headers: { "Authorization": "Bearer " + S.token,
				    "Accept": "text/csv" },
				cache: "no-store", credentials: "omit",
				referrerPolicy: "no-referrer"
			    }).then(function (res) {
				return res.text().then(function (text) {
					var body = null, m;

					if (res.ok) {
						m = /filename="([A-Za-z0-9_.-]+)"/.exec(
						    res.headers.get("Content-Disposition") || "");
						if (m)
							name = m[1];
						return { ok: true, text: text };
					}
					try {
						body = JSON.parse(text);
					} catch (e) {
						body = null;
					}
					return answer(false, res.status, body);
				});
			    }, function () {
				return answer(false, 0, null);
			    });
		}
		function save(text) {
			var url, a;

			url = window.URL.createObjectURL(new Blob([text],
			    { type: "text/csv;charset=utf-8" }));
			a = el("a", { href: url, download: name, hidden: true });
			doc.body.appendChild(a);
			a.click();
			a.remove();
			window.setTimeout(function () {
				window.URL.revokeObjectURL(url);
			}, 60000);
		}
		btn = el("button", { type: "button", class: "button",
		    "data-key": "csv", text: "Download CSV", onclick: function () {
			btn.disabled = true;
			result(out, "pending", "Preparing the CSV\u2026");
			fetchCsv().then(function (r) {
				var rows;

				btn.disabled = false;
				if (S.over)
					return;
				if (!r.ok) {
					result(out, "bad", notice(r.error, r.status));
					say("The CSV could not be downloaded.");
					return;
				}
				csv = r.text;
				save(csv);
				rows = csv.split(/\r?\n/).filter(function (l) {
					return l !== "";
				}).length - 1;
				result(out, "good", [el("p", { text: name + " was " +
				    "handed to your browser: a header row and " +
				    plural(Math.max(0, rows), "row", "rows") + ". If " +
				    "no file appeared, the frame " +
				    "Blnk Cloud shows this app in may not allow " +
				    "downloads: show the CSV here, then copy it into a " +
				    "file." }),
				    showBtn]);
				say("Downloaded " + name + ".");
			});
		    } });
		showBtn = el("button", { type: "button", class: "button",
		    "data-key": "csv-show", text: "Show the CSV",
		    onclick: function () {
			var ta;

			shown.textContent = "";
			ta = el("textarea", { id: "csv-" + str(rec.id),
			    readonly: true, rows: 8, spellcheck: "false",
			    class: "mono" });
			ta.value = csv || "";
			add(shown, [el("label", { for: ta.id, text: "The CSV of " +
			    str(rec.id) }), ta]);
			ta.focus();
			ta.select();
		    } });
		return el("div", { class: "csv" },
		    el("div", { class: "actions" }, btn,
			el("span", { class: "hint", text: "Every difference, one " +
			    "a row, under a header row: kind, currency, day, " +
			    "Stripe id, reference, Blnk id, both amounts, message " +
			    "and action." })),
		    out, shown);
	}

	function reconScreen(id, box, seq) {
		var h;

		box.appendChild(el("p", { class: "crumbs" },
		    el("a", { href: "#/reconciliations",
			text: "\u2190 Reconciliations" })));
		h = box.appendChild(heading("Reconciliation"));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		load(box, seq, "the reconciliation", api("GET",
		    "/api/v1/reconciliations/" + encodeURIComponent(id)),
		    function (body, r) {
			var facts1 = el("div"), live = el("p", { class: "run-live",
			    role: "status", id: "recon-live" });
			var prog = el("div", { class: "run-progress" });
			var note = el("p", { class: "hint refresh-note" });
			var errBox = el("div"), found = el("div"), part = partsOf();
			var head = el("div"), refresh;

			function shown(rec, first) {
				var pr = reconProgress(rec);

				h.textContent = "Reconciliation \u00b7 " +
				    (RUN_STATUS[rec.status] || str(rec.status));
				part(facts1, "facts", [rec.status, rec.started_at,
				    rec.finished_at], function () {
					return reconFacts(rec);
				});
				if (runActive(rec)) {
					liveText(live, pr.words + ".");
					refill(prog, reconBar(rec, "recon-live"));
				} else {
					liveText(live, rec.status === "completed" ?
					    "Completed." : "Failed.");
					prog.textContent = "";
				}
				part(errBox, "error", [rec.status, rec.error],
				    function () {
					return reconError(rec);
				});
				part(head, "head", [rec.status, rec.result],
				    function () {
					return rec.status === "completed" ?
					    reconHead(rec) : null;
				});
				part(found, "found", [rec.status, rec.result],
				    function () {
					return rec.status === "completed" ?
					    reconFound(rec, box.clientWidth) : null;
				});
				note.textContent = "";
				if (first)
					say("Loaded the reconciliation.");
				else if (!runActive(rec))
					say(reconHeadline(rec));
				if (runActive(rec))
					pollAgain(seq, refresh);
			}
			refresh = refresher(seq, note, "/api/v1/reconciliations/" +
			    encodeURIComponent(id), shown);
			add(body, [head, facts1, el("section", { class: "panel",
			    "aria-labelledby": "recon-progress-title" },
			    el("h3", { id: "recon-progress-title",
				text: "Progress" }), live, prog, note), errBox, found]);
			shown(r.body, true);
		});
	}

	/* What a completed reconciliation found, in one sentence, first. */
	function reconHead(rec) {
		var clean = rec.result === "clean" || (rec.result !==
		    "differences" && num((rec.counts || {}).differences) === 0);

		return el("p", { class: "headline " + (clean ? "good" : "bad"),
		    id: "recon-headline" }, reconHeadline(rec));
	}

	/* Then the totals, the charts, the balances, the differences and
	 * the CSV. */
	function reconFound(rec, width) {
		return [el("h3", { text: "Totals" }), totalsPart(rec),
		    el("h3", { text: "Day by day" }), chartsPart(rec,
			Math.max(300, (width || 600) - 8)),
		    el("h3", { text: "Balances" }), reconBalances(rec),
		    el("h3", { text: "Differences" }), diffsPart(rec),
		    csvPanel(rec)];
	}

	/* --- problems -------------------------------------------------- */

	/* Problems not flagged in Cloud, shown by the nav's badge. */
	var UNFLAGGED = ["pending", "unscoped", "untargeted"];

	function setProblemCount(list) {
		var n = list.filter(function (p) {
			return UNFLAGGED.indexOf(p.state) !== -1;
		}).length, b = $("problems-count");

		if (!b)
			return;
		b.textContent = "";
		b.hidden = n === 0;
		b.setAttribute("data-count", String(n));
		if (n)
			add(b, [el("span", { class: "vh", text: ": " }), String(n),
			    el("span", { class: "vh", text: " not flagged" })]);
	}

	var problemsAt = 0;	/* when the badge was last refreshed, ms */

	function refreshProblems(force) {
		if (can("data:read") !== "yes" || S.over ||
		    (!force && Date.now() - problemsAt < 10000))
			return;
		problemsAt = Date.now();
		api("GET", "/api/v1/problems?limit=100").then(function (r) {
			if (r.ok && r.body && Array.isArray(r.body.data))
				setProblemCount(r.body.data);
		});
	}

	function problemState(p, alertsWrite) {
		var aid = str(p.anomaly_id);

		switch (p.state) {
		case "flagged":
			return ["Flagged", "badge-completed", ["Flagged in Blnk " +
			    "Cloud as ", can("alerts:read") === "yes" && aid ?
			    el("a", { class: "mono", href: "#/alerts/" +
			    encodeURIComponent(aid), text: aid }) :
			    el("span", { class: "mono", text: aid || "an alert" }),
			    "."]];
		case "unscoped":
			return ["Not flagged", "badge-differs", ["Not flagged in " +
			    "Blnk Cloud: this installation lacks alerts:write. " +
			    "Reinstall with alerts:write to get Cloud alerts."]];
		case "untargeted":
			return ["Not flagged", "badge-differs", ["Not flagged: " +
			    "there is nothing in Blnk to flag it on (no " +
			    (p.target_type === "balance" ? "balance " : "transaction ") +
			    str(p.target) + (p.currency ? " in " + str(p.currency) :
			    "") + "). Look at it here."]];
		case "pending":
			return ["Waiting", "badge-queued", [alertsWrite === false ?
			    "Waiting: it will be shown here, not flagged " +
			    "(this installation lacks alerts:write)." :
			    "Waiting to be flagged in Blnk Cloud: in a moment." +
			    (p.last_error ? " The last try failed: " +
			    sentence(p.last_error) : "")]];
		case "cleared":
			return ["Cleared", "", ["Cleared: it went away before it " +
			    "was flagged."]];
		}
		return [str(p.state) || "?", "", [str(p.state)]];
	}

	function problemItem(p, alertsWrite) {
		var st = problemState(p, alertsWrite), tid = str(p.target_id);
		var src = str(p.source_id);

		return el("li", { class: "problem problem-" + str(p.state)
		    .replace(/[^a-z]/g, ""), "data-key": "problem-" + str(p.key) },
		    el("h3", { class: "problem-title" }, str(p.title) ||
			"A problem", " ", el("span", { class: "badge " + st[1],
			text: st[0] })),
		    el("p", { class: "problem-text", text: str(p.description) }),
		    el("p", { class: "problem-state" }, st[2]),
		    facts([["When", when(p.created_at) + (p.updated_at &&
			p.updated_at !== p.created_at ? " (last changed " +
			when(p.updated_at) + ")" : "")],
			["About", el("span", null, (p.target_type === "balance" ?
			    "Balance " : "Transaction ") , el("span",
			    { class: "mono", text: str(p.target) }),
			    p.currency ? " (" + str(p.currency) + ")" : null,
			    tid ? [", ", idLink(tid)] : null)],
			src ? ["Found by", /^rec_/.test(src) ? el("a", { href:
			    "#/reconciliations/" + encodeURIComponent(src),
			    class: "mono", text: src }) : /^run_/.test(src) ?
			    el("a", { href: "#/syncs/" + encodeURIComponent(src),
			    class: "mono", text: src }) : el("span",
			    { class: "mono", text: src })] : null]));
	}

	function problemsScreen(box, seq) {
		box.appendChild(heading("Problems"));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		box.appendChild(el("p", { class: "hint", text: "What went wrong " +
		    "in syncs and reconciliations: failed runs, postings Blnk " +
		    "rejected, differences with Stripe. With alerts:write, each " +
		    "is flagged once in Blnk Cloud, on the transaction or " +
		    "balance it is about." }));
		load(box, seq, "the problems", api("GET",
		    "/api/v1/problems?limit=100"),
		    function (body, r) {
			var list = Array.isArray(r.body.data) ? r.body.data : [];
			var aw = r.body.alerts_write;

			problemsAt = Date.now();
			setProblemCount(list);
			if (aw === false)
				body.appendChild(el("div", { class: "notice locked" },
				    el("p", { text: "This installation may not flag " +
					"problems in Blnk Cloud (it was not granted " +
					"alerts:write), so they are shown here instead. " +
					"Reinstall with alerts:write to get Cloud alerts." })));
			if (list.length === 0) {
				body.appendChild(el("div", { class: "empty" },
				    el("p", { text: "No problems: every sync and " +
					"reconciliation went through." })));
				say("No problems.");
				return;
			}
			body.appendChild(el("ul", { class: "problem-list" },
			    list.map(function (p) {
				return problemItem(p, aw);
			    })));
			say("Loaded " + plural(list.length, "problem", "problems") +
			    ".");
		});
	}

	/* --- Stripe ----------------------------------------------------- */

	/* The rule of the server (stripe_key_parse): "" or what is wrong.
	 * Never repeats the key. */
	function keyProblem(k) {
		if (k === "")
			return "Paste a Stripe key.";
		if (/^pk_/.test(k))
			return "This is a publishable key (pk_...): it cannot read " +
			    "balance transactions. Use a secret key (sk_...) or a " +
			    "restricted key (rk_...).";
		if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}$/.test(k))
			return "A Stripe secret key starts with sk_live_ or " +
			    "sk_test_, a restricted key with rk_live_ or rk_test_, " +
			    "then letters and digits only.";
		return "";
	}

	function keyMode(k) {
		return k.slice(3, 8) === "live_" ? "live" : "test";
	}

	/* What the field says when the server refused the key (our words:
	 * Stripe's own message may quote part of the key). */
	var KEY_FIELD_ERRORS = {
		STRIPE_KEY_INVALID: "Stripe does not accept this key.",
		STRIPE_PERMISSION: "This key may not read the balance.",
		INVALID_FIELD: "Not a Stripe secret or restricted key.",
		MISSING_FIELD: "Paste a Stripe key."
	};

	function connFacts(conn) {
		if (!conn.connected)
			return [el("p", { class: "conn-state" },
			    el("span", { class: "badge", text: "Not connected" })),
			    el("p", { text: "Connect a Stripe key to start " +
				"importing." })];
		return [el("p", { class: "conn-state" },
		    el("span", { class: "badge badge-completed",
			text: "Connected" }), " ", el("span", { class: "badge " +
			(conn.mode === "live" ? "badge-live" : "badge-test"),
			text: modeWords(conn.mode) })),
		    facts([["Mode", modeWords(conn.mode) + (conn.mode === "live" ?
			": real payments." : ": Stripe's test data, no real " +
			"money.")],
			["Key", (conn.key_type === "restricted" ? "Restricted" :
			    "Secret") + " key ending in " + str(conn.last4)],
			Array.isArray(conn.currencies) ? ["Currencies",
			    conn.currencies.map(function (c) {
				return str(c).toUpperCase();
			    }).join(", ") || "none yet"] : null,
			["Connected", when(conn.connected_at)],
			["Last changed", when(conn.updated_at)]])];
	}

	function stripeScreen(box, seq) {
		box.appendChild(heading("Stripe"));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		box.appendChild(el("p", { class: "hint", text: "Stripe Sync reads " +
		    "your Stripe account's balance transactions with a key you " +
		    "give it, and posts them to Blnk. The key is checked with " +
		    "Stripe, then stored encrypted on the server; it is never " +
		    "shown again, only its mode and last four characters." }));
		load(box, seq, "the Stripe connection", api("GET", "/api/v1/stripe"),
		    function (body, r) {
			stripeParts(body, r.body || { connected: false }, seq);
			say("Loaded the Stripe connection.");
		});
	}

	function stripeParts(body, conn, seq) {
		var reason = writeReason(), state, form, input, out, ask, submit;
		var disc, discAsk, discOut, asked = null;

		state = el("section", { class: "panel", "aria-labelledby":
		    "conn-title" }, el("h3", { id: "conn-title",
		    text: "Connection" }), el("div", { class: "conn" }));
		body.appendChild(state);
		function setConn(c) {
			conn = c;
			refill(state.lastChild, connFacts(c));
			if (form) {
				form.querySelector("label").textContent = c.connected ?
				    "New Stripe API key" : "Stripe API key";
				submit.textContent = c.connected ? "Replace key" :
				    "Connect Stripe";
				disc.hidden = !c.connected;
			}
		}
		if (reason !== null) {
			if (reason !== "")
				body.appendChild(el("section", { class: "panel" },
				    el("h3", { text: "Connect or change the key" }),
				    el("p", { class: "hint", text: reason }),
				    el("button", { type: "button", class: "button",
					disabled: true, text: conn.connected ?
					"Replace key" : "Connect Stripe" })));
			refill(state.lastChild, connFacts(conn));
			add(body, webhookPanel(conn, seq, reason));
			return;
		}

		out = el("div", { class: "result", role: "status" });
		ask = el("div", { class: "confirm", role: "alert" });
		input = el("input", { name: "api_key", type: "password",
		    autocomplete: "off", spellcheck: "false",
		    autocapitalize: "off", maxlength: 255 });
		submit = el("button", { type: "submit", class: "button primary" });

		function busy(on) {
			Array.prototype.forEach.call(body.querySelectorAll("button"),
			    function (b) {
				b.disabled = on;
			    });
		}
		function unask() {
			ask.textContent = "";
			asked = null;
		}
		/* Confirm a key of the other mode: before it is sent when the
		 * connection's mode shows it (the key is still in the field),
		 * or after the server refused it (the key was cleared: the
		 * user pastes it again). */
		function askSwitch(mode, afterSend) {
			var other = mode === "live" ? "test" : "live", yes;

			asked = { mode: mode, after: afterSend };
			ask.textContent = "";
			result(out, "", "");
			yes = el("button", { type: "button", class: "button primary",
			    text: "Switch to " + mode + " mode", onclick: function () {
				send(true);
			    } });
			add(ask, el("div", { class: "notice" },
			    el("h3", { text: "Switch to " + mode + " mode?" }),
			    el("p", { text: afterSend ? "This installation has " +
				"used a " + other + "-mode key; this is a " + mode +
				"-mode key." : "This installation is connected in " +
				other + " mode; this is a " + mode + "-mode key." }),
			    el("p", { text: "Its postings would go to the same Blnk " +
				"balances as the " + other + "-mode ones: " + (mode ===
				"live" ? "real payments would mix with test data." :
				"test data would mix with real payments.") + " Switch " +
				"only if that is what you want." }),
			    afterSend ? el("p", { text: "The key was not kept: " +
				"paste it again, then press Switch to " + mode +
				" mode." }) : null,
			    el("div", { class: "actions" }, yes,
				el("button", { type: "button", class: "button",
				    text: "Cancel", onclick: function () {
					unask();
					input.value = "";
					fieldError(form, "api_key", "");
					say("Nothing changed.");
					input.focus();
				    } }))));
			say("Switch to " + mode + " mode? Confirm or cancel.");
			(afterSend ? input : yes).focus();
		}
		function send(confirmed) {
			var key = input.value.trim(), m = keyProblem(key), mode, req;

			fieldError(form, "api_key", m);
			if (m) {
				input.focus();
				say(m);
				return;
			}
			mode = keyMode(key);
			if (!confirmed && conn.connected && conn.mode !== mode) {
				askSwitch(mode, false);
				return;
			}
			unask();
			req = { api_key: key };
			if (confirmed)
				req.confirm_mode_switch = true;
			/* The key lives on only in the request's body. */
			input.value = "";
			key = null;
			busy(true);
			result(out, "pending", "Checking the key with Stripe\u2026");
			say("Checking the key with Stripe\u2026");
			api("PUT", "/api/v1/stripe", req).then(function (r) {
				req = null;
				input.value = "";
				busy(false);
				if (S.over || seq !== S.seq)
					return;
				if (!r.ok) {
					if (r.error.code === "MODE_SWITCH_UNCONFIRMED") {
						result(out, "", "");
						askSwitch(mode, true);
						return;
					}
					result(out, "bad", notice(r.error, r.status));
					if (r.error.field === "api_key" ||
					    KEY_FIELD_ERRORS[r.error.code] &&
					    r.error.code !== "INVALID_FIELD") {
						fieldError(form, "api_key",
						    KEY_FIELD_ERRORS[r.error.code] ||
						    "Not accepted.");
						input.focus();
					}
					say("The key was not connected: " +
					    describe(r.error)[0] + ".");
					return;
				}
				setConn(r.body);
				result(out, "good", "Connected in " + str(r.body.mode) +
				    " mode with the " + str(r.body.key_type) + " key " +
				    "ending in " + str(r.body.last4) + ".");
				say("Stripe connected in " + str(r.body.mode) + " mode.");
			});
		}

		form = el("form", { class: "key-form", novalidate: true,
		    autocomplete: "off", onsubmit: function (ev) {
			ev.preventDefault();
			send(false);
		    } },
		    field("stripe-key", "Stripe API key", input, "A secret key " +
			"(sk_live_... or sk_test_...), or a restricted key " +
			"(rk_...) with read access to the balance, balance " +
			"transactions, charges, customers, disputes, payouts and " +
			"refunds. Test-mode keys import Stripe's test data."),
		    el("div", { class: "actions" }, submit));
		input.addEventListener("input", function () {
			if (asked && !asked.after)
				unask();	/* a different key: ask again */
			if (input.getAttribute("aria-invalid"))
				fieldError(form, "api_key", "");
		});
		body.appendChild(el("section", { class: "panel",
		    "aria-labelledby": "key-title" },
		    el("h3", { id: "key-title", text: "Connect or change the key" }),
		    form, ask, out));

		add(body, webhookPanel(conn, seq, null));

		discOut = el("div", { class: "result", role: "status" });
		discAsk = el("div", { class: "confirm" });
		disc = el("section", { class: "panel", "aria-labelledby":
		    "disc-title" },
		    el("h3", { id: "disc-title", text: "Disconnect" }),
		    el("p", { class: "hint", text: "Deletes the key from Stripe " +
			"Sync. What was imported stays in Blnk; syncs stop until " +
			"a key is connected again." }),
		    el("div", { class: "actions" }, el("button", { type: "button",
			class: "button danger", text: "Disconnect Stripe",
			onclick: function () {
			    var keep = el("button", { type: "button",
				class: "button", text: "Keep it connected",
				onclick: function () {
				    discAsk.textContent = "";
				    say("Still connected.");
				} });

			    discAsk.textContent = "";
			    add(discAsk, el("div", { class: "notice", role: "alert" },
				el("p", { text: "Disconnect Stripe now? The key is " +
				    "deleted; to sync again you will need to paste " +
				    "a key." }),
				el("div", { class: "actions" },
				    el("button", { type: "button",
					class: "button danger primary",
					text: "Yes, disconnect", onclick: disconnect }),
				    keep)));
			    keep.focus();
			} })),
		    discAsk, discOut);
		body.appendChild(disc);

		function disconnect() {
			busy(true);
			result(discOut, "pending", "Disconnecting\u2026");
			api("DELETE", "/api/v1/stripe").then(function (r) {
				busy(false);
				if (S.over || seq !== S.seq)
					return;
				discAsk.textContent = "";
				if (!r.ok) {
					result(discOut, "bad", notice(r.error, r.status));
					return;
				}
				setConn(r.body || { connected: false });
				result(discOut, "", "");
				result(out, "good", "Disconnected: the key is deleted.");
				say("Stripe disconnected: the key is deleted.");
				input.focus();
			});
		}
		setConn(conn);
	}

	/* --- Stripe's webhooks ------------------------------------------- */

	/* The events the endpoint should get (what moves money, and the
	 * payout reconciliation). */
	var WEBHOOK_EVENTS = ["balance.available", "charge.succeeded",
	    "charge.refunded", "charge.dispute.*", "payout.paid",
	    "payout.failed", "payout.reconciliation_completed"];

	/* The server's rule, roughly: Stripe's signing secrets are whsec_
	 * and letters and digits.  "" or what is wrong; never repeats it. */
	function secretProblem(v) {
		if (v === "")
			return "Paste the endpoint's signing secret.";
		if (/^(sk|rk|pk)_/.test(v))
			return "This is an API key, not a webhook signing secret: " +
			    "the secret starts with whsec_.";
		if (!/^whsec_[A-Za-z0-9+/_-]{16,}={0,2}$/.test(v) ||
		    v.length > 256)
			return "A signing secret starts with whsec_, then at " +
			    "least 16 letters and digits, with no spaces.";
		return "";
	}

	function webhookFacts(w) {
		return facts([["Signing secret", w.set ? "Set: ending in " +
		    str(w.last4) + (w.set_at ? ", since " + when(w.set_at) : "") :
		    "Not set: Stripe's events are refused until it is."],
		    ["Events received", w.events || w.last_event_at ?
			plural(num(w.events), "event", "events") +
			(w.last_event_at ? ", the last at " +
			when(w.last_event_at) : "") : "None yet"]]);
	}

	function webhookIntro() {
		return [
		    el("h3", { id: "webhook-title", text: "Webhooks from Stripe" }),
		    el("p", { class: "hint", text: "With a webhook, Stripe tells " +
			"Stripe Sync when money moves: an import starts within a " +
			"minute, and a payout is reconciled once Stripe has " +
			"settled it. The events only start the work: the amounts " +
			"always come from Stripe's balance transactions." })];
	}

	/* Where to paste what in Stripe's dashboard. */
	function webhookSteps(url, off) {
		return el("ol", { class: "steps" },
			el("li", null, "In Stripe's dashboard, open Developers, " +
			    "Webhooks, and add an endpoint with this URL:",
			    el("div", { class: "copy-row" },
				el("code", { id: "webhook-url", class: "mono",
				    text: url }),
				off ? null : el("button", { type: "button",
				    class: "button", text: "Copy",
				    onclick: function (ev) {
					copyText(url, $("webhook-url"), ev.target);
				    } }))),
			el("li", null, "Select these events:",
			    el("ul", { class: "events" }, WEBHOOK_EVENTS.map(
				function (e) {
				    return el("li", { class: "mono", text: e });
				}))),
			el("li", null, "Reveal the endpoint's signing secret and " +
			    "paste it below."));
	}

	/* Copy text to the clipboard, or select node for the keyboard's
	 * copy where the frame does not allow it. */
	function copyText(text, node, button) {
		var range, sel;

		function done(ok) {
			if (!ok && doc.createRange && window.getSelection) {
				range = doc.createRange();
				range.selectNodeContents(node);
				sel = window.getSelection();
				sel.removeAllRanges();
				sel.addRange(range);
			}
			button.textContent = ok ? "Copied" : "Selected: copy it";
			say(ok ? "Copied." : "Copying is not allowed here: the " +
			    "text is selected, copy it with the keyboard.");
		}
		if (navigator.clipboard && navigator.clipboard.writeText)
			navigator.clipboard.writeText(text).then(function () {
				done(true);
			}, function () {
				done(false);
			});
		else
			done(false);
	}

	function webhookPanel(conn, seq, reason) {
		var w = conn.webhook, url, state, form, input, out, save, rm;
		var rmAsk, off = reason !== null;

		if (!w || typeof w !== "object")
			return null;
		url = window.location.origin + str(w.path);
		state = el("div", { class: "webhook-state" });
		out = el("div", { class: "result", role: "status" });
		rmAsk = el("div", { class: "confirm" });
		function setHook(nw) {
			w = nw;
			refill(state, webhookFacts(w));
			if (rm)
				rm.hidden = !w.set;
			if (save)
				save.textContent = w.set ? "Replace secret" : "Save secret";
		}
		save = el("button", { type: off ? "button" : "submit",
		    class: "button primary", disabled: off });
		if (off) {
			/* Read-only: no field to type a secret into, the
			 * button disabled with the reason, as for the key. */
			setHook(w);
			return el("section", { class: "panel", "aria-labelledby":
			    "webhook-title" }, webhookIntro(), state,
			    webhookSteps(url, true), el("div", { class: "actions" },
			    save, reason ? el("p", { class: "hint", text: reason }) :
			    null));
		}
		input = el("input", { name: "secret", type: "password",
		    autocomplete: "off", spellcheck: "false",
		    autocapitalize: "off", maxlength: 255 });
		rm = el("button", { type: "button", class: "button danger",
		    text: "Remove secret", onclick: function () {
			var keep = el("button", { type: "button", class: "button",
			    text: "Keep it", onclick: function () {
				rmAsk.textContent = "";
				say("The secret is kept.");
			    } });

			rmAsk.textContent = "";
			add(rmAsk, el("div", { class: "notice", role: "alert" },
			    el("p", { text: "Remove the signing secret? Stripe's " +
				"events will be refused until one is saved again; " +
				"syncs still run on their schedule and by hand." }),
			    el("div", { class: "actions" },
				el("button", { type: "button",
				    class: "button danger primary",
				    text: "Yes, remove it", onclick: remove }),
				keep)));
			keep.focus();
		    } });
		function busy(on) {
			[save, rm].forEach(function (b) {
				b.disabled = on;
			});
		}
		function remove() {
			busy(true);
			result(out, "pending", "Removing\u2026");
			api("DELETE", "/api/v1/stripe/webhook").then(function (r) {
				busy(false);
				if (S.over || seq !== S.seq)
					return;
				rmAsk.textContent = "";
				if (!r.ok) {
					result(out, "bad", notice(r.error, r.status));
					return;
				}
				setHook(r.body && r.body.webhook || { set: false,
				    path: w.path });
				result(out, "good", "Removed: Stripe's events are " +
				    "refused until a secret is saved.");
				say("The signing secret was removed.");
				input.focus();
			});
		}
		form = el("form", { class: "webhook-form",
		    novalidate: true, autocomplete: "off", onsubmit: function (ev) {
			var v = input.value.trim(), m = secretProblem(v), req;

			ev.preventDefault();
			fieldError(form, "secret", m);
			if (m) {
				input.focus();
				say(m);
				return;
			}
			req = { secret: v };
			/* The secret lives on only in the request's body. */
			input.value = "";
			v = null;
			busy(true);
			result(out, "pending", "Saving\u2026");
			api("PUT", "/api/v1/stripe/webhook", req).then(function (r) {
				req = null;
				busy(false);
				if (S.over || seq !== S.seq)
					return;
				if (!r.ok) {
					if (r.error.field === "secret" ||
					    r.error.code === "INVALID_FIELD") {
						fieldError(form, "secret", "Not accepted: " +
						    "paste the whole secret, whsec_...");
						input.focus();
					}
					result(out, "bad", notice(r.error, r.status));
					say("The secret was not saved: " +
					    describe(r.error)[0] + ".");
					return;
				}
				setHook(r.body && r.body.webhook || r.body || {});
				result(out, "good", "Saved: the secret ending in " +
				    str(w.last4) + " checks every event Stripe sends.");
				say("Webhook signing secret saved.");
			});
		    } },
		    field("webhook-secret", "Signing secret", input, "From the " +
			"endpoint's page in Stripe: Signing secret, Reveal. It " +
			"starts with whsec_. Stored encrypted; only its last four " +
			"characters are shown again."),
		    el("div", { class: "actions" }, save, rm));
		input.addEventListener("input", function () {
			if (input.getAttribute("aria-invalid"))
				fieldError(form, "secret", "");
		});
		setHook(w);
		return el("section", { class: "panel", "aria-labelledby":
		    "webhook-title" },
		    webhookIntro(), state, webhookSteps(url, false),
		    form, rmAsk, out);
	}

	/* --- settings ---------------------------------------------------- */

	var PAYIN_MODES = [
		["customer", "Each Stripe customer's own balance"],
		["customer_metadata", "The balance each customer's metadata names"],
		["fixed", "One balance for every pay-in"]
	];

	/* The fields of the settings, by the name the API's errors use. */
	var PARTY_CHECK = function (v) {
		return PARTY_RE.test(v.trim()) ? "" : "A Blnk balance id or an " +
		    "@indicator (letters, digits and _ . : -).";
	};

	var SETTINGS_CHECKS = {
		start_date: function (v) {
			var d;

			v = v.trim();
			if (v === "")
				return "";
			d = new Date(v + "T00:00:00Z");
			if (!DATE_RE.test(v) || isNaN(d.getTime()) ||
			    d.toISOString().slice(0, 10) !== v ||
			    v < "2010-01-01" || v > "2100-12-31")
				return "A date from 2010 to 2100, or empty to import " +
				    "everything.";
			return "";
		},
		schedule_minutes: function (v) {
			var n;

			v = v.trim();
			if (!/^[0-9]{1,5}$/.test(v))
				return "A whole number of minutes: 0, or 5 to 1440.";
			n = Number(v);
			if (n !== 0 && (n < 5 || n > 1440))
				return "0 turns the schedule off; otherwise from 5 to " +
				    "1440 minutes (once a day).";
			return "";
		},
		"mapping.customer_prefix": function (v) {
			return /^@[A-Za-z0-9_.:-]{0,64}$/.test(v.trim()) ? "" :
			    "@ and up to 64 letters, digits and _ . : -";
		},
		"mapping.metadata_key": function (v) {
			return /^[A-Za-z0-9_.:-]{1,40}$/.test(v.trim()) ? "" :
			    "Up to 40 letters, digits and _ . : -";
		},
		"mapping.payin_balance": PARTY_CHECK,
		"mapping.guest_balance": PARTY_CHECK,
		"mapping.stripe_balance": PARTY_CHECK,
		"mapping.fees": PARTY_CHECK,
		"mapping.payouts": PARTY_CHECK,
		"mapping.world": PARTY_CHECK
	};

	function fid(name) {
		return "s-" + name.replace(/[._]/g, "-");
	}

	function checkField(name, label, hint) {
		return field(fid(name), label, el("input", { name: name,
		    type: "checkbox" }), hint);
	}

	function textField(name, label, hint, extra) {
		var props = { name: name, autocomplete: "off", spellcheck: "false" };
		var k;

		for (k in extra || {})
			if (Object.prototype.hasOwnProperty.call(extra, k))
				props[k] = extra[k];
		return field(fid(name), label, el("input", props), hint);
	}

	/* The form's fields from the settings. */
	function fillSettings(form, s) {
		var e = form.elements, m = s.mapping || {}, i = s.import || {};
		var o = s.overdraft || {};

		["payins", "fees", "payouts", "other"].forEach(function (k) {
			e["import." + k].checked = i[k] !== false;
		});
		e.start_date.value = str(s.start_date);
		e.schedule_minutes.value = String(num(s.schedule_minutes));
		e["mapping.payins"].value = str(m.payins) || "customer";
		["customer_prefix", "metadata_key", "payin_balance",
		    "guest_balance", "stripe_balance", "fees", "payouts",
		    "world"].forEach(function (k) {
			e["mapping." + k].value = str(m[k]);
		});
		["stripe_balance", "fees", "payouts", "world", "payins"]
		    .forEach(function (k) {
			e["overdraft." + k].checked = !!o[k];
		});
	}

	/* The whole settings object the API takes, from the form. */
	function readSettings(form) {
		var e = form.elements, v = function (k) {
			return e[k].value.trim();
		};

		return {
			import: { payins: e["import.payins"].checked,
			    fees: e["import.fees"].checked,
			    payouts: e["import.payouts"].checked,
			    other: e["import.other"].checked },
			start_date: v("start_date") || null,
			schedule_minutes: Number(v("schedule_minutes")),
			mapping: { payins: e["mapping.payins"].value,
			    customer_prefix: v("mapping.customer_prefix"),
			    metadata_key: v("mapping.metadata_key"),
			    payin_balance: v("mapping.payin_balance"),
			    guest_balance: v("mapping.guest_balance"),
			    stripe_balance: v("mapping.stripe_balance"),
			    fees: v("mapping.fees"),
			    payouts: v("mapping.payouts"),
			    world: v("mapping.world") },
			overdraft: { stripe_balance: e["overdraft.stripe_balance"].checked,
			    fees: e["overdraft.fees"].checked,
			    payouts: e["overdraft.payouts"].checked,
			    world: e["overdraft.world"].checked,
			    payins: e["overdraft.payins"].checked }
		};
	}

	/* Show the pay-in fields the chosen way uses (and any field with an
	 * error, wherever it is). */
	function payinFields(form) {
		var mode = form.elements["mapping.payins"].value;
		var use = { "mapping.customer_prefix": "customer",
		    "mapping.metadata_key": "customer_metadata",
		    "mapping.payin_balance": "fixed" }, k, f;

		for (k in use) {
			f = form.querySelector('[data-for="' + fid(k) + '"]');
			f.hidden = use[k] !== mode &&
			    !form.elements[k].getAttribute("aria-invalid");
		}
	}

	/* A server message with the settings' API names ("must differ from
	 * mapping.stripe_balance") in the words of the form's labels. */
	function labelled(form, msg) {
		return msg.replace(/\b(?:import|mapping|overdraft)\.[a-z_]+\b/g,
		    function (name) {
			var i = form.elements[name];

			return i && i.labels && i.labels[0] ? "\u201c" +
			    i.labels[0].textContent.trim() + "\u201d" : name;
		    });
	}

	function settingsScreen(box, seq) {
		box.appendChild(heading("Settings"));
		if (can("data:read") !== "yes") {
			box.appendChild(locked("data:read"));
			return;
		}
		load(box, seq, "the settings", api("GET", "/api/v1/settings"),
		    function (body, r) {
			settingsForm(body, r.body || {}, seq);
			say("Loaded the settings.");
		});
	}

	function settingsForm(body, s, seq) {
		var reason = writeReason(), form, out, sb;

		sb = str((s.mapping || {}).stripe_balance) || "@stripe";
		out = el("div", { class: "result", role: "status" });
		form = el("form", { class: "settings", novalidate: true,
		    onsubmit: function (ev) {
			ev.preventDefault();
			save();
		    } },
		    el("fieldset", { class: "plain", disabled: reason !== null },
			el("fieldset", { class: "group" },
			    el("legend", { text: "What to import" }),
			    el("p", { class: "hint", text: "Turn a kind off and it " +
				"is not imported: then " + sb + " no longer matches " +
				"Stripe's balance, which counts every kind." }),
			    checkField("import.payins", "Pay-ins", "Charges and " +
				"payments, with their refunds and disputes."),
			    checkField("import.fees", "Stripe fees", "Each payment's " +
				"fee, posted apart from the payment, and fees Stripe " +
				"billed on their own."),
			    checkField("import.payouts", "Payouts", "Money Stripe paid " +
				"out to your bank."),
			    checkField("import.other", "Everything else", "Adjustments, " +
				"transfers, top-ups and other changes to the " +
				"Stripe balance.")),
			el("fieldset", { class: "group" },
			    el("legend", { text: "When" }),
			    el("div", { class: "grid" },
				textField("start_date", "Import from (UTC)", "Leave empty " +
				    "to import Stripe's whole history. Fixed once " +
				    "the first sync has run: an opening balance is " +
				    "posted for what Stripe held before this day, so " +
				    "that " + sb + " still matches Stripe's balance.",
				    { type: "date", min: "2010-01-01",
				    max: "2100-12-31" }),
				textField("schedule_minutes", "Sync automatically every " +
				    "(minutes)", "0: no schedule, only when you press " +
				    "Sync now. Otherwise from 5 to 1440 (once a day).",
				    { inputmode: "numeric", maxlength: 5 }))),
			el("fieldset", { class: "group" },
			    el("legend", { text: "Where pay-ins go" }),
			    field(fid("mapping.payins"), "Pay-in balance",
				el("select", { name: "mapping.payins" },
				PAYIN_MODES.map(function (m) {
					return el("option", { value: m[0], text: m[1] });
				})), "Which Blnk balance receives what a customer pays."),
			    el("div", { class: "grid" },
				textField("mapping.customer_prefix", "Customer balance " +
				    "prefix", "Each customer's balance is this prefix " +
				    "and their Stripe customer id: with @ it is " +
				    "@cus_N1a2b3c4."),
				textField("mapping.metadata_key", "Metadata key", "The key " +
				    "in a Stripe customer's metadata whose value names " +
				    "their Blnk balance (a balance id or @indicator)."),
				textField("mapping.payin_balance", "Balance for every " +
				    "pay-in", "A balance id or @indicator."),
				textField("mapping.guest_balance", "Pay-ins without a " +
				    "customer", "Payments with no Stripe customer, or " +
				    "whose customer names no balance, go here."))),
			el("fieldset", { class: "group" },
			    el("legend", { text: "Blnk balances" }),
			    el("div", { class: "grid" },
				textField("mapping.stripe_balance", "Your Stripe account",
				    "Stands for the Stripe account and mirrors its " +
				    "balance: -100.00 here means Stripe holds 100.00. " +
				    "Every posting has it on one side."),
				textField("mapping.fees", "Stripe fees", "What Stripe " +
				    "charged."),
				textField("mapping.payouts", "Payouts", "What Stripe paid " +
				    "out to your bank."),
				textField("mapping.world", "Everything else", "The other " +
				    "side of what is neither a pay-in, a fee nor a " +
				    "payout."))),
			el("fieldset", { class: "group" },
			    el("legend", { text: "May go below zero" }),
			    el("p", { class: "hint", text: "Blnk refuses a posting " +
				"that would take a balance below zero unless it may. " +
				"The first four stand for money outside your ledger " +
				"and go below zero in normal use: leave them on." }),
			    checkField("overdraft.stripe_balance", "Your Stripe account",
				"Below zero whenever Stripe holds money."),
			    checkField("overdraft.fees", "Stripe fees", "Below zero by " +
				"what Stripe has charged."),
			    checkField("overdraft.payouts", "Payouts", "Below zero by " +
				"what was paid out."),
			    checkField("overdraft.world", "Everything else", "Either " +
				"way, as money comes and goes."),
			    checkField("overdraft.payins", "Customers' balances", "On: a " +
				"refund or dispute larger than what the customer's " +
				"balance holds still goes through. Off: Blnk rejects " +
				"it and the sync lists it as a problem.")),
			el("div", { class: "actions" },
			    el("button", { type: "submit", class: "button primary",
				text: "Save settings" }),
			    reason ? el("p", { class: "hint", text: reason }) :
				null)));
		if (reason)
			body.appendChild(el("div", { class: "notice locked" },
			    el("p", { text: "These settings can be read, not " +
				"changed. " + reason })));
		fillSettings(form, s);
		payinFields(form);
		form.elements["mapping.payins"].addEventListener("change",
		    function () {
			payinFields(form);
		});
		liveChecks(form, SETTINGS_CHECKS);
		body.appendChild(form);
		body.appendChild(out);

		function save() {
			var b = form.querySelector("button[type=submit]"), ok;

			/* The server's verdict on a field goes when it is
			 * edited; clear the old ones first. */
			Array.prototype.forEach.call(form.querySelectorAll(
			    "[aria-invalid]"), function (i) {
				fieldError(form, i.name, "");
			});
			ok = checkForm(form, SETTINGS_CHECKS);
			payinFields(form);
			if (!ok) {
				form.querySelector("[aria-invalid]").focus();
				result(out, "", "");
				return;
			}
			b.disabled = true;
			result(out, "pending", "Saving\u2026");
			api("PUT", "/api/v1/settings", readSettings(form))
			    .then(function (r) {
				var f, m;

				b.disabled = false;
				if (S.over || seq !== S.seq)
					return;
				if (!r.ok) {
					f = r.error.field;
					f = f && f !== "body" && form.elements[f] &&
					    form.elements[f].labels ? form.elements[f] : null;
					m = labelled(form, sentence(r.error.message));
					result(out, "bad", [notice(r.error, r.status),
					    f && m ? el("p", { text: "\u201c" +
						f.labels[0].textContent.trim() + "\u201d: " +
						m }) : null]);
					if (f) {
						fieldError(form, f.name, m);
						payinFields(form);
						f.focus();
					}
					say("The settings were not saved: " +
					    describe(r.error)[0] + ".");
					return;
				}
				fillSettings(form, r.body || {});
				payinFields(form);
				result(out, "good", "Settings saved. The next sync " +
				    "uses them.");
				say("Settings saved.");
			    });
		}
	}

	/* --- navigation ------------------------------------------------- */

	function go(hash) {
		if (window.location.hash === hash)
			route();
		else
			window.location.hash = hash;
	}

	/* The screens of the sync (the others: LISTS, "new", "alerts"). */
	var SYNC_SCREENS = { syncs: true, stripe: true, settings: true,
	    reconciliations: true, problems: true };

	/* Parse "#/kind/id?query" into [kind, id, URLSearchParams]. */
	function parseHash() {
		var h = window.location.hash || "#/";
		var qi = h.indexOf("?"), p, parts;

		p = qi === -1 ? h.slice(2) : h.slice(2, qi);
		parts = p.split("/");
		return [parts[0] || "overview", parts[1] ?
		    decodeURIComponent(parts[1]) : null,
		    new URLSearchParams(qi === -1 ? "" : h.slice(qi + 1))];
	}

	/* Show the screen the fragment names; focus its heading when the user
	 * moved (so a screen reader says where they are). */
	function route(moved) {
		var r, kind, id, box = $("screen"), seq;

		if (S.over || S.ctx === null)
			return;
		r = parseHash();
		kind = r[0];
		id = r[1];
		seq = ++S.seq;
		stopPolling();
		renderNav(kind === "new" ? "new" : kind);
		if (kind !== "problems")
			refreshProblems(false);
		if (kind === "overview" || !(LISTS[kind] || kind === "new" ||
		    kind === "alerts" || SYNC_SCREENS[kind])) {
			renderContext();
			show("context");
			if (moved)
				$("context-title").focus();
			return;
		}
		box.textContent = "";
		if (kind === "new")
			newScreen(box, seq);
		else if (kind === "alerts" && id)
			alertScreen(id, box, seq);
		else if (kind === "alerts")
			alertsScreen(box, seq);
		else if (kind === "syncs" && id)
			runScreen(id, box, seq);
		else if (kind === "syncs")
			syncsScreen(r[2], box, seq);
		else if (kind === "reconciliations" && id)
			reconScreen(id, box, seq);
		else if (kind === "reconciliations")
			reconsScreen(r[2], box, seq);
		else if (kind === "problems")
			problemsScreen(box, seq);
		else if (kind === "stripe")
			stripeScreen(box, seq);
		else if (kind === "settings")
			settingsScreen(box, seq);
		else if (id)
			detailScreen(kind, id, box, seq);
		else
			listScreen(kind, r[2], box, seq);
		show("screen");
		if (moved)
			box.getElementsByTagName("h2")[0].focus();
	}

	function start() {
		var t = takeToken();

		if (t !== null) {
			S.token = t || null;
			storeToken(S.token);	/* a new launch replaces the old */
		} else
			S.token = storedToken();
		if (S.token === null) {
			problem("MISSING_TOKEN");
			return;
		}
		api("GET", "/api/v1/context").then(function (r) {
			var ctx = r.body;

			if (S.over)
				return;
			if (!r.ok) {
				problem(r.error.code, r.error.message, r.status);
				return;
			}
			if (!ctx || typeof ctx !== "object" ||
			    !Array.isArray(ctx.granted_permissions)) {
				problem("BAD_RESPONSE", "The server's answer could " +
				    "not be read", r.status);
				return;
			}
			S.ctx = ctx;
			S.expiresAt = Date.now() + 1000 * (ctx.expires_in || 0);
			tick();
			if (S.over)
				return;
			window.addEventListener("hashchange", function (ev) {
				if (/^#\//.test(window.location.hash) ||
				    window.location.hash === "")
					route(true);
			});
			route(false);
		});
	}

	if (doc.readyState === "loading")
		doc.addEventListener("DOMContentLoaded", start);
	else
		start();
})();
