// A comparison of methods over seeds: the figure and tables come from rung.compare on the
// server; this page draws them and refreshes every 3 s while runs are added.
"use strict";
const NAME = decodeURIComponent(location.pathname.replace(/^\/comparisons\//, ""));
function fmt(v) { return v === null || v === undefined ? "–" : (typeof v === "number" ? Number(v.toPrecision(6)).toString() : String(v)); }
function fill(id, rows, link) {
  const table = document.getElementById(id);
  const columns = rows.length ? Object.keys(rows[0]) : [];
  const head = document.createElement("tr");
  for (const c of columns) { const th = document.createElement("th"); th.textContent = c.replace(/_/g, " "); head.appendChild(th); }
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0]; body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const c of columns) {
      const td = document.createElement("td");
      if (link && c === "experiment") { const a = document.createElement("a"); a.href = "/experiments/" + encodeURIComponent(row[c]); a.textContent = row[c]; td.appendChild(a); }
      else td.textContent = fmt(row[c]);
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}
async function refresh() {
  try {
    const response = await fetch("/api/comparisons/" + encodeURIComponent(NAME), { cache: "no-store" });
    const c = await response.json();
    if (!response.ok) throw new Error(c.error || response.statusText);
    document.getElementById("cmp-name").textContent = c.name;
    document.title = "rung: " + c.name;
    document.getElementById("cmp-about").textContent = c.methods.length + " methods × " + c.seeds.length + " seeds on " + c.metric + " (" + c.mode + "); " + c.runs.length + " runs stored. Curves: mean and 95 % band of the incumbent over seeds.";
    await Plotly.react("plot-comparison", c.figure.data, Object.assign(c.figure.layout, { uirevision: "cmp" }), { responsive: true, displaylogo: false });
    fill("cmp-summary", c.summary, false);
    fill("cmp-runs", c.runs, true);
    document.getElementById("error").hidden = true;
  } catch (err) {
    const e = document.getElementById("error"); e.hidden = false; e.textContent = String(err.message || err);
  }
}
refresh();
setInterval(refresh, 3000);
