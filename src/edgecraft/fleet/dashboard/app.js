// The fleet dashboard: reads /api/dashboard (the same JSON the CLI uses) and draws it.
// The admin token comes from the URL fragment (#token=..., never sent to the server in a URL)
// or the login form, and is kept in sessionStorage only.
"use strict";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function token() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("edgecraft-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("edgecraft-token");
}

function ago(t, now) {
  if (t == null) return "never";
  const s = Math.max(0, Math.round(now - t));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

function summary(d) {
  const versions = {};
  for (const dev of d.devices) versions[dev.model_version || "none"] = (versions[dev.model_version || "none"] || 0) + 1;
  const online = d.devices.filter((x) => x.online).length;
  const cards = [
    ["devices", d.devices.length], ["online", online],
    ["telemetry messages", d.counts.telemetry], ["anomalies", d.counts.anomalies],
    ["models", Object.entries(versions).map(([v, n]) => `${v}: ${n}`).join(", ")],
    ["broker", `${d.broker.state}${d.broker.deaths ? ` (${d.broker.deaths} restarts)` : ""}`],
  ];
  $("#summary").replaceChildren(...cards.map(([k, v]) => el("div", { class: "card", "data-key": k }, el("b", {}, v), k)));
  $("#summary .card[data-key='broker']").dataset.state = d.broker.state;
}

function rollouts(d) {
  const items = d.rollouts.slice().reverse().map((r) => {
    const stages = r.stages.map((s) => {
      const counts = Object.entries(s.status).map(([k, n]) => `${k} ${n}`).join(", ");
      return el("div", { class: "stage", "data-state": s.state },
        el("b", {}, `${s.percent}%`), ` ${s.devices} devices`, el("br"), counts || "—");
    });
    return el("div", { class: "rollout", "data-state": r.state, "data-id": r.id },
      el("b", {}, `#${r.id} ${r.version} → ${r.group}`), ` ${r.state}`,
      r.reason ? el("div", { class: "reason" }, r.reason) : "",
      el("div", { class: "stages" }, ...stages));
  });
  $("#rollouts").replaceChildren(...(items.length ? items : [el("p", {}, "no rollouts yet")]));
}

function plot(svg, points, key) {
  const W = 320, H = 120, pad = 22;
  const ys = points.map((p) => p[key]);
  const lo = Math.min(0, ...ys), hi = Math.max(...ys, lo + 1e-9);
  const x = (i) => pad + (i * (W - pad - 4)) / Math.max(1, points.length - 1);
  const y = (v) => H - pad + 4 - ((v - lo) * (H - pad - 4)) / (hi - lo);
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const mk = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  };
  const poly = mk("polyline", { points: coords, "data-n": points.length });
  svg.replaceChildren(
    mk("line", { x1: pad, y1: H - pad + 4, x2: W - 4, y2: H - pad + 4, stroke: "#999" }),
    mk("text", { x: 2, y: 10 }, hi.toPrecision(3)), mk("text", { x: 2, y: H - pad + 4 }, lo.toPrecision(2)),
    mk("text", { x: pad, y: H - 2 }, points.length ? new Date(points[0].t * 1000).toLocaleTimeString() : ""),
    poly);
}

function anomalies(d) {
  const items = d.anomalies.map((a) => el("li", { class: "anomaly" },
    `${new Date(a.ts * 1000).toLocaleTimeString()} ${a.device_id} ${a.kind} (${a.version}): ${a.detail}`));
  $("#anomalies").replaceChildren(...(items.length ? items : [el("li", {}, "none")]));
}

function devices(d) {
  const f = $("#filter").value.trim();
  const rows = d.devices.filter((x) => !f || JSON.stringify(x).includes(f)).slice(0, 1000).map((x) => el("tr", {},
    el("td", {}, x.id), el("td", {}, x.board), el("td", {}, x.group), el("td", {}, x.model_version || "—"),
    el("td", {}, `A=${x.slot_a || "—"} B=${x.slot_b || "—"} (${x.active_slot || "—"})`),
    el("td", { class: `health-${x.health}` }, x.health), el("td", {}, ago(x.last_seen, d.time))));
  $("#fleet-table tbody").replaceChildren(...rows);
}

let last = null;

async function refresh() {
  const t = token();
  if (!t) { $("#login").hidden = false; $("#status").textContent = "sign in"; return; }
  const r = await fetch("/api/dashboard", { headers: { authorization: `Bearer ${t}` } });
  if (r.status === 403 || r.status === 401) {
    sessionStorage.removeItem("edgecraft-token");
    $("#login").hidden = false; $("#status").textContent = "token refused"; return;
  }
  const d = await r.json();
  last = d;
  $("#main").hidden = false; $("#login").hidden = true;
  summary(d); rollouts(d); anomalies(d); devices(d);
  plot($("#plot-latency"), d.series, "latency_ms");
  plot($("#plot-confidence"), d.series, "confidence");
  plot($("#plot-anomaly"), d.series, "anomaly_rate");
  $("#status").textContent = `updated ${new Date(d.time * 1000).toLocaleTimeString()}`;
  document.body.dataset.loaded = "1";
}

$("#login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("edgecraft-token", $("#token").value.trim());
  refresh();
});
$("#filter").addEventListener("input", () => last && devices(last));
refresh().catch((e) => { $("#status").textContent = `error: ${e}`; });
setInterval(() => refresh().catch((e) => { $("#status").textContent = `error: ${e}`; }), 3000);
