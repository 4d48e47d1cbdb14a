// volrep's replication panel: plain JavaScript over /api2/json.
// Logged in with a ticket cookie (HttpOnly, set by POST /access/ticket);
// the CSRF token is kept in sessionStorage and sent on every write.
"use strict";
const API = "/api2/json";
const $ = (id) => document.getElementById(id);
let node = "";      // this node
let view = { kind: "dc", guest: "" };
let jobs = [];      // the current rows

async function call(method, path, params) {
	const opt = { method, credentials: "same-origin", headers: {} };
	let url = API + path;
	const body = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {}))
		if (v !== undefined && v !== null) body.append(k, v);
	if (method === "GET") {
		if ([...body].length) url += "?" + body.toString();
	} else {
		opt.body = body;
		opt.headers["Content-Type"] = "application/x-www-form-urlencoded";
		const csrf = sessionStorage.getItem("csrf");
		if (csrf) opt.headers["CSRFPreventionToken"] = csrf;
	}
	const r = await fetch(url, opt);
	let j = {};
	try { j = await r.json(); } catch (e) { j = {}; }
	if (r.status === 401 && path !== "/access/ticket") { showLogin(); }
	if (!r.ok) {
		let m = (j.message || r.statusText || "error").trim();
		if (j.errors) m = Object.entries(j.errors).map(([k, v]) => k + ": " + v).join("; ");
		const err = new Error(m);
		err.status = r.status;
		throw err;
	}
	return j;
}

function msg(t) { $("msg").textContent = t || ""; }

function showLogin() {
	$("login").hidden = false;
	$("jobs").hidden = true;
	$("nav").hidden = true;
}

function fmtTime(t) {
	if (!t) return "-";
	const d = new Date(t * 1000);
	const p = (n) => String(n).padStart(2, "0");
	return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" +
		p(d.getMinutes()) + ":" + p(d.getSeconds());
}

function fmtAge(s) {
	if (s === null || s === undefined) return "-";
	if (s < 60) return s + "s";
	if (s < 3600) return Math.floor(s / 60) + "m";
	if (s < 86400) return Math.floor(s / 3600) + "h" + (Math.floor(s / 60) % 60) + "m";
	return Math.floor(s / 86400) + "d" + (Math.floor(s / 3600) % 24) + "h";
}

function stateOf(j) {
	if (j.pid) return ["SYNCING", "state-ok"];
	if (j.remove_job) return ["removal pending", "state-bad"];
	if (j.error) return [j.error, "state-bad"];
	if (j.stale) return ["stale", "state-bad"];
	if (j.last_sync === undefined) return ["not on this node", ""];
	return ["OK", "state-ok"];
}

function cell(tr, text, cls) {
	const td = document.createElement("td");
	const th = document.querySelectorAll("#job-table thead th")[tr.children.length];
	td.textContent = text;
	// the column name, shown beside the value when rows become cards (phone)
	if (th && th.textContent) td.dataset.label = th.textContent;
	if (cls) td.className = cls;
	tr.appendChild(td);
	return td;
}

function button(td, label, cls, fn) {
	const b = document.createElement("button");
	b.textContent = label;
	b.className = cls;
	b.addEventListener("click", fn);
	td.appendChild(b);
}

