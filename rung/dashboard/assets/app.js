// The experiment page. It polls the summary every second; when the experiment's data
// version changes it refetches the views of the open tab and redraws them with
// Plotly.react (in place: the page is never reloaded). All aggregation and sampling is done
// by the server; this file only turns its tables into plotly traces.
"use strict";

const NAME = decodeURIComponent(location.pathname.replace(/^\/experiments\//, ""));
const API = "/api/experiments/" + encodeURIComponent(NAME);
const COLORS = { completed: "#2ca02c", stopped: "#ff7f0e", paused: "#9467bd", failed: "#d62728", running: "#1f77b4" };
const STOPPED_SHADES = ["#ffbb78", "#ff9f40", "#ff7f0e", "#d95f02", "#a64d00", "#7a3800"];
const PLOT_CONFIG = { responsive: true, displaylogo: false };
// plotly.js (4.6 MB) is loaded without blocking the page: the summary and the trial table
// show as soon as their data arrives, the charts once plotly.js is ready.
const plotlyReady = new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = "/static/plotly.min.js";
  script.onload = () => resolve(window.Plotly);
  script.onerror = () => reject(new Error("could not load /static/plotly.min.js"));
  document.head.appendChild(script);
});
const state = { version: -1, tab: "overview", summary: null, params: null, paramsVersion: -1,
  table: { sort: "trial", order: "asc", offset: 0 }, detail: null, drawn: {} };

function fmt(v) { return v === null || v === undefined ? "–" : (typeof v === "number" ? Number(v.toPrecision(6)).toString() : String(v)); }
function seconds(s) { if (s === null || s === undefined) return "–"; if (s < 60) return s.toFixed(1) + " s"; const m = Math.floor(s / 60); return m < 60 ? m + " min " + Math.round(s % 60) + " s" : (s / 3600).toFixed(2) + " h"; }
function el(id) { return document.getElementById(id); }
function text(id, value) { el(id).textContent = value; }

async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function stateColor(name, rungs) {
  if (name.startsWith("stopped at ") || name.startsWith("paused at ")) {
    const level = parseFloat(name.split(" at ")[1]);
    const i = Math.max(0, rungs.indexOf(level));
    return name.startsWith("paused") ? COLORS.paused : STOPPED_SHADES[i % STOPPED_SHADES.length];
  }
  return COLORS[name] || "#7f7f7f";
}

function rungShapes(rungs) {
  return rungs.map(level => ({ type: "line", xref: "x", yref: "paper", x0: level, x1: level, y0: 0, y1: 1,
    line: { color: "#999", width: 1, dash: "dot" } }));
}

async function draw(id, traces, layout) {
  await plotlyReady;
  const base = { margin: { l: 60, r: 20, t: 36, b: 48 }, uirevision: id, font: { size: 12 } };
  await Plotly.react(el(id), traces, Object.assign(base, layout), PLOT_CONFIG);
  state.drawn[id] = true;
}

// -- summary and polling -----------------------------------------------------------------------
function renderSummary(s) {
  state.summary = s;
  document.title = "rung: " + s.name;
  document.body.dataset.reports = s.n_reports;  // what tests and benchmarks watch
  document.body.dataset.trials = s.n_trials;
  text("exp-name", s.name);
  const badge = el("exp-status");
  badge.textContent = s.status + (s.stop_reason && s.status !== "running" ? " (" + s.stop_reason + ")" : "") + (s.stop_requested ? " · stop requested" : "");
  badge.className = "badge " + s.status;
  text("n-trials", String(s.n_trials));
  text("counts", Object.entries(s.counts).filter(([, n]) => n).map(([k, n]) => n + " " + k).join(", "));
  text("best-value", s.metric + " = " + fmt(s.best_value));
  text("best-trial", s.best_trial === null ? "" : "trial " + s.best_trial + " " + JSON.stringify(s.best_config));
  text("times", "elapsed " + seconds(s.elapsed) + " · training " + seconds(s.training_time) + " · decisions " + seconds(s.decision_time));
  const loading = s.loading;
  text("loading", !loading.trials_complete ? "reading trial rows: " + loading.trials_read + " of " + fmt(loading.trials_expected) + " (the views fill in as they come)" :
    loading.log_complete ? s.n_reports + " reports read" :
    "reading the log: " + loading.reports_read + " of " + loading.trial_reports + " reports so far (curves and rungs fill in as it reads)");
  const error = el("error");
  error.hidden = !s.error; error.textContent = s.error || "";
  el("stop-button").hidden = s.status !== "running" || s.stop_requested;
}

