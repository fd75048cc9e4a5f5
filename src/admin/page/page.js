"use strict";
// The status page: renders /api/v1/slos as it is (every number shown is the API's,
// formatted; the raw value is in the cell's data-value) and refreshes itself.
// `?refresh=N`: refresh every N seconds (at least 1; default 15).
const REFRESH_MS = Math.max(1, Number(new URLSearchParams(location.search).get("refresh")) || 15) * 1000;
const RANK = { breaching: 0, warning: 1, insufficient_data: 2, no_data: 3, ok: 4 };
const STATUS_TEXT = { breaching: "✖ breaching", warning: "▲ warning", insufficient_data: "◌ insufficient data", no_data: "○ no data", ok: "✔ ok" };
const BURN = ["5m", "1h", "6h", "1d", "3d"];
const main = document.getElementById("main");

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k);
  return e;
}
// Trailing zeros of a fraction only: "99.900" → "99.9", "570" stays.
function trim(s) { return s.includes(".") ? s.replace(/\.?0+$/, "") : s; }
function pct(v, digits) { return v == null ? "—" : trim((v * 100).toFixed(digits)) + "%"; }
function rate(v) { return v == null ? "—" : v.toFixed(v < 10 ? 2 : 1) + "×"; }
// A length of time: "3d 4h", "5h 20m", "12m", "0s".
function span(v) {
  if (v == null) return "—";
  const d = Math.floor(v / 86400), h = Math.floor((v % 86400) / 3600), m = Math.floor((v % 3600) / 60);
  return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m ? m + "m" : Math.round(v) + "s";
}
function num(v) { return v == null ? "—" : v.toLocaleString("en-US"); }
function secs(v) {
  if (v == null) return "—";
  return v < 1 ? trim((v * 1000).toPrecision(3)) + " ms" : trim(v.toPrecision(3)) + " s";
}
// A cell showing `text` for the API's `value` (kept exact in data-value).
function cell(value, text, cls, field) {
  return el("td", { class: cls || "num", "data-value": value == null ? "null" : String(value), "data-field": field }, text);
}
function statusCell(s) { return el("td", { class: "st st-" + s, "data-value": s, "data-field": "status" }, STATUS_TEXT[s] || s); }
function budgetCell(s) {
  const v = s.error_budget_remaining;
  const w = v == null ? 0 : Math.max(0, Math.min(1, v)) * 100;
  return el("td", { class: "num st-" + s.status, "data-value": v == null ? "null" : String(v), "data-field": "error_budget_remaining" },
    el("span", { class: "bar", "aria-hidden": "true" }, fill(w)), pct(v, 1));
}
// Set through the CSSOM: the page's policy allows no style attributes.
function fill(w) { const i = el("i"); i.style.width = w.toFixed(1) + "%"; return i; }
function groupText(s) {
  return s.group ? Object.entries(s.group).map(([k, v]) => k + "=" + v).join(", ") : "";
}
function objectiveCell(s) {
  const c = cell(s.objective, pct(s.objective, 3), "num", "objective");
  c.append(el("div", { class: "group" }, s.window));
  return c;
}
function sliOf(s) { return s.error_ratio == null ? null : 1 - s.error_ratio; }
function detailHref(s) { return "/slo/" + encodeURIComponent(s.service) + "/" + encodeURIComponent(s.name); }
function worstFirst(a, b) {
  return (RANK[a.status] - RANK[b.status])
    || ((a.error_budget_remaining ?? 2) - (b.error_budget_remaining ?? 2))
    || a.service.localeCompare(b.service) || a.name.localeCompare(b.name)
    || (a.cluster === "all" ? -1 : b.cluster === "all" ? 1 : a.cluster.localeCompare(b.cluster))
    || (a.group ? 1 : 0) - (b.group ? 1 : 0) || groupText(a).localeCompare(groupText(b));
}
function sloRow(s, link) {
  return el("tr", { "data-service": s.service, "data-slo": s.name, "data-cluster": s.cluster, "data-group": groupText(s) || null },
    statusCell(s.status),
    el("td", { class: "wide" }, s.service),
    el("th", { scope: "row" }, link ? el("a", { href: detailHref(s) }, s.name) : s.name, el("div", { class: "group narrow" }, s.service)),
    el("td", {}, s.cluster, s.group ? el("div", { class: "group" }, groupText(s)) : null),
    budgetCell(s),
    cell(sliOf(s), pct(sliOf(s), 3), "num", "sli"),
    objectiveCell(s),
    BURN.map((w) => cell(s.burn_rate[w], rate(s.burn_rate[w]), "num" + (w === "5m" || w === "3d" ? " wide" : ""), "burn_rate." + w)),
    eventsCell(s));
}
// With sampling, `total` counts each span with its adjusted count and `raw_total` the
// spans (a trace-aware journey: the traces) received: both are shown where they differ.
function sampled(s) { return s.raw_total != null && s.raw_total !== s.total; }
function eventsCell(s) {
  const c = cell(s.total, num(s.total), "num wide", "total");
  if (sampled(s)) c.append(el("div", { class: "group", "data-field": "raw_total", "data-value": String(s.raw_total) }, num(s.raw_total) + " " + (s.raw_unit || "spans") + " received"));
  return c;
}
function sloHead(caption) {
  const two = { scope: "col", rowspan: "2" };
  return [el("caption", {}, caption), el("thead", {},
    el("tr", {},
      el("th", two, "Status"), el("th", { ...two, class: "wide" }, "Service"),
      el("th", two, "SLO"), el("th", two, "Cluster / group"),
      el("th", { ...two, class: "num" }, "Budget left"),
      el("th", { ...two, class: "num" }, "SLI"),
      el("th", { ...two, class: "num" }, "Objective"),
      el("th", { scope: "colgroup", colspan: String(BURN.length), class: "c" }, "Burn rate"),
      el("th", { ...two, class: "num wide" }, "Events")),
    el("tr", {}, BURN.map((w) => el("th", { scope: "col", class: "num" + (w === "5m" || w === "3d" ? " wide" : "") }, w))))];
}

