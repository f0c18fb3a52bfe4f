// The experiment list: polls /api/experiments every 2 s and redraws the table in place.
"use strict";
function fmt(v) { return v === null || v === undefined ? "–" : (typeof v === "number" ? Number(v.toPrecision(6)).toString() : String(v)); }
function seconds(s) { if (s === null || s === undefined) return "–"; if (s < 60) return s.toFixed(1) + " s"; const m = Math.floor(s / 60); return m < 60 ? m + " min" : (m / 60).toFixed(1) + " h"; }
function cell(row, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; row.appendChild(td); return td; }
async function refresh() {
  const status = document.getElementById("list-status");
  try {
    const response = await fetch("/api/experiments", { cache: "no-store" });
    const body = await response.json();
    if (!response.ok) { status.textContent = body.error || response.statusText; return; }
    document.getElementById("store").textContent = body.store;
    const tbody = document.querySelector("#exp-table tbody");
    tbody.replaceChildren();
    for (const e of body.experiments) {
      const tr = document.createElement("tr"); tr.className = "exp-row"; tr.dataset.name = e.name;
      const a = document.createElement("a"); a.href = (e.comparison ? "/comparisons/" : "/experiments/") + encodeURIComponent(e.name); a.textContent = e.name;
      cell(tr, "").appendChild(a);
      cell(tr, e.comparison ? "comparison of methods" : e.status + (e.stop_reason ? " (" + e.stop_reason + ")" : ""));
      cell(tr, e.metric + " (" + e.mode + ")");
      cell(tr, String(e.n_trials)); cell(tr, String(e.counts.running || 0)); cell(tr, String(e.counts.failed || 0));
      cell(tr, fmt(e.best_value)); cell(tr, seconds(e.elapsed)); cell(tr, new Date(e.updated_at * 1000).toLocaleString());
      tbody.appendChild(tr);
    }
    status.textContent = body.experiments.length ? body.experiments.length + " experiment(s); updated " + new Date().toLocaleTimeString() : "No experiments in this store yet.";
  } catch (err) {
    status.textContent = "cannot reach the dashboard: " + err;
  }
}
refresh();
setInterval(refresh, 2000);