async function load() {
	msg("");
	let rows;
	document.querySelectorAll("nav button[data-view]").forEach((b) =>
		b.classList.toggle("active", b.dataset.view === view.kind));
	// status of this node's jobs, plus (datacenter view) the configuration of all
	const st = (await call("GET", "/nodes/" + encodeURIComponent(node) + "/replication",
		view.kind === "guest" ? { guest: view.guest } : {})).data;
	if (view.kind === "dc") {
		const cfg = (await call("GET", "/cluster/replication")).data;
		const byId = Object.fromEntries(st.map((j) => [j.id, j]));
		rows = cfg.map((j) => Object.assign({}, j, byId[j.id] || {}));
		$("view-title").textContent = "Datacenter: all replication jobs";
	} else if (view.kind === "node") {
		rows = st;
		$("view-title").textContent = "Node " + node + ": replication jobs";
	} else {
		rows = st;
		$("view-title").textContent = "Guest " + view.guest + ": replication jobs";
	}
	jobs = rows;
	const guests = [...new Set(rows.concat(st).map((j) => j.guest))].sort((a, b) => a - b);
	const sel = $("nav-guest");
	const cur = sel.value;
	if (view.kind === "dc") {
		sel.textContent = "";
		const o0 = document.createElement("option");
		o0.value = ""; o0.textContent = "-";
		sel.appendChild(o0);
		for (const g of guests) {
			const o = document.createElement("option");
			o.value = String(g); o.textContent = String(g);
			sel.appendChild(o);
		}
		sel.value = cur;
	}
	const tb = $("job-rows");
	tb.textContent = "";
	for (const j of rows) {
		const tr = document.createElement("tr");
		tr.dataset.id = j.id;
		cell(tr, j.id);
		cell(tr, String(j.guest));
		cell(tr, j.disable ? "No" : "Yes", "enabled");
		cell(tr, j.target, "target");
		cell(tr, j.schedule || "*/15", "schedule");
		cell(tr, fmtTime(j.last_sync), "last-sync");
		cell(tr, fmtAge(j.lag), "age");
		// as status prints it: a due (or scheduled-now) run is "pending"
		cell(tr, !j.next_sync ? "-" : j.next_sync <= Date.now() / 1000 ? "pending" : fmtTime(j.next_sync),
			"next-sync");
		cell(tr, j.duration !== undefined ? j.duration.toFixed(1) + "s" : "-", "duration");
		cell(tr, j.fail_count !== undefined ? String(j.fail_count) : "-", "fail-count");
		const [s, c] = stateOf(j);
		cell(tr, s, "state " + c);
		cell(tr, j.comment || "", "comment");
		const td = cell(tr, "", "acts");
		button(td, "Edit", "act-edit", () => openEdit(j));
		button(td, "Run now", "act-sched", () => scheduleNow(j));
		button(td, "Log", "act-log", () => openLog(j));
		button(td, "Remove", "act-remove", () => openRemove(j));
		tb.appendChild(tr);
	}
	$("empty").hidden = rows.length > 0;
}

function reload() { load().catch((e) => msg(e.message)); }

async function targets() {
	const nodes = (await call("GET", "/nodes")).data;
	const sel = $("f-target");
	sel.textContent = "";
	for (const n of nodes) {
		if (n.node === node) continue;
		const o = document.createElement("option");
		o.value = n.node; o.textContent = n.node;
		sel.appendChild(o);
	}
}

let editing = null;
async function openEdit(j) {
	editing = j;
	$("edit-error").textContent = "";
	await targets().catch((e) => msg(e.message));
	$("edit-title").textContent = j ? "Edit " + j.id : "Add replication job";
	$("f-guest").value = j ? String(j.guest) : (view.kind === "guest" ? view.guest : "");
	$("f-guest").disabled = !!j;
	if (j) {
		const sel = $("f-target");
		if (![...sel.options].some((o) => o.value === j.target)) {
			const o = document.createElement("option");
			o.value = j.target; o.textContent = j.target;
			sel.appendChild(o);
		}
		sel.value = j.target;
	}
	$("f-target").disabled = !!j;
	$("f-schedule").value = j ? (j.schedule || "") : "";
	$("f-rate").value = j && j.rate ? String(j.rate) : "";
	$("f-comment").value = j ? (j.comment || "") : "";
	$("f-enabled").checked = j ? !j.disable : true;
	$("dlg-edit").showModal();
}

