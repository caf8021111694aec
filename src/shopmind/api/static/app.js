// The shopmind dashboard: plain JS over the REST API, with the API key kept in localStorage.
"use strict";

const KEY_STORE = "shopmind.key";
const state = {key: null, scopes: [], page: null, session: [], users: [], renders: 0};
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ API
async function api(path, options = {}) {
  const headers = {Authorization: `Bearer ${state.key}`, ...(options.headers || {})};
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {...options, headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body)});
  if (response.status === 401) {
    showLogin("The API key was not accepted (unknown, revoked or mistyped).");
    throw new Error("unauthorised");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail
                                    : JSON.stringify(data.detail || response.status));
  return data;
}

const can = (scope) => state.scopes.includes("admin") || state.scopes.includes(scope);

function text(tag, content, cls) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.textContent = content == null ? "" : String(content);
  return node;
}

function number(n) { return Number(n || 0).toLocaleString("en-US"); }
function day(ts) { return ts ? new Date(ts * 1000).toISOString().slice(0, 16).replace("T", " ") : "–"; }

// ------------------------------------------------------------------ key and routing
function showLogin(message) {
  $("login").hidden = false;
  document.querySelectorAll(".page").forEach((p) => (p.hidden = true));
  $("login-error").textContent = message || "";
  $("key-status").textContent = "no key";
}

async function useKey(key) {
  state.key = key;
  try {
    const me = await api("/v1/me");
    state.scopes = me.scopes;
    localStorage.setItem(KEY_STORE, key);
    $("login").hidden = true;
    $("key-status").textContent = `key ${me.key_id} · ${me.scopes.join(", ")}`;
    $("forget-key").hidden = false;
    route();
  } catch (err) {
    if (err.message !== "unauthorised") showLogin(err.message);
  }
}