// With service.admin.auth the API asks for a bearer token: asked for once, kept for the
// tab (or given as #token=… in the address, which never reaches the server).
const TOKEN_KEY = "slotel-admin-token";
function token() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
if (location.hash.startsWith("#token=")) {
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(location.hash.slice(7)));
  history.replaceState(null, "", location.pathname + location.search);
}
let asking = false;
function askToken() {
  if (asking) return;
  asking = true;
  const input = el("input", { id: "token", type: "password", autocomplete: "current-password", required: true });
  const f = el("form", { class: "filters", id: "login" },
    el("label", {}, "Admin token (service.admin.auth.token)", input), el("button", { type: "submit" }, "Show SLOs"));
  f.addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(TOKEN_KEY, input.value); location.reload(); });
  main.replaceChildren(el("p", {}, token() ? "The token was refused; try again." : "This slotel's SLO API asks for a token."), f);
  main.setAttribute("aria-busy", "false");
}
async function getJSON(url) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  const r = await fetch(url, { headers });
  if (r.status === 401) { askToken(); throw new Error("the SLO API asks for a token"); }
  if (!r.ok) throw new Error(url + ": " + r.status + " " + (await r.text()).slice(0, 200));
  return r.json();
}
function stamp(ok, what) {
  document.getElementById("updated").textContent = ok
    ? "Updated " + new Date().toLocaleTimeString() + "; refreshes every " + REFRESH_MS / 1000 + " s."
    : "Refresh failed: " + what;
}
function loop(load) {
  const tick = () => load().then(() => stamp(true), (e) => {
    stamp(false, e.message);
    if (main.getAttribute("aria-busy") === "true") main.replaceChildren(el("p", {}, "Could not load: " + e.message));
  })
    .finally(() => { main.setAttribute("aria-busy", "false"); setTimeout(tick, REFRESH_MS); });
  tick();
}