async function save() {
	const sched = $("f-schedule").value.trim(), rate = $("f-rate").value.trim();
	const comment = $("f-comment").value, disable = $("f-enabled").checked ? 0 : 1;
	if (editing) {
		const cur = (await call("GET", "/cluster/replication/" + editing.id)).data;
		const p = { digest: cur.digest, disable };
		const del = [];
		if (sched) p.schedule = sched; else del.push("schedule");
		if (rate) p.rate = rate; else del.push("rate");
		if (comment) p.comment = comment; else del.push("comment");
		if (del.length) p.delete = del.join(",");
		await call("PUT", "/cluster/replication/" + editing.id, p);
	} else {
		const guest = $("f-guest").value.trim();
		const all = (await call("GET", "/cluster/replication")).data;
		let n = 0;
		while (all.some((j) => j.id === guest + "-" + n)) n++;
		const p = { id: guest + "-" + n, type: "local", target: $("f-target").value, disable };
		if (sched) p.schedule = sched;
		if (rate) p.rate = rate;
		if (comment) p.comment = comment;
		await call("POST", "/cluster/replication", p);
	}
}

async function scheduleNow(j) {
	try {
		await call("POST", "/nodes/" + encodeURIComponent(node) + "/replication/" + j.id + "/schedule_now");
		await load();
		msg("job " + j.id + " runs at the next scheduler tick");
	} catch (e) { msg(e.message); }
}

async function openLog(j) {
	$("log-id").textContent = j.id;
	$("log-lines").textContent = "";
	try {
		const r = await call("GET", "/nodes/" + encodeURIComponent(node) + "/replication/" + j.id + "/log",
			{ limit: 1000 });
		$("log-lines").textContent = r.data.length ? r.data.map((l) => l.t).join("\n") : "(no log on this node)";
	} catch (e) { $("log-lines").textContent = e.message; }
	$("dlg-log").showModal();
}

let removing = null;
function openRemove(j) {
	removing = j;
	$("remove-id").textContent = j.id;
	$("remove-error").textContent = "";
	$("rm-full").checked = true;
	$("dlg-remove").showModal();
}

async function init() {
	try {
		const nodes = (await call("GET", "/cluster/status")).data;
		const me = nodes.find((n) => n.type === "node" && n.local);
		node = me ? me.name : "";
	} catch (e) {
		if (e.status !== 401) msg(e.message);
		return;
	}
	$("login").hidden = true;
	$("jobs").hidden = false;
	$("nav").hidden = false;
	$("nav-node").textContent = "Node " + node;
	reload();
}

$("login-form").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	try {
		const r = await call("POST", "/access/ticket",
			{ username: $("login-user").value.trim(), password: $("login-pass").value });
		sessionStorage.setItem("csrf", r.data.CSRFPreventionToken);
		$("login-pass").value = "";
		msg("");
		init();
	} catch (e) { msg("login failed: " + e.message); }
});
$("btn-logout").addEventListener("click", async () => {
	sessionStorage.removeItem("csrf");
	await call("DELETE", "/access/ticket").catch(() => {});
	showLogin();
});
document.querySelectorAll("nav button[data-view]").forEach((b) => b.addEventListener("click", () => {
	view = { kind: b.dataset.view, guest: "" };
	$("nav-guest").value = "";
	reload();
}));
$("nav-guest").addEventListener("change", (ev) => {
	view = ev.target.value ? { kind: "guest", guest: ev.target.value } : { kind: "dc", guest: "" };
	reload();
});
$("btn-add").addEventListener("click", () => openEdit(null));
$("btn-refresh").addEventListener("click", reload);
$("log-close").addEventListener("click", () => $("dlg-log").close());
$("edit-form").addEventListener("submit", async (ev) => {
	if (ev.submitter && ev.submitter.value === "cancel") return;
	ev.preventDefault();
	try {
		await save();
		$("dlg-edit").close();
		reload();
	} catch (e) { $("edit-error").textContent = e.message; }
});
$("remove-form").addEventListener("submit", async (ev) => {
	if (ev.submitter && ev.submitter.value === "cancel") return;
	ev.preventDefault();
	const mode = document.querySelector("#remove-form input[name=mode]:checked").value;
	const p = mode === "keep" ? { keep: 1 } : mode === "force" ? { force: 1 } : {};
	try {
		await call("DELETE", "/cluster/replication/" + removing.id, p);
		$("dlg-remove").close();
		reload();
	} catch (e) { $("remove-error").textContent = e.message; }
});
init().then(() => { if (!node) showLogin(); });
