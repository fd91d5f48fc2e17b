// The page of `refuge serve`: plain JavaScript over the JSON API; every text from the server is set as text, never
// as HTML. Charts are plotly.js, served by this server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { info: null, scenario: null, targets: {}, builtinName: null, edited: false, origin: null, checking: null,
                invalid: null };
const COLORS = ["#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400"];
const PLOT = { displaylogo: false, responsive: true };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  let body = {};
  try { body = await response.json(); } catch (e) { body = { error: `the server answered ${response.status}` }; }
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

function element(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function showError(id, message) {
  const box = $(id);
  box.textContent = message || "";
  box.hidden = !message;
}

// -- tabs --------------------------------------------------------------------------------------------------------

function showTab(name) {
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== `tab-${name}`;
  if (name === "map") drawMap();
  window.dispatchEvent(new Event("resize"));
}

// -- scenarios ---------------------------------------------------------------------------------------------------

function showScenario(view) {
  state.scenario = view;
  $("scenario-name").value = view.name;
  $("scenario-description").textContent = view.description;
  $("yaml").textContent = view.yaml;
  const body = $("levers").querySelector("tbody");
  body.replaceChildren();
  view.levers.forEach((lever, i) => body.append(leverRow(lever, i)));
  $("parameter-words").replaceChildren(...view.parameter_words.map((words) => element("li", words)));
  showError("scenario-error", "");
}

function leverRow(lever, i) {
  const row = element("tr", null, { "data-lever": lever.lever });
  row.append(element("td", lever.words, { class: "words" }));
  // a month field cannot show a day: it keeps the lever's exact date, sent back while its month is not changed
  const from = element("input", null, { type: "month", value: lever.from.slice(0, 7), "data-exact": lever.from,
                                        "aria-label": `lever ${i + 1} from` });
  const until = element("input", null, { type: "month", value: (lever.until || "").slice(0, 7),
                                         "data-exact": lever.until || "", "aria-label": `lever ${i + 1} until` });
  const kind = element("select", null, { "aria-label": `lever ${i + 1} how` });
  for (const k of ["set", "scale", "add"]) kind.append(element("option", k, { value: k }));
  kind.value = lever.kind;
  const bounds = lever.high === null ? `${lever.low} or more` : `${lever.low} to ${lever.high}`;
  const value = element("input", null, { type: "number", step: "any", value: lever.value,
    "aria-label": `lever ${i + 1} value`, title: `the lever's target is allowed ${bounds}` });
  const remove = element("button", "remove", { "aria-label": `remove lever ${i + 1}` });
  for (const input of [from, until, kind, value]) input.addEventListener("change", edited);
  remove.addEventListener("click", () => { row.remove(); edited(); });
  for (const input of [from, until, kind, value]) { const cell = element("td"); cell.append(input); row.append(cell); }
  const cell = element("td"); cell.append(remove); row.append(cell);
  return row;
}

// a date field's exact date while its month is the one shown, else the month chosen
const exact = (field) => (field.value && field.dataset.exact.startsWith(field.value) ? field.dataset.exact : field.value);

function form() {
  const levers = [];
  for (const row of $("levers").querySelectorAll("tbody tr")) {
    const [from, until, kind, value] = row.querySelectorAll("input, select");
    levers.push({ lever: row.dataset.lever, from: exact(from), until: exact(until) || null, kind: kind.value,
                  value: value.value === "" ? null : Number(value.value) });
  }
  // an edit may remove what a description says: an edited scenario says where it came from instead
  const description = state.edited && state.origin ? `Edited on this page from ${state.origin}.` :
    (state.scenario ? state.scenario.description : "");
  return { name: $("scenario-name").value, description,
           levers, parameters: state.scenario ? state.scenario.parameters : {} };
}

// A form's check by the server, kept so that a run waits for it: a click on Run right after an edit (the
// edit's change event fires as the field loses focus) must run what the form says, and nothing while it is wrong.
function check(request) {
  state.checking = (async () => {
    try {
      showScenario(await request());
      state.invalid = null;
    } catch (err) {
      state.invalid = err.message;
      showError("scenario-error", err.message);
    }
  })();
  return state.checking;
}

async function current() {
  await new Promise((resolve) => setTimeout(resolve, 0));  // let a change event still queued start its check
  await state.checking;
  return state.invalid ? null : state.scenario;
}

async function edited() {
  if (!state.edited) state.origin = state.scenario ? state.scenario.name : null;
  if (!state.edited && state.builtinName && $("scenario-name").value === state.builtinName) {
    $("scenario-name").value = `${state.builtinName}-edited`;
  }
  state.edited = true;
  await check(() => api("/api/scenario/form", { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: JSON.stringify(form()) }));
}

async function pickBuiltin(name) {
  state.builtinName = name; state.edited = false;
  await check(() => api(`/api/scenarios/${encodeURIComponent(name)}`));
}

async function upload(file) {
  state.builtinName = null; state.edited = false;
  await check(() => api("/api/scenario/upload", { method: "POST", headers: { "Content-Type": "text/yaml" }, body: file }));
  if (!state.invalid) $("builtin").value = "";
}

function addLever() {
  const name = $("new-lever").value;
  const target = state.targets[name];
  // a new lever changes nothing until it is edited: scale 1 (a set of 1 would mean one reception place)
  const lever = { lever: name, words: "(new lever)", from: `${state.info.window[0]}-01`, until: null, kind: "scale", value: 1,
                  low: target.low, high: target.high };
  const body = $("levers").querySelector("tbody");
  body.append(leverRow(lever, body.children.length));
  edited();
}

// -- jobs --------------------------------------------------------------------------------------------------------

async function submit(path, payload, prefix, onDone) {
  showError(`${prefix}-error`, "");
  let job;
  try {
    job = await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) });
  } catch (err) {
    showError(`${prefix}-error`, err.message);
    return;
  }
  const item = element("li", `${job.kind} ${payload.label}: queued`, { "data-job": job.id });
  $("jobs").prepend(item);
  $(`${prefix}-progress`).value = 0;
  $(`${prefix}-status`).textContent = "queued";
  while (true) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    let status;
    try { status = await api(`/api/jobs/${job.id}`); } catch (err) { status = { state: "failed", error: err.message }; }
    const percent = Math.round(100 * (status.progress || 0));
    item.textContent = `${job.kind} ${payload.label}: ${status.state}${status.state === "running" ? ` ${percent}%` : ""}`;
    $(`${prefix}-progress`).value = status.progress || 0;
    $(`${prefix}-status`).textContent = status.state === "running" ? `running, ${percent}%` : status.state;
    if (status.state === "done") {
      onDone(job.id, status.result);
      const again = element("button", "show", { "aria-label": `show ${job.kind} ${payload.label}` });
      again.addEventListener("click", () => { showTab(job.kind === "compare" ? "compare" : "scenario"); onDone(job.id, status.result); });
      item.append(" ", again);
      return;
    }
    if (status.state === "failed") {
      item.classList.add("failed");
      showError(`${prefix}-error`, status.error);
      return;
    }
  }
}