// ---- the list ----------------------------------------------------------------------------
let initial = new URLSearchParams(location.search);
let listBuilt = false;
function options(select, values) {
  const keep = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
  select.value = values.includes(keep) ? keep : "";
}
function buildList() {
  const f = el("form", { class: "filters", role: "search", "aria-label": "Filter SLOs" },
    ["service", "cluster", "status"].map((k) => el("label", {}, k[0].toUpperCase() + k.slice(1), el("select", { id: "f-" + k, name: k }))),
    el("label", {}, "Search", el("input", { id: "f-q", name: "q", type: "search", placeholder: "service, SLO, cluster, group" })),
    el("label", {}, "Groups", el("select", { id: "f-groups", name: "groups" }, el("option", { value: "" }, "shown"), el("option", { value: "hide" }, "hidden"))));
  f.addEventListener("submit", (e) => e.preventDefault());
  f.addEventListener("input", () => { saveFilters(); renderList(); });
  main.replaceChildren(el("p", { id: "summary" }), f, el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "SLOs" }, el("table", { id: "slos" })));
  listBuilt = true;
}
function saveFilters() {
  const p = new URLSearchParams();
  const keep = new URLSearchParams(location.search).get("refresh");
  if (keep) p.set("refresh", keep);
  for (const k of ["service", "cluster", "status", "q", "groups"]) {
    const v = document.getElementById("f-" + k).value;
    if (v) p.set(k, v);
  }
  history.replaceState(null, "", p.toString() ? "?" + p : location.pathname);
}
let slos = [];
function renderList() {
  const get = (k) => document.getElementById("f-" + k).value;
  const q = get("q").trim().toLowerCase();
  const shown = slos.filter((s) => (!get("service") || s.service === get("service"))
    && (!get("cluster") || s.cluster === get("cluster"))
    && (!get("status") || s.status === get("status"))
    && (get("groups") !== "hide" || !s.group)
    && (!q || [s.service, s.name, s.cluster, groupText(s)].join(" ").toLowerCase().includes(q)));
  shown.sort(worstFirst);
  const t = document.getElementById("slos");
  t.replaceChildren(...sloHead(shown.length + " of " + slos.length + " SLO entries, worst first"),
    el("tbody", {}, shown.map((s) => sloRow(s, true))));
  const count = {};
  for (const s of slos) if (s.cluster === "all") count[s.status] = (count[s.status] || 0) + 1;
  document.getElementById("summary").textContent = Object.keys(RANK)
    .map((k) => (count[k] || 0) + " " + k.replace("_", " ")).join(" · ") + " (SLOs over all clusters)";
}
// Says where the numbers come from: the API's `source`.
function showSource(data, hist) {
  document.getElementById("source").textContent = data.source === "prometheus"
    ? "Numbers are every replica's, read from Prometheus (slo.status_source)." +
      (hist && hist.source === "prometheus" ? " So are the charts over time." : hist ? " The charts over time show this replica's own history." : "")
    : "Numbers are this slotel replica's own engine: with several replicas, each shows its share of the traffic.";
}
async function loadList() {
  const data = await getJSON("/api/v1/slos");
  showSource(data, null);
  slos = data.slos;
  if (!listBuilt) buildList();
  const uniq = (k) => [...new Set(slos.map((s) => s[k]))].sort();
  options(document.getElementById("f-service"), uniq("service"));
  options(document.getElementById("f-cluster"), uniq("cluster"));
  options(document.getElementById("f-status"), Object.keys(RANK));
  if (initial) {
    for (const [k, v] of initial) { const i = document.getElementById("f-" + k); if (i) i.value = v; }
    initial = null;
  }
  renderList();
}

