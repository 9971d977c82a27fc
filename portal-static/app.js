/*
 * Stripe Sync portal.  Plain JavaScript, no build step, no inline script
 * (the page's Content-Security-Policy allows only scripts from this origin).
 *
 * Cloud opens this page as https://HOST/?token=<launch token>.  The token is
 * the whole session: it is read once, removed from the address bar (so it is
 * not kept in the history, a bookmark or a copied link) and then lives only
 * in this closure's memory.  No localStorage, no sessionStorage, no cookies:
 * third-party cookies are unreliable in Cloud's iframe, and storage would
 * outlive the session.  Every API call sends it as "Authorization: Bearer";
 * the server checks it on every call.
 */
(function () {
	"use strict";

	/* What each scope allows, as Blnk Cloud describes it. */
	var SCOPES = [
		["data:read", "Read ledgers, balances, transactions and identities"],
		["data:write", "Create and update ledger data (import Stripe pay-ins and payouts)"],
		["alerts:read", "Read alerts"],
		["alerts:write", "Flag transactions and balances for review"]
	];

	var LAUNCH_AGAIN = "Open Stripe Sync again from your Blnk Cloud dashboard.";

	/* Error codes of the API (and of nginx's JSON error pages). */
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
		INSTANCE_UNAVAILABLE: ["Instance unavailable",
		    "The Blnk instance for this installation is not " +
		    "available right now. Try again in a few minutes."],
		MISSING_PERMISSION: ["Permission not granted",
		    "This installation was not granted the permission this " +
		    "needs. Reinstall the app from Blnk Cloud and grant it."],
		SERVICE_UNAVAILABLE: ["Stripe Sync is not answering",
		    "The Stripe Sync server is busy or restarting. Try again " +
		    "in a moment."],
		NETWORK: ["Cannot reach Stripe Sync",
		    "The request did not reach the Stripe Sync server. Check " +
		    "your connection and try again."]
	};

	var token = null;

	function $(id) {
		return document.getElementById(id);
	}

	/*
	 * Take the token out of the address bar, keeping any other query
	 * parameters and the fragment.  Returns the token or null.
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
		return t ? t : null;
	}

	function show(section) {
		["loading", "problem", "context"].forEach(function (id) {
			$(id).hidden = (id !== section);
		});
	}

	/* Show an error state for a code (and the server's message if the code
	 * is one we do not know). */
	function problem(code, serverMessage, status) {
		var e = ERRORS[code];

		if (code === "SESSION_EXPIRED" || code === "TOKEN_INVALID" ||
		    code === "APP_UNINSTALLED" || code === "INSTANCE_MISMATCH" ||
		    code === "SESSION_REVOKED" || code === "INSTALL_NOT_FOUND")
			token = null;	/* useless now: forget it */

		$("problem-title").textContent = e ? e[0] : "Something went wrong";
		$("problem-text").textContent = e ? e[1] :
		    (serverMessage ? serverMessage + " " : "") +
		    "If this persists, " + LAUNCH_AGAIN.charAt(0).toLowerCase() +
		    LAUNCH_AGAIN.slice(1);
		$("problem-code").textContent = code ?
		    "Code: " + code + (status ? " (HTTP " + status + ")" : "") : "";
		show("problem");
	}

	/*
	 * GET a portal API path with the session token.  Resolves to
	 * {ok, status, body} where body is the parsed JSON or null; rejects only
	 * if the network failed.
	 */
	function api(path) {
		return fetch(path, {
			method: "GET",
			headers: {
				"Authorization": "Bearer " + token,
				"Accept": "application/json"
			},
			cache: "no-store",
			credentials: "omit",
			referrerPolicy: "no-referrer"
		}).then(function (res) {
			return res.text().then(function (text) {
				var body = null;
				try {
					body = text ? JSON.parse(text) : null;
				} catch (e) {
					body = null;
				}
				return { ok: res.ok, status: res.status, body: body };
			});
		});
	}

	function errorOf(r) {
		var err = r.body && r.body.error;

		if (err && typeof err === "object" && typeof err.code === "string")
			return { code: err.code, message: err.message };
		if (r.status === 502 || r.status === 503 || r.status === 504)
			return { code: "SERVICE_UNAVAILABLE" };
		return { code: "HTTP_" + r.status };
	}

	function text(v) {
		return (typeof v === "string" && v !== "") ? v : "(unknown)";
	}

	function renderContext(ctx) {
		var granted = ctx.granted_permissions || ctx.permissions ||
		    ctx.scopes || [];
		var list = $("permissions");

		if (!Array.isArray(granted))
			granted = [];
		$("instance-id").textContent = text(ctx.instance_id);
		$("installed-app-id").textContent = text(ctx.installed_app_id);
		list.textContent = "";
		SCOPES.forEach(function (s) {
			var has = granted.indexOf(s[0]) !== -1;
			var li = document.createElement("li");
			var name = document.createElement("span");
			var state = document.createElement("span");
			var what = document.createElement("span");

			li.className = has ? "granted" : "missing";
			name.className = "scope";
			name.textContent = s[0];
			state.className = "state";
			state.textContent = has ? "Granted" : "Not granted";
			what.className = "what";
			what.textContent = s[1];
			li.appendChild(name);
			li.appendChild(state);
			li.appendChild(what);
			list.appendChild(li);
		});
		show("context");
	}

	function start() {
		token = takeToken();
		if (token === null) {
			problem("MISSING_TOKEN");
			return;
		}
		api("/api/v1/context").then(function (r) {
			var ctx;

			if (!r.ok) {
				var e = errorOf(r);
				problem(e.code, e.message, r.status);
				return;
			}
			ctx = r.body && (r.body.data || r.body.context || r.body);
			if (!ctx || typeof ctx !== "object") {
				problem("BAD_RESPONSE", "The server's answer could not be read.", r.status);
				return;
			}
			renderContext(ctx);
		}, function () {
			problem("NETWORK");
		});
	}

	if (document.readyState === "loading")
		document.addEventListener("DOMContentLoaded", start);
	else
		start();
})();