async function runScenario() {
  const scenario = await current();
  if (!scenario) { showError("run-error", `fix the scenario first: ${state.invalid}`); return; }
  submit("/api/runs", { yaml: scenario.yaml, members: Number($("members").value), seed: Number($("seed").value),
                        backend: $("backend").value, label: scenario.name }, "run", showRun);
}

// -- charts ------------------------------------------------------------------------------------------------------

function band(x, table, color, name, low = "q05", high = "q95") {
  return [
    { x, y: table[high], mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip", legendgroup: name },
    { x, y: table[low], mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: fade(color), legendgroup: name,
      name: `${name}: 90% band`, hoverinfo: "skip" },
    { x, y: table.q50, mode: "lines", line: { color, width: 2 }, name: `${name}: median`, legendgroup: name },
  ];
}

function fade(color) {
  const n = parseInt(color.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},0.18)`;
}

function layout(title, ytitle, recordEnd = null) {
  const shown = { title: { text: title, font: { size: 14 } }, margin: { t: 40, r: 10, b: 40, l: 70 },
                  yaxis: { title: { text: ytitle }, rangemode: "tozero" }, xaxis: { title: { text: "year" } },
                  legend: { orientation: "h", y: -0.2 }, hovermode: "x unified" };
  if (recordEnd !== null) {
    shown.shapes = [{ type: "line", x0: recordEnd + 0.5, x1: recordEnd + 0.5, yref: "paper", y0: 0, y1: 1,
                      line: { dash: "dot", color: "#888", width: 1 } }];
    shown.annotations = [{ x: recordEnd + 0.5, yref: "paper", y: 1, text: "record ends", showarrow: false,
                           xanchor: "left", font: { size: 11, color: "#666" } }];
  }
  return shown;
}

function showRun(jobId, result) {
  $("results").hidden = false;
  $("result-name").textContent = result.scenario;
  $("download-csv").href = `/api/jobs/${jobId}/annual.csv`;
  $("download-report").href = `/api/jobs/${jobId}/report.html`;
  const c = result.charts;
  const end = Math.max(...c.record.year);
  const kind = c.arrivals.predictive ? "90% predictive interval" : "90% band";
  const arrivals = band(c.arrivals.year, c.arrivals, COLORS[0], "model");
  arrivals[1].name = `model: ${kind}`;
  arrivals.push({ x: c.record.year, y: c.record.total, mode: "markers", marker: { color: "#000", size: 6 }, name: "record" });
  Plotly.react("chart-arrivals", arrivals, layout(`${c.headline[0].toUpperCase()}${c.headline.slice(1)} per year: ${result.scenario} against the record`, "people", end), PLOT);
  const ids = ["chart-arrivals"];
  $("charts").replaceChildren();
  c.charts.forEach((chart, k) => {  // the system's charts, each in a box of its own
    const box = document.createElement("div");
    box.id = `chart-${k + 1}`;
    box.className = "chart";
    $("charts").append(box);
    const traces = Object.entries(chart.series).flatMap(([name, table], i) =>
      band(table.year, table, COLORS[(i + k * 2) % COLORS.length], name));
    Plotly.react(box.id, traces, layout(`${chart.title} (median, 90% band)`, chart.unit, end), PLOT);
    ids.push(box.id);
  });
  for (const id of ids) $(id).dataset.job = jobId;
}

// -- compare -----------------------------------------------------------------------------------------------------

function compareSlots() {
  const slots = $("compare-slots");
  for (let i = 0; i < state.info.limits.scenarios; i++) {
    const select = element("select", null, { id: `compare-${i}`, "aria-label": `scenario ${i + 1}` });
    select.append(element("option", i < 2 ? "(choose)" : "(none)", { value: "" }));
    select.append(element("option", "the scenario being edited", { value: "@current" }));
    for (const s of state.info.scenarios) select.append(element("option", s.name, { value: s.name }));
    if (i === 0) select.value = "baseline";
    const label = element("label", i === 0 ? "reference " : `scenario ${i + 1} `);
    label.append(select);
    slots.append(label);
  }
}

async function runCompare() {
  const texts = [], names = [];
  for (let i = 0; i < state.info.limits.scenarios; i++) {
    const chosen = $(`compare-${i}`).value;
    if (!chosen) continue;
    if (chosen === "@current") {
      const scenario = await current();
      if (!scenario) { showError("compare-error", `fix the scenario being edited first: ${state.invalid}`); return; }
      texts.push(scenario.yaml); names.push(scenario.name); continue;
    }
    texts.push((await api(`/api/scenarios/${encodeURIComponent(chosen)}`)).yaml);
    names.push(chosen);
  }
  submit("/api/compares", { scenarios: texts, members: Number($("compare-members").value),
                            seed: Number($("compare-seed").value), backend: $("compare-backend").value,
                            start: Number($("compare-start").value), end: Number($("compare-end").value),
                            label: names.join(" / ") }, "compare", showCompare);
}

function showCompare(jobId, result) {
  state.compare = result;
  $("compare-results").hidden = false;
  $("download-compare-csv").href = `/api/jobs/${jobId}/compare.csv`;
  $("download-differences-csv").href = `/api/jobs/${jobId}/differences.csv`;
  $("download-compare-report").href = `/api/jobs/${jobId}/report.html`;
  const select = $("compare-measure");
  const previous = select.value;
  select.replaceChildren();
  for (const [key, words] of Object.entries(result.measures)) select.append(element("option", words, { value: key }));
  select.value = previous && result.measures[previous] ? previous : "arrivals_south_korea";
  drawCompare();
  const head = element("tr");
  for (const h of ["scenario", "measure", "median", "90% band", `change from ${result.scenarios[0]}`, "change %"]) head.append(element("th", h));
  $("compare-table").querySelector("thead").replaceChildren(head);
  const body = $("compare-table").querySelector("tbody");
  body.replaceChildren();
  const n = (x) => (x === null ? "" : Math.round(x).toLocaleString("en"));
  for (const r of result.effects) {
    const row = element("tr");
    const reference = r.scenario === result.scenarios[0];
    row.append(element("td", r.scenario), element("td", result.measures[r.measure]), element("td", n(r.median), { class: "num" }),
               element("td", `${n(r.q05)} – ${n(r.q95)}`, { class: "num" }),
               element("td", reference ? "" : `${n(r.change_median)} [${n(r.change_q05)}, ${n(r.change_q95)}]`, { class: "num" }),
               element("td", reference || r.change_pct_median === null ? "" : `${r.change_pct_median.toFixed(1)}%`, { class: "num" }));
    body.append(row);
  }
  $("chart-compare").dataset.job = jobId;
}

function drawCompare() {
  const result = state.compare;
  const measure = $("compare-measure").value;
  const traces = result.scenarios.slice(1).flatMap((name, i) => {
    const rows = result.differences.filter((r) => r.scenario === name && r.measure === measure);
    const table = { q05: rows.map((r) => r.q05), q50: rows.map((r) => r.q50), q95: rows.map((r) => r.q95) };
    return band(rows.map((r) => r.year), table, COLORS[(i + 1) % COLORS.length], name);
  });
  const yearly = result.yearly[measure];
  const chart = layout(`${yearly.title}: change from ${result.scenarios[0]}, member by member (${result.band})`,
                       `change (${yearly.unit})`);
  chart.yaxis.rangemode = "normal";
  Plotly.react("chart-compare", traces, chart, PLOT);
}

// -- map, evidence, analyses -------------------------------------------------------------------------------------

let mapDrawn = false;
async function drawMap() {
  if (mapDrawn) return;
  mapDrawn = true;
  const graph = await api("/api/routes");
  const traces = graph.routes.map((route, i) => ({
    x: route.path.map((p) => graph.places[p].lon), y: route.path.map((p) => graph.places[p].lat), mode: "lines",
    name: `${route.name} (${Math.round(100 * route.share)}%)`,
    line: { width: 1 + 10 * route.share, color: COLORS[i % COLORS.length], dash: route.until ? "dash" : "solid" },
  }));
  const names = Object.keys(graph.places);
  traces.push({ x: names.map((n) => graph.places[n].lon), y: names.map((n) => graph.places[n].lat), mode: "markers+text",
                text: names, textposition: "top right", hovertext: names.map((n) => `${graph.places[n].label} (${graph.places[n].kind})`),
                hoverinfo: "text", marker: { size: 9, color: "#222" }, name: "places" });
  Plotly.react("chart-map", traces, { title: { text: "Routes from hiding in China to a third country or an embassy", font: { size: 14 } },
    xaxis: { title: { text: "longitude" } }, yaxis: { title: { text: "latitude" }, scaleanchor: "x" }, margin: { t: 40, r: 10, b: 40, l: 60 } }, PLOT);
  const body = $("route-table").querySelector("tbody");
  for (const r of graph.routes) {
    const row = element("tr");
    row.append(element("td", r.name), element("td", r.path.join(" → ")), element("td", r.share, { class: "num" }),
               element("td", r.until || ""), element("td", r.source));
    body.append(row);
  }
}

async function loadEvidence() {
  const data = await api("/api/parameters");
  const q = data.posterior.quantiles || {};
  const about = data.posterior.about;
  if (about) {
    $("posterior-about").textContent = `Runs draw each member's calibrated parameters from the shipped posterior (record up to ` +
      `${data.posterior.until}, ${about.samples} samples, sampler ${about.sampler}, ${about.convergence}, ` +
      `data version ${about.data_version}, made ${about.created}); others keep their defaults.`;
  }
  const body = $("evidence").querySelector("tbody");
  for (const t of data.targets) {
    state.targets[t.name] = t;
    $("new-lever").append(element("option", `${t.name} (${t.kind}): ${t.label}`, { value: t.name }));
    const row = element("tr", null, { "data-name": t.name });
    const range = t.high === null ? `${t.low} or more` : `${t.low} to ${t.high}`;
    const posterior = q[t.name] ? q[t.name].map((v) => v.toPrecision(3)).join(" / ") : "";
    row.append(element("td", t.name), element("td", t.kind), element("td", t.label), element("td", t.unit),
               element("td", t.default ?? "history"), element("td", range), element("td", posterior),
               element("td", t.evidence.join("; ")));
    body.append(row);
  }
}