function route() {
  const m = location.pathname.match(/^\/slo\/([^/]+)\/([^/]+)$/);
  if (m && typeof detail === "function") return detail(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  loop(loadList);
}

// ---- the detail view -------------------------------------------------------------------
const SVGNS = "http://www.w3.org/2000/svg";
const COLORS = ["#0969da", "#8250df", "#bf8700", "#1a7f37", "#e16f24", "#57606a", "#bc4c00", "#cf222e"];
let chartCluster = "all";
let chartSeq = 0;
function sv(tag, attrs, ...kids) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null) continue;
    // Colours from the style's variables go through the CSSOM (no style attributes).
    if (typeof v === "string" && v.startsWith("var(")) e.style.setProperty(k, v); else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k != null) e.append(k);
  return e;
}
function clock(t, span) {
  const d = new Date(t * 1000);
  if (span > 2 * 86400) return d.toLocaleDateString([], { month: "short", day: "numeric" });
  return d.toLocaleTimeString([], span < 900 ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
}
// A line chart of `series` ([{label, values}]) over times `t`, with horizontal `lines`
// ([{y, label, color}]); a <title>, a <desc> and a table of the latest points are its text.
function chart(caption, t, series, lines, fmt, floor) {
  const W = 600, H = 220, L = 64, R = 12, T = 10, B = 26;
  const id = "c" + (++chartSeq);
  const vals = series.flatMap((s) => s.values).filter((v) => v != null).concat(lines.map((l) => l.y));
  // Nothing to draw yet (no points, no threshold): an empty 0–1 frame.
  let lo = vals.length ? Math.min(...vals) : 0, hi = vals.length ? Math.max(...vals) : 1;
  if (floor != null) lo = Math.min(lo, floor);
  if (!(hi > lo)) { hi = (hi || 1) * 1.05 + 1e-9; lo = lo - (Math.abs(lo) || 1) * 0.05; }
  const pad = (hi - lo) * 0.08; hi += pad; if (floor == null || lo - pad >= floor) lo -= pad;
  const t0 = t[0], t1 = t[t.length - 1], span = Math.max(1, t1 - t0);
  const x = (v) => L + (t.length < 2 ? (W - L - R) / 2 : ((v - t0) / span) * (W - L - R));
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const g = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    g.push(sv("line", { class: "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      sv("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v)));
  }
  const ticks = t.length < 2 ? [t0] : [t0, t0 + span / 2, t1];
  ticks.forEach((v, i) => g.push(sv("text", { x: x(v), y: H - 8, "text-anchor": ["start", "middle", "end"][t.length < 2 ? 1 : i] }, clock(v, span))));
  lines.forEach((l) => g.push(sv("line", { class: "thr", x1: L, x2: W - R, y1: y(l.y), y2: y(l.y), stroke: l.color, "stroke-width": 1.5 }),
    sv("text", { x: W - R - 4, y: y(l.y) - 4, "text-anchor": "end" }, l.label)));
  series.forEach((s, k) => {
    let d = "", open = false;
    s.values.forEach((v, i) => {
      if (v == null) { open = false; return; }
      d += (open ? "L" : "M") + x(t[i]).toFixed(1) + " " + y(v).toFixed(1);
      open = true;
    });
    const last = s.values.map((v, i) => [v, i]).filter(([v]) => v != null).pop();
    if (d) g.push(sv("path", { class: "s", d, stroke: s.color || COLORS[k % COLORS.length] }));
    if (last) g.push(sv("circle", { cx: x(t[last[1]]), cy: y(last[0]), r: 3, fill: s.color || COLORS[k % COLORS.length] }));
  });
  const latest = series.map((s) => { const v = s.values.filter((v) => v != null).pop(); return s.label + " " + (v == null ? "no data" : fmt(v)); });
  const desc = (t.length ? "From " + clock(t0, span) + " to " + clock(t1, span) + ", " + t.length + " points. Latest: " : "No points yet. ") + latest.join(", ")
    + (lines.length ? ". Lines at " + lines.map((l) => l.label).join(", ") : "") + ".";
  const svgEl = sv("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": id + "t " + id + "d" },
    sv("title", { id: id + "t" }, caption), sv("desc", { id: id + "d" }, desc), g);
  const rows = t.map((tt, i) => i).slice(-8).reverse();
  const table = el("details", {}, el("summary", {}, "Latest points"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Time"), series.map((s) => el("th", { scope: "col", class: "num" }, s.label)))),
      el("tbody", {}, rows.map((i) => el("tr", {}, el("th", { scope: "row" }, new Date(t[i] * 1000).toLocaleString()),
        series.map((s) => el("td", { class: "num" }, s.values[i] == null ? "—" : fmt(s.values[i]))))))));
  return el("figure", { "data-chart": caption }, el("figcaption", {}, caption), svgEl,
    el("ul", { class: "legend", "aria-hidden": "true" }, series.map((s, k) => el("li", {}, legendMark(s.color || COLORS[k % COLORS.length]), s.label))),
    table);
}
function legendMark(color) { const i = el("i"); i.style.background = color; return i; }