function route() {
  if (!state.key) return showLogin();
  const page = (location.hash.match(/^#\/(\w+)/) || [null, "overview"])[1];
  state.page = ["overview", "models", "try"].includes(page) ? page : "overview";
  document.querySelectorAll(".page").forEach((p) => (p.hidden = p.id !== `page-${state.page}`));
  document.querySelectorAll("nav a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === state.page));
  ({overview: loadOverview, models: loadModels, try: loadTry})[state.page]().catch(report);
}

function report(err) {
  if (err && err.message !== "unauthorised") console.error(err);
}

// ------------------------------------------------------------------ overview
async function loadOverview() {
  const [stats, activity, trending] = await Promise.all([
    api("/v1/shop/stats"), api("/v1/shop/activity?days=60"),
    api("/v1/recommend/trending?k=8&days=7")]);
  const counts = $("counts");
  counts.innerHTML = "";
  for (const what of ["users", "items", "events", "orders", "reviews"]) {
    const card = text("div", "", "card");
    card.appendChild(text("div", number(stats[what]), "n"));
    card.appendChild(text("div", what, "what"));
    card.dataset.what = what;
    counts.appendChild(card);
  }
  const main = ["view", "click", "add_to_cart", "purchase"];
  const series = main.filter((t) => activity.series[t]).map((t) => ({name: t, values: activity.series[t]}));
  const others = Object.keys(activity.series).filter((t) => !main.includes(t));
  if (others.length) {
    series.push({name: "other", values: activity.days.map((_, i) =>
      others.reduce((sum, t) => sum + activity.series[t][i], 0))});
  }
  $("activity-range").textContent = activity.days.length
    ? `(${activity.days[0]} – ${activity.days[activity.days.length - 1]}, per day)` : "";
  Charts.line($("chart-activity"), {labels: activity.days.map((d) => d.slice(5)), series});
  const types = Object.entries(stats.events_by_type).sort((a, b) => b[1] - a[1]);
  Charts.bars($("chart-types"), {groups: types.map((t) => t[0].replace(/_/g, " ")),
                                 series: [{name: "events", values: types.map((t) => t[1])}]});
  const list = $("trending");
  list.innerHTML = "";
  for (const item of trending.items) {
    const li = text("li", item.title || item.item_id);
    li.appendChild(text("div", item.reason, "rec-meta"));
    list.appendChild(li);
  }
}

// ------------------------------------------------------------------ models
async function loadModels() {
  const [status, versions] = await Promise.all([
    api("/v1/models"), api("/v1/models/recommend/versions").catch(() => [])]);
  const cap = status.capabilities[0];
  const serving = $("serving");
  serving.innerHTML = "";
  if (!cap.serving) {
    serving.appendChild(text("p", "No model serves yet: a first training run starts by itself " +
                                  "when the shop has events (or press Retrain now)."));
  } else {
    const s = cap.serving;
    serving.appendChild(text("h3", `Serving: ${s.model} · version ${s.version}`));
    serving.appendChild(text("div", `trained ${day(s.trained_at)} UTC on ${number(s.data.events)} ` +
      `events, ${number(s.data.users)} users, ${number(s.data.items)} items · ${s.protocol}`, "muted"));
    const metrics = text("div", "", "metrics");
    for (const name of ["ndcg@10", "hr@10", "mrr", "coverage@10"]) {
      if (s.metrics[name] == null) continue;
      const m = text("div", "");
      m.appendChild(text("b", Number(s.metrics[name]).toFixed(3)));
      m.appendChild(text("span", name, "muted"));
      metrics.appendChild(m);
    }
    const live = text("div", "");
    live.appendChild(text("b", number(cap.live.events_applied)));
    live.appendChild(text("span", "live events learned since training", "muted"));
    metrics.appendChild(live);
    serving.appendChild(metrics);
  }
  // The latest run's candidates, side by side.
  const runId = versions.length ? versions[versions.length - 1].run_id : null;
  const latest = versions.filter((v) => v.run_id === runId);
  const names = ["ndcg@10", "hr@10", "mrr"];
  Charts.bars($("chart-metrics"), {
    groups: latest.map((v) => `${v.model} v${v.version}${v.serving ? " ★" : ""}`),
    series: names.map((n) => ({name: n, values: latest.map((v) => v.metrics[n])}))});
  // Every version's ndcg@10, one line per model kind.
  const kinds = [...new Set(versions.map((v) => v.model))];
  const labels = versions.map((v) => `v${v.version}`);
  Charts.line($("chart-history"), {labels, series: kinds.map((k) => ({
    name: k, values: versions.map((v) => (v.model === k ? v.metrics["ndcg@10"] : null))}))});
  const curves = versions.filter((v) => v.curve && v.curve.length);
  $("curves-panel").hidden = !curves.length;
  if (curves.length) {
    const last = curves[curves.length - 1];
    const keys = Object.keys(last.curve[0]).filter((k) => k !== "epoch" && typeof last.curve[0][k] === "number");
    Charts.line($("chart-curves"), {labels: last.curve.map((p, i) => String(p.epoch ?? i + 1)),
      series: keys.map((k) => ({name: `${last.model} v${last.version} ${k}`, values: last.curve.map((p) => p[k])}))});
  }
  const runs = $("runs");
  runs.innerHTML = "";
  for (const run of [...cap.retrain.runs].reverse()) {
    const li = text("li", "");
    li.appendChild(text("span", run.status, `badge ${run.status}`));
    li.appendChild(text("span", `${day(run.finished_at)} · ${run.reason || ""} · `));
    li.appendChild(text("span", run.decision || run.error || "", "muted"));
    runs.appendChild(li);
  }
  $("retrain").hidden = !can("admin");
  $("retrain-status").textContent = cap.retrain.running ? `training… (${cap.retrain.reason})` : "";
  if (cap.retrain.running && state.page === "models") setTimeout(() => loadModels().catch(report), 1500);
}

async function retrain() {
  try {
    const r = await api("/v1/models/retrain", {method: "POST"});
    $("retrain-status").textContent = r.detail;
  } catch (err) {
    $("retrain-status").textContent = err.message;
  }
  setTimeout(() => loadModels().catch(report), 800);
}

// ------------------------------------------------------------------ try it
function filterQuery() {
  const q = new URLSearchParams();
  if ($("f-stock").checked) q.set("in_stock", "true");
  if ($("f-price").value) q.set("max_price", $("f-price").value);
  if ($("f-category").value) q.set("category", $("f-category").value);
  return q;
}

function renderRecs(list, result) {
  list.innerHTML = "";
  const top = Math.max(...result.items.map((i) => Math.abs(i.score)), 1e-9);
  for (const item of result.items) {
    const li = text("li", "");
    li.dataset.item = item.item_id;
    li.appendChild(text("div", item.title || item.item_id, "rec-title"));
    const price = item.price == null ? "" : ` · ¥${item.price}`;
    const stock = item.stock == null ? "" : item.stock > 0 ? ` · ${item.stock} in stock` : " · sold out";
    li.appendChild(text("div", `${item.category || ""}${price}${stock}`, "rec-meta"));
    li.appendChild(text("div", item.reason, "rec-reason"));
    const bar = text("div", "", "score");
    const fill = document.createElement("b");
    fill.style.width = `${Math.max(4, (100 * Math.abs(item.score)) / top)}%`;
    fill.title = `score ${item.score}`;
    bar.appendChild(fill);
    li.appendChild(bar);
    li.classList.add("fresh");
    li.addEventListener("click", () => clickItem(item).catch(report));
    list.appendChild(li);
  }
  if (!result.items.length) list.appendChild(text("li", "nothing matches these filters", "muted"));
  state.renders += 1;
  list.dataset.renders = String(state.renders);
}

async function loadTry() {
  if (!state.users.length) {
    const [users, categories] = await Promise.all([
      api("/v1/shop/users?limit=40"), api("/v1/shop/categories")]);
    state.users = users;
    const select = $("user");
    select.innerHTML = "";
    for (const u of users) {
      const option = text("option", `${u.user_id} (${number(u.events)} events)`);
      option.value = u.user_id;
      select.appendChild(option);
    }
    for (const c of categories) {
      const option = text("option", c);
      option.value = c;
      $("f-category").appendChild(option);
    }
  }
  await refreshTry();
}

async function refreshTry(lastItem) {
  const user = $("user").value;
  if (!user) return;
  const q = filterQuery();
  q.set("user_id", user);
  const forYou = api(`/v1/recommend/for-you?k=8&${q}`);
  let next;
  if (can("ingest") || !state.session.length) {
    next = api(`/v1/recommend/next?k=6&${q}`);
  } else {  // read-only key: the session lives in this page and is passed in the request
    q.delete("user_id");
    next = api(`/v1/recommend/next?k=6&${q}`, {method: "POST", body: {items: state.session, user_id: user}});
  }
  const recent = api(`/v1/shop/users/${encodeURIComponent(user)}/events?limit=8`);
  const [a, b, c] = await Promise.all([forYou, next, recent]);
  renderRecs($("for-you"), a);
  renderRecs($("next-up"), b);
  const list = $("recent");
  list.innerHTML = "";
  for (const e of c) list.appendChild(text("li", `${e.type} · ${e.title || e.item_id || "(search)"}`));
  const anchor = lastItem || (c.find((e) => e.item_id) || {}).item_id;
  const together = $("together");
  together.innerHTML = "";
  if (anchor) {
    const t = await api(`/v1/recommend/bought-together?k=5&item_id=${encodeURIComponent(anchor)}`);
    for (const i of t.items) together.appendChild(text("li", `${i.title} — ${i.reason}`));
    if (!t.items.length) together.appendChild(text("li", "no orders with other items yet", "muted"));
  }
}

async function clickItem(item) {
  const user = $("user").value;
  state.session.push(item.item_id);
  if (can("ingest")) {
    const r = await api("/v1/events", {method: "POST", body: {
      user_id: user, item_id: item.item_id, type: "view", ts: Date.now() / 1000,
      context: {source: "dashboard"}}});
    $("live-note").textContent = `recorded: ${user} viewed “${item.title}” — ` +
      `${r.live_events} event counts for recommendations now, no retraining`;
  } else {
    $("live-note").textContent = `session: ${state.session.length} items (read-only key: nothing is stored)`;
  }
  await refreshTry(item.item_id);
}

// ------------------------------------------------------------------ start
function start() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    useKey($("key-input").value.trim());
  });
  $("forget-key").addEventListener("click", () => {
    localStorage.removeItem(KEY_STORE);
    state.key = null;
    showLogin();
  });
  $("retrain").addEventListener("click", retrain);
  $("user").addEventListener("change", () => { state.session = []; refreshTry().catch(report); });
  for (const id of ["f-stock", "f-price", "f-category"]) {
    $(id).addEventListener("change", () => refreshTry().catch(report));
  }
  window.addEventListener("hashchange", () => {
    const key = keyFromLink();
    if (key) useKey(key); else if (state.key) route();
  });
  const key = keyFromLink() || localStorage.getItem(KEY_STORE);
  if (key) useKey(key); else showLogin();
}

// A key in the link (#key=…) is taken once and removed from the address bar; a fragment is
// never sent to the server, so it stays out of its logs.
function keyFromLink() {
  const found = location.hash.match(/^#key=([^&]+)/);
  if (!found) return null;
  history.replaceState(null, "", location.pathname + "#/overview");
  state.users = [];
  return decodeURIComponent(found[1]);
}

start();