function filterEvidence() {
  const word = $("evidence-filter").value.toLowerCase();
  for (const row of $("evidence").querySelectorAll("tbody tr")) row.hidden = word && !row.textContent.toLowerCase().includes(word);
}

async function showAnalysis(id) {
  const a = await api(`/api/analyses/${id}`);
  const box = $("analysis");
  box.replaceChildren(element("h3", a.title));
  for (const line of a.words) box.append(element("p", line));
  if (a.image) box.append(element("img", null, { src: a.image, alt: a.title, style: "max-width:100%" }));
  if (a.table.length) {
    const table = element("table");
    const head = element("tr");
    for (const key of Object.keys(a.table[0])) head.append(element("th", key));
    table.append(head);
    for (const r of a.table) {
      const row = element("tr");
      for (const v of Object.values(r)) row.append(element("td", typeof v === "number" ? Number(v.toPrecision(4)) : v));
      table.append(row);
    }
    box.append(table);
  }
}

// -- start -------------------------------------------------------------------------------------------------------

async function start() {
  for (const button of document.querySelectorAll("nav button")) button.addEventListener("click", () => showTab(button.dataset.tab));
  state.info = await api("/api/info");
  const l = state.info.limits, t = state.info.timeline;
  $("limits").textContent = `This server runs at most ${l.runs} jobs at once (${l.queue} more wait), ${l.members} members a run, ` +
    `${l.seconds} s a job, up to ${l.scenarios} scenarios a comparison. Every run covers ${t.start}-${t.end} in ` +
    `${t.steps_per_year === 52 ? "weekly steps" : t.steps_per_year === 365 ? "daily steps" : `${t.steps_per_year} steps a year`}.`;
  for (const [id, year] of [["compare-start", state.info.window[0]], ["compare-end", state.info.window[1]]]) {
    Object.assign($(id), { min: t.start, max: t.end, value: year });
  }
  $("members").max = l.members; $("compare-members").max = l.members;
  $("builtin").append(element("option", "(uploaded)", { value: "" }));
  for (const s of state.info.scenarios) $("builtin").append(element("option", `${s.name}`, { value: s.name, title: s.description }));
  $("builtin").value = "baseline";
  $("builtin").addEventListener("change", () => $("builtin").value && pickBuiltin($("builtin").value));
  $("upload").addEventListener("change", () => $("upload").files[0] && upload($("upload").files[0]));
  $("scenario-name").addEventListener("change", edited);
  $("add-lever").addEventListener("click", addLever);
  $("run").addEventListener("click", runScenario);
  $("compare").addEventListener("click", runCompare);
  $("compare-measure").addEventListener("change", drawCompare);
  $("evidence-filter").addEventListener("input", filterEvidence);
  compareSlots();
  if (state.info.analyses.length) $("analyses-none").hidden = true;
  for (const a of state.info.analyses) {
    const link = element("button", a.title);
    link.addEventListener("click", () => showAnalysis(a.id));
    const item = element("li"); item.append(link); $("analyses-list").append(item);
  }
  await Promise.all([pickBuiltin("baseline"), loadEvidence()]);
  document.body.dataset.ready = "yes";
}

window.addEventListener("DOMContentLoaded", start);