function windowsTable(entry) {
  const ps = entry.windows && entry.windows.length ? Object.keys(entry.windows[0].latency) : [];
  return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Windows" }, el("table", { id: "windows" },
    el("caption", {}, "Every window, all clusters"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Window"), ["Events", "Good", "Error ratio", "Burn rate"].concat(ps).map((h) => el("th", { scope: "col", class: "num" }, h)))),
    el("tbody", {}, (entry.windows || []).map((w) => el("tr", {}, el("th", { scope: "row" }, w.window),
      cell(w.total, num(w.total)), cell(w.good, num(w.good)), cell(w.error_ratio, pct(w.error_ratio, 4)), cell(w.burn_rate, rate(w.burn_rate)),
      ps.map((p) => cell(w.latency[p], secs(w.latency[p]))))))));
}

const NO_HISTORY = { series: [], alerts: [], objective: null, window: "", step_seconds: 0, window_step_seconds: 0 };
// `hist` is the history, or an Error: the rest of the page is drawn and the charts' place
// says why they are missing.
function renderDetail(def, entries, histOrError) {
  const failed = histOrError instanceof Error;
  const hist = failed ? NO_HISTORY : histOrError;
  const all = entries.find((s) => s.cluster === "all" && !s.group) || entries[0];
  const clusters = hist.series.map((s) => s.cluster);
  if (!clusters.includes(chartCluster)) chartCluster = clusters[0] || "all";
  const series = hist.series.find((s) => s.cluster === chartCluster) || { t: [], sli: [], error_budget_remaining: [], burn_rate: {}, latency: {} };
  const t = series.t;
  const alertWindows = [...new Set(hist.alerts.map((a) => a.long_window))];
  const burnWindows = Object.keys(series.burn_rate).filter((w) => alertWindows.includes(w) || w === "5m");
  const thr = hist.alerts.map((a) => ({ y: a.factor, color: a.severity === "page" ? "var(--breaching)" : "var(--warning)", label: a.severity + " " + a.factor + "× (" + a.long_window + "/" + a.short_window + ")" }));
  const uniqThr = thr.filter((l, i) => thr.findIndex((m) => m.y === l.y) === i);
  const charts = failed ? [] : [
    chart("SLI against the objective", t, [{ label: "SLI (" + hist.window + ")", values: series.sli }], [{ y: hist.objective, label: "objective " + pct(hist.objective, 3), color: "var(--breaching)" }], (v) => pct(v, 3)),
    chart("Error budget remaining", t, [{ label: "budget left", values: series.error_budget_remaining }], [{ y: 0, label: "exhausted", color: "var(--breaching)" }], (v) => pct(v, 1)),
    chart("Burn rates and alert thresholds", t, burnWindows.map((w) => ({ label: w, values: series.burn_rate[w] })), uniqThr, rate, 0),
  ];
  const ps = Object.keys(series.latency);
  if (ps.length && !failed) charts.push(chart("Latency percentiles (" + hist.latency_window + " window)", t, ps.map((p) => ({ label: p, values: series.latency[p] })), [], secs, 0));
  const pick = el("select", { id: "f-chart-cluster" }, clusters.map((c) => el("option", { value: c }, c)));
  pick.value = chartCluster;
  pick.addEventListener("change", () => { chartCluster = pick.value; renderDetail(def, entries, hist); });
  const apart = "Recent points are " + hist.step_seconds + " s apart, older ones " + Math.round(hist.window_step_seconds / 3600) + " h apart; ";
  const res = failed ? "" : hist.source === "prometheus"
    ? apart + "read from Prometheus (the recordings slotel rules writes, from when they were loaded), the same on every replica."
    : apart + "history is kept in memory since this replica started.";
  main.replaceChildren(...[
    el("p", {}, el("a", { href: "/" }, "← all SLOs")),
    def.description ? el("p", {}, def.description) : null,
    el("div", { class: "cards" },
      el("div", { class: "card st-" + all.status, "data-field": "status", "data-value": all.status }, "Status", el("b", {}, STATUS_TEXT[all.status])),
      el("div", { class: "card", "data-field": "sli", "data-value": String(sliOf(all)) }, "SLI over " + all.window, el("b", {}, pct(sliOf(all), 3))),
      el("div", { class: "card", "data-field": "objective", "data-value": String(all.objective) }, "Objective", el("b", {}, pct(all.objective, 3))),
      el("div", { class: "card st-" + all.status, "data-field": "error_budget_remaining", "data-value": String(all.error_budget_remaining) }, "Budget left", el("b", {}, pct(all.error_budget_remaining, 1))),
      el("div", { class: "card", "data-field": "time_to_exhaustion_seconds", "data-value": String(all.time_to_exhaustion_seconds) },
        "Budget lasts", el("b", {}, all.time_to_exhaustion_seconds == null ? "not burning" : span(all.time_to_exhaustion_seconds))),
      el("div", { class: "card", "data-field": "total", "data-value": String(all.total) }, sampled(all) ? "Events, adjusted (good / all)" : "Events (good / all)", el("b", {}, num(all.good) + " / " + num(all.total))),
      sampled(all) ? el("div", { class: "card", "data-field": "raw_total", "data-value": String(all.raw_total) }, (all.raw_unit === "traces" ? "Traces" : "Spans") + " received (good / all)", el("b", {}, num(all.raw_good) + " / " + num(all.raw_total))) : null),
    (all.adjustments || []).length ? el("p", { id: "adjustments" },
      "Budget adjustments (their events do not count toward the budget; alerts are held back while one is active): ",
      all.adjustments.map((m, i) => el("span", { "data-id": m.id, "data-active": String(m.active) },
        (i ? "; " : "") + (m.active ? "active now: " : "next: ") + m.reason + " (" + m.range.start + " to " + m.range.end
          + (m.clusters ? ", in " + m.clusters.join(", ") + " only" : "") + ")"))) : null,
    el("p", {}, def.runbook_url ? el("a", { href: def.runbook_url, rel: "noreferrer" }, "Runbook") : "No runbook_url set.", " · ",
      el("a", { href: "/api/v1/slos/" + encodeURIComponent(def.service) + "/" + encodeURIComponent(def.name) }, "API (JSON)"),
      " · The Grafana dashboard that slotel rules generates has this SLO too."),
    el("h2", {}, "Over time"),
    failed ? null : el("form", { class: "filters" }, el("label", {}, "Cluster", pick)),
    failed ? null : el("p", { class: "note" }, res),
    failed ? el("p", { id: "charts-error", role: "alert" }, "Charts unavailable: " + histOrError.message)
      : el("div", { class: "charts" }, charts),
    el("h2", {}, "By cluster and group"),
    el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "By cluster and group" },
      el("table", { id: "slos" }, ...sloHead(entries.length + " entries"), el("tbody", {}, entries.map((s) => sloRow(s, false))))),
    el("h2", {}, "Windows"),
    windowsTable(all),
    el("h2", {}, "Definition"),
    el("p", { class: "note" }, "As slotel reads it, from " + def.source + ":"),
    el("pre", { id: "definition" }, def.yaml)].filter((e) => e != null));
}

async function detail(service, name) {
  document.title = service + " / " + name + " · slotel";
  document.getElementById("title").textContent = service + " / " + name;
  const base = "/api/v1/slos/" + encodeURIComponent(service) + "/" + encodeURIComponent(name);
  let def = null;
  loop(async () => {
    def = def || await getJSON(base + "/definition");
    const [one, hist] = await Promise.all([getJSON(base), getJSON(base + "/history").catch((e) => e)]);
    showSource(one, hist instanceof Error ? null : hist);
    const scroll = window.scrollY;
    renderDetail(def, one.slos, hist);
    window.scrollTo(0, scroll);
  });
}

route();