async function poll() {
  try {
    const s = await getJSON(API + "/summary");
    renderSummary(s);
    if (s.version !== state.version) {
      state.version = s.version;
      await refreshTab();
    }
  } catch (err) {
    el("error").hidden = false; text("error", String(err.message || err));
  }
  setTimeout(poll, 1000);
}

async function refreshTab() {
  const tab = state.tab;
  const views = {
    overview: async () => { await Promise.all([drawCurves(), drawIncumbent()]); },
    rungs: drawRungs, parallel: drawParallel, scatter: drawScatter, slice: drawSlice,
    importance: drawImportance, timeline: drawTimeline, trials: drawTable,
  };
  try { await views[tab](); } catch (err) { el("error").hidden = false; text("error", String(err.message || err)); }
  if (state.detail !== null) await showDetail(state.detail, false);
}

function selectTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.tab === tab);
  for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== "tab-" + tab;
  refreshTab().then(async () => {
    await plotlyReady;
    for (const id of Object.keys(state.drawn)) { const node = el(id); if (node.offsetParent) Plotly.Plots.resize(node); }
  });
}

// -- views ---------------------------------------------------------------------------------------
async function drawCurves() {
  const c = await getJSON(API + "/views/curves");
  const groups = {};
  for (const line of c.lines) {
    const g = groups[line.state] || (groups[line.state] = { x: [], y: [], text: [] });
    for (let i = 0; i < line.x.length; i++) { g.x.push(line.x[i]); g.y.push(line.y[i]); g.text.push("trial " + line.trial); }
    g.x.push(null); g.y.push(null); g.text.push("");
  }
  const traces = [];
  const q = c.bands.q;
  if (c.bands.x.length) {
    traces.push({ x: c.bands.x, y: q["0.9"], mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false, name: "90%" });
    traces.push({ x: c.bands.x, y: q["0.1"], mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(100,100,100,0.15)", name: "10–90% of all reports", hoverinfo: "skip" });
    traces.push({ x: c.bands.x, y: q["0.5"], mode: "lines", line: { color: "#555", width: 2, dash: "dash" }, name: "median of all reports" });
  }
  for (const name of Object.keys(groups).sort()) {
    const g = groups[name];
    traces.push({ type: "scatter", x: g.x, y: g.y, text: g.text, mode: "lines+markers", name: name,
      line: { color: stateColor(name, c.rungs), width: 1 }, marker: { size: 3 }, connectgaps: false, hovertemplate: "%{text}<br>%{x}: %{y}<extra>" + name + "</extra>" });
  }
  const best = c.lines.find(line => line.trial === c.best_trial);
  if (best) traces.push({ x: best.x, y: best.y, mode: "lines", name: "best (trial " + best.trial + ")", line: { color: "#000", width: 3 } });
  await draw("plot-curves", traces, { title: { text: "Learning curves by how trials ended" }, xaxis: { title: { text: c.x_label } },
    yaxis: { title: { text: c.metric } }, shapes: rungShapes(c.rungs) });
  text("curves-note", "Lines: " + c.drawn + " of " + c.total + " trials (the 20 best, running ones, then a fixed sample); " +
    "band and median: all reports. Dotted lines: rung levels" + (c.rungs.length ? " (" + c.rungs.join(", ") + ")" : "") + ".");
}

async function drawIncumbent() {
  const inc = await getJSON(API + "/views/incumbent");
  const hover = "trial %{text}<br>%{y}<extra></extra>";
  await draw("plot-incumbent-time", [{ x: inc.time.x, y: inc.time.y, text: inc.time.trial, mode: "lines+markers", line: { shape: "hv", color: "#1f77b4" }, hovertemplate: hover, name: "incumbent" }],
    { title: { text: "Incumbent over wall-clock time" }, xaxis: { title: { text: "seconds since start" } }, yaxis: { title: { text: "best " + inc.metric } }, showlegend: false });
  await draw("plot-incumbent-trials", [{ x: inc.trials.x, y: inc.trials.y, text: inc.trials.trial, mode: "lines+markers", line: { shape: "hv", color: "#2ca02c" }, hovertemplate: hover, name: "incumbent" }],
    { title: { text: "Incumbent over trials" }, xaxis: { title: { text: "trial id" } }, yaxis: { title: { text: "best " + inc.metric } }, showlegend: false });
  await draw("plot-times", [
    { type: "bar", orientation: "h", y: ["time"], x: [inc.training_time], name: "training (sum over trials)", marker: { color: "#1f77b4" } },
    { type: "bar", orientation: "h", y: ["time"], x: [inc.decision_time], name: "decisions (searcher + scheduler)", marker: { color: "#ff7f0e" } },
  ], { barmode: "group", title: { text: "Training time and decision time (elapsed " + seconds(inc.elapsed) + ")" }, xaxis: { title: { text: "seconds" } }, margin: { l: 60, r: 20, t: 36, b: 40 } });
  text("incumbent-note", "Every improvement (" + inc.n_improvements + ") of the " + inc.n_finished + " finished trials (exact), held to now.");
}

async function drawRungs() {
  const r = await getJSON(API + "/views/rungs");
  const traces = [];
  for (const level of r.levels) {
    traces.push({ type: "scattergl", x: level.x.map((x, i) => x * (1 + 0.04 * (((level.trial[i] * 2654435761) % 1000) / 1000 - 0.5))),
      y: level.y, text: level.trial.map(t => "trial " + t), mode: "markers", marker: { size: 4, opacity: 0.5, color: "#1f77b4" },
      name: "rung " + level.level + " (" + level.n + ")", showlegend: false, hovertemplate: "%{text}<br>%{y}<extra>rung " + level.level + "</extra>" });
  }
  const bestX = r.levels.filter(l => l.best !== null).map(l => l.level), bestY = r.levels.filter(l => l.best !== null).map(l => l.best);
  traces.push({ x: bestX, y: bestY, mode: "lines+markers", marker: { symbol: "star", size: 14, color: "#d62728" }, line: { color: "#d62728" }, name: "best trial (" + r.best_trial + ")" });
  traces.push({ x: r.levels.map(l => l.level), y: r.levels.map(l => l.q["0.5"]), mode: "lines", line: { dash: "dash", color: "#555" }, name: "median at each rung" });
  const levels = r.levels.map(l => l.level);
  const spread = levels.length > 1 && levels[0] > 0 && levels[levels.length - 1] / levels[0] > 20;
  await draw("plot-rungs", traces, { title: { text: "Metric per rung level" }, xaxis: { title: { text: r.x_label }, type: spread ? "log" : "linear", tickvals: levels, ticktext: levels.map(String) },
    yaxis: { title: { text: r.metric }, type: r.log_y ? "log" : "linear" } });
  text("rungs-note", r.levels.map(l => "rung " + l.level + ": " + l.x.length + " of " + l.n + " points drawn").join("; ") + ". Median and best: all values.");
}

async function loadParams() {
  if (state.paramsVersion !== state.version || state.params === null) {
    state.params = await getJSON(API + "/views/params");
    state.paramsVersion = state.version;
  }
  return state.params;
}

function axisValues(p) {
  if (p.kind === "choice") {
    const index = Object.fromEntries(p.categories.map((c, i) => [c, i]));
    return { values: p.values.map(v => (v in index ? index[v] : null)), tickvals: p.categories.map((c, i) => i), ticktext: p.categories };
  }
  return { values: p.values };
}

async function drawParallel() {
  const d = await loadParams();
  const dims = d.params.map(p => {
    const a = axisValues(p);
    if (p.log) return { label: p.name + " (log10)", values: a.values.map(v => (v > 0 ? Math.log10(v) : null)) };
    return Object.assign({ label: p.name, values: a.values }, a.tickvals ? { tickvals: a.tickvals, ticktext: a.ticktext } : {});
  });
  dims.push({ label: d.metric, values: d.value });
  await draw("plot-parallel", [{ type: "parcoords", dimensions: dims, line: { color: d.value, colorscale: "Viridis", reversescale: state.summary && state.summary.mode === "min", showscale: true } }],
    { title: { text: "Parallel coordinates" }, margin: { l: 80, r: 80, t: 60, b: 30 } });
  text("parallel-note", d.drawn + " of " + d.total + " trials with a value (the best tenth of the budget, then a fixed sample).");
}

function fillSelect(id, names, chosen, allowNone) {
  const select = el(id);
  if (select.options.length === names.length + (allowNone ? 1 : 0)) return;
  select.replaceChildren();
  if (allowNone) select.appendChild(new Option("(2-D)", ""));
  for (const name of names) select.appendChild(new Option(name, name));
  select.value = chosen;
}

async function drawScatter() {
  const d = await loadParams();
  const names = d.params.map(p => p.name).concat([d.metric]);
  fillSelect("scatter-x", names, names[0], false);
  fillSelect("scatter-y", names, names.length > 2 ? names[1] : d.metric, false);
  fillSelect("scatter-z", names, "", true);
  const column = name => { if (name === d.metric) return { values: d.value }; const p = d.params.find(q => q.name === name); return Object.assign(axisValues(p), { log: p.log }); };
  const axis = (name) => { const c = column(name); return Object.assign({ title: { text: name } }, c.log ? { type: "log" } : {}, c.tickvals ? { tickvals: c.tickvals, ticktext: c.ticktext } : {}); };
  const x = el("scatter-x").value, y = el("scatter-y").value, z = el("scatter-z").value;
  const marker = { size: 4, color: d.value, colorscale: "Viridis", reversescale: state.summary && state.summary.mode === "min", showscale: true, colorbar: { title: { text: d.metric } } };
  const hover = d.trial.map(t => "trial " + t);
  if (z) {
    await draw("plot-scatter", [{ type: "scatter3d", mode: "markers", x: column(x).values, y: column(y).values, z: column(z).values, text: hover, marker: marker }],
      { title: { text: "3-D scatter" }, scene: { xaxis: axis(x), yaxis: axis(y), zaxis: axis(z) } });
  } else {
    await draw("plot-scatter", [{ type: "scattergl", mode: "markers", x: column(x).values, y: column(y).values, text: hover, marker: marker }],
      { title: { text: "2-D scatter" }, xaxis: axis(x), yaxis: axis(y) });
  }
  text("scatter-note", d.drawn + " of " + d.total + " trials with a value (same sample as parallel coordinates), coloured by " + d.metric + ".");
}

async function drawSlice() {
  const d = await loadParams();
  const n = d.params.length, columns = Math.min(3, Math.max(1, n)), rows = Math.ceil(n / columns);
  const traces = [], layout = { title: { text: "Slice: each hyperparameter against " + d.metric }, grid: { rows: rows, columns: columns, pattern: "independent" }, showlegend: false };
  d.params.forEach((p, i) => {
    const a = axisValues(p), suffix = i === 0 ? "" : String(i + 1);
    traces.push({ type: "scattergl", mode: "markers", x: a.values, y: d.value, text: d.trial.map(t => "trial " + t), xaxis: "x" + suffix, yaxis: "y" + suffix,
      marker: { size: 3, opacity: 0.5, color: "#1f77b4" }, name: p.name });
    layout["xaxis" + suffix] = Object.assign({ title: { text: p.name } }, p.log ? { type: "log" } : {}, a.tickvals ? { tickvals: a.tickvals, ticktext: a.ticktext } : {});
    layout["yaxis" + suffix] = { title: { text: i % columns === 0 ? d.metric : "" } };
  });
  await draw("plot-slice", traces, layout);
  text("slice-note", d.drawn + " of " + d.total + " trials with a value (same sample as parallel coordinates).");
}

async function drawImportance() {
  const imp = await getJSON(API + "/views/importance");
  if (!imp.available) { text("importance-note", "Importance: " + imp.why + "."); return; }
  await draw("plot-importance", [{ type: "bar", orientation: "h", x: imp.importance.slice().reverse(), y: imp.names.slice().reverse(), marker: { color: "#1f77b4" } }],
    { title: { text: "Hyperparameter importance for " + imp.metric }, xaxis: { title: { text: "importance (random forest, impurity)" } }, margin: { l: 140, r: 20, t: 36, b: 48 } });
  text("importance-note", "A random forest (scikit-learn) fitted on " + imp.n_trials + " finished trials (a fixed sample when there are more).");
}

async function drawTimeline() {
  const t = await getJSON(API + "/views/timeline");
  const groups = {};
  const b = t.bars;
  for (let i = 0; i < b.trial.length; i++) {
    const g = groups[b.state[i]] || (groups[b.state[i]] = { x: [], y: [], text: [] });
    g.x.push(b.start[i], b.end[i], null); g.y.push(b.lane[i], b.lane[i], null);
    g.text.push("trial " + b.trial[i], "trial " + b.trial[i], "");
  }
  const traces = Object.keys(groups).sort().map(name => ({ type: "scatter", mode: "lines", x: groups[name].x, y: groups[name].y, text: groups[name].text,
    line: { color: COLORS[name] || "#777", width: 6 }, name: name, hovertemplate: "%{text}<br>%{x:.1f} s<extra>" + name + "</extra>" }));
  await draw("plot-timeline", traces, { title: { text: "Trials on worker slots" }, xaxis: { title: { text: "seconds since start" } }, yaxis: { title: { text: "slot" }, dtick: 1 } });
  await draw("plot-concurrency", [{ x: t.concurrency.x, y: t.concurrency.y, mode: "lines", line: { shape: "hv" }, name: "running" }],
    { title: { text: "Trials running" }, xaxis: { title: { text: "seconds since start" } }, yaxis: { title: { text: "trials" } }, margin: { l: 60, r: 20, t: 30, b: 40 } });
  text("timeline-note", "Bars: " + t.drawn + " of " + t.total + " runs on a worker (the most recent); slots are inferred (the store does not name workers). Trials running: all runs, exact.");
}

// -- trial table -------------------------------------------------------------------------------
async function drawTable() {
  const t = state.table;
  const params = new URLSearchParams({ sort: t.sort, order: t.order, offset: t.offset, limit: el("page-size").value });
  if (el("filter-status").value) params.set("status", el("filter-status").value);
  if (el("filter-text").value.trim()) params.set("q", el("filter-text").value.trim());
  const page = await getJSON(API + "/trials?" + params);
  const tbody = document.querySelector("#trial-table tbody");
  tbody.replaceChildren();
  for (const row of page.rows) {
    const tr = document.createElement("tr"); tr.dataset.trial = row.trial;
    const cells = [row.trial, row.state, fmt(row.value), row.reports, seconds(row.run_time), row.started === null ? "–" : row.started.toFixed(1) + " s", JSON.stringify(row.config), row.note || ""];
    cells.forEach((value, i) => { const td = document.createElement("td"); td.textContent = String(value); if (i === 6) td.className = "config"; if (i === 1) td.className = "state-" + row.status; tr.appendChild(td); });
    tr.addEventListener("click", () => showDetail(row.trial, true));
    tbody.appendChild(tr);
  }
  for (const th of document.querySelectorAll("#trial-table th[data-sort]")) th.classList.toggle("sorted", th.dataset.sort === t.sort);
  const last = Math.min(page.offset + page.rows.length, page.total);
  text("page-info", (page.total ? page.offset + 1 : 0) + "–" + last + " of " + page.total + " (sorted by " + page.sort + " " + page.order + ")");
}

function pre(content) { const p = document.createElement("pre"); p.textContent = content; return p; }
function heading(content) { const h = document.createElement("h3"); h.textContent = content; return h; }

async function showDetail(trial, scroll) {
  const d = await getJSON(API + "/trials/" + trial);
  state.detail = trial;
  if (location.hash !== "#trial=" + trial) history.replaceState(null, "", "#trial=" + trial);
  el("trial-detail").hidden = false;
  text("detail-title", "Trial " + d.trial + " · " + d.state + " · " + d.metric + " = " + fmt(d.value));
  const body = el("detail-body");
  body.replaceChildren();
  body.appendChild(heading("Config")); body.appendChild(pre(JSON.stringify(d.config, null, 2)));
  const facts = ["run time " + seconds(d.run_time), "started " + (d.started === null ? "–" : d.started.toFixed(1) + " s"), "ended " + (d.ended === null ? "–" : d.ended.toFixed(1) + " s")];
  if (d.end_reason) facts.push("end: " + d.end_reason);
  body.appendChild(pre(facts.join("\n")));
  if (d.error || d.traceback) { body.appendChild(heading("Failure")); body.appendChild(pre((d.error || "") + "\n\n" + (d.traceback || ""))); }
  const curve = document.createElement("div"); curve.className = "plot small"; curve.id = "plot-trial"; body.appendChild(curve);
  await plotlyReady;
  Plotly.react(curve, [{ x: d.reports.map(r => r.resource), y: d.reports.map(r => r.metrics[d.metric]), mode: "lines+markers" }],
    { margin: { l: 50, r: 10, t: 10, b: 30 }, xaxis: { title: { text: "resource" } }, yaxis: { title: { text: d.metric } } }, PLOT_CONFIG);
  body.appendChild(heading("Reports and decisions (" + d.reports.length + ")"));
  const table = document.createElement("table"); table.className = "grid"; table.id = "detail-reports";
  const head = document.createElement("tr");
  for (const name of ["step", "time", "metrics", "decision", "reason", "details"]) { const th = document.createElement("th"); th.textContent = name; head.appendChild(th); }
  table.appendChild(head);
  for (const r of d.reports) {
    const tr = document.createElement("tr");
    for (const value of [r.step, r.time.toFixed(2) + " s", JSON.stringify(r.metrics), r.action || "", r.reason || "", Object.keys(r.details || {}).length ? JSON.stringify(r.details) : ""]) {
      const td = document.createElement("td"); td.textContent = String(value); tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  body.appendChild(table);
  body.appendChild(heading("Starts and ends"));
  body.appendChild(pre(d.events.map(e => e.time.toFixed(2) + " s  " + e.kind + "  " + JSON.stringify(e.payload)).join("\n") || "(none read yet)"));
  body.appendChild(heading("stdout (end)")); body.appendChild(pre(d.stdout === null ? "(no stdout.log)" : d.stdout || "(empty)"));
  body.appendChild(heading("stderr (end)")); body.appendChild(pre(d.stderr === null ? "(no stderr.log)" : d.stderr || "(empty)"));
  if (scroll) el("trial-detail").scrollTop = 0;
}

// -- wiring ------------------------------------------------------------------------------------
for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => selectTab(button.dataset.tab));
for (const th of document.querySelectorAll("#trial-table th[data-sort]")) th.addEventListener("click", () => {
  const t = state.table;
  if (t.sort === th.dataset.sort) t.order = t.order === "asc" ? "desc" : "asc"; else { t.sort = th.dataset.sort; t.order = "asc"; }
  t.offset = 0; drawTable();
});
for (const id of ["filter-status", "page-size"]) el(id).addEventListener("change", () => { state.table.offset = 0; drawTable(); });
let typing = null;
el("filter-text").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { state.table.offset = 0; drawTable(); }, 250); });
el("page-prev").addEventListener("click", () => { state.table.offset = Math.max(0, state.table.offset - parseInt(el("page-size").value, 10)); drawTable(); });
el("page-next").addEventListener("click", () => { state.table.offset += parseInt(el("page-size").value, 10); drawTable(); });
for (const id of ["scatter-x", "scatter-y", "scatter-z"]) el(id).addEventListener("change", drawScatter);
el("detail-close").addEventListener("click", () => { el("trial-detail").hidden = true; state.detail = null; history.replaceState(null, "", location.pathname + location.search); });
el("stop-button").addEventListener("click", async () => {
  if (!confirm("Stop experiment " + NAME + "? Its running trials are stopped.")) return;
  const response = await fetch(API + "/stop", { method: "POST", headers: { "X-Rung-Action": "stop" } });
  const body = await response.json();
  if (!response.ok) { el("error").hidden = false; text("error", body.error); } else { el("stop-button").hidden = true; }
});
const fromHash = /^#trial=(\d+)$/.exec(location.hash);
if (fromHash) state.detail = parseInt(fromHash[1], 10);
poll();
