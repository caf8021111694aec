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
  showPage(null);
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

// Each page (its section is #page-NAME) and what fills it whenever it is shown.
const PAGES = {overview: loadOverview, models: loadModels, try: loadTry, search: loadSearch,
               reviews: loadReviews};

// Shows one page's section and hides the others (all of them for null: the login screen).
function showPage(name) {
  document.querySelectorAll(".page").forEach((p) => (p.hidden = p.id !== `page-${name}`));
}

function route() {
  if (!state.key) return showLogin();
  const page = (location.hash.match(/^#\/(\w+)/) || [null, "overview"])[1];
  state.page = Object.hasOwn(PAGES, page) ? page : "overview";
  showPage(state.page);
  document.querySelectorAll("nav a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === state.page));
  PAGES[state.page]().catch(report);
}

// Adds an option per entry to a picker (shopper, product, category), after those it has.
function addOptions(select, entries, label = (e) => e, value = (e) => e) {
  for (const entry of entries) {
    const option = text("option", label(entry));
    option.value = value(entry);
    select.appendChild(option);
  }
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
  drawTextModels(status);
  const others = await Promise.all(status.capabilities.slice(1).map((c) =>
    api(`/v1/models/${c.capability}/versions`).catch(() => [])));
  drawCurves([...versions, ...others.flat()]);
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

// The newest version that recorded a per-epoch log (SASRec: loss and validation ndcg@10).
function drawCurves(versions) {
  const curves = versions.filter((v) => v.curve && v.curve.length);
  $("curves-panel").hidden = !curves.length;
  if (!curves.length) return;
  const last = curves.reduce((a, b) => (b.trained_at >= a.trained_at ? b : a));
  const numeric = [...new Set(last.curve.flatMap((p) => Object.keys(p)))]
    .filter((k) => !["epoch", "seconds"].includes(k) && last.curve.some((p) => typeof p[k] === "number"));
  // Validation metrics share one scale; the loss (another unit) is summarised in the caption.
  const valid = numeric.filter((k) => k.startsWith("valid"));
  const keys = valid.length ? valid : numeric;
  const losses = last.curve.map((p) => p.loss).filter((v) => typeof v === "number");
  const loss = valid.length && losses.length
    ? `; training loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}` : "";
  $("curves-what").textContent = `(${last.capability}: ${last.model} v${last.version}, per epoch${loss})`;
  Charts.line($("chart-curves"), {labels: last.curve.map((p, i) => String(p.epoch ?? i + 1)),
    series: keys.map((k) => ({name: k, values: last.curve.map((p) => (typeof p[k] === "number" ? p[k] : null))}))});
}

const TEXT_METRICS = {search: [["ndcg@10", "search ndcg@10"], ["ndcg@10_keyword", "BM25 only"]],
                      reviews: [["accuracy", "reviews accuracy"], ["macro_f1", "reviews macro-F1"],
                                ["aspect_model_accuracy", "aspects: model"],
                                ["aspect_lexicon_accuracy", "aspects: lexicon"]]};

function drawTextModels(status) {
  const caps = status.capabilities.filter((c) => TEXT_METRICS[c.capability] && c.serving);
  $("text-models-panel").hidden = !caps.length;
  if (!caps.length) return;
  const box = $("text-serving");
  box.innerHTML = "";
  const groups = [];
  const values = [];
  for (const c of caps) {
    const s = c.serving;
    box.appendChild(text("div", `${c.capability}: ${s.model} v${s.version}, trained ${day(s.trained_at)} UTC · ${s.protocol}`));
    for (const [key, label] of TEXT_METRICS[c.capability]) {
      if (s.metrics[key] == null) continue;
      groups.push(label);
      values.push(s.metrics[key]);
    }
  }
  Charts.bars($("chart-text-metrics"), {groups, series: [{name: "held out", values}], height: 200});
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

// The largest absolute score in a list: each item's bar is drawn relative to it.
function topScore(items) {
  return Math.max(...items.map((i) => Math.abs(i.score)), 1e-9);
}

// One listed item: title; category (brand), price and stock; its reason; a bar for its score.
function itemRow(item, top, {brand = false, reason = false} = {}) {
  const li = text("li", "");
  li.dataset.item = item.item_id;
  li.appendChild(text("div", item.title || item.item_id, "rec-title"));
  const byBrand = brand && item.brand ? " · " + item.brand : "";
  const price = item.price == null ? "" : ` · ¥${item.price}`;
  const stock = item.stock == null ? "" : item.stock > 0 ? ` · ${item.stock} in stock` : " · sold out";
  li.appendChild(text("div", `${item.category || ""}${byBrand}${price}${stock}`, "rec-meta"));
  if (reason) li.appendChild(text("div", item.reason, "rec-reason"));
  const bar = text("div", "", "score");
  const fill = document.createElement("b");
  fill.style.width = `${Math.max(4, (100 * Math.abs(item.score)) / top)}%`;
  fill.title = `score ${item.score}`;
  bar.appendChild(fill);
  li.appendChild(bar);
  return li;
}

function renderRecs(list, result) {
  list.innerHTML = "";
  const top = topScore(result.items);
  for (const item of result.items) {
    const li = itemRow(item, top, {reason: true});
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
    $("user").innerHTML = "";
    addOptions($("user"), users, (u) => `${u.user_id} (${number(u.events)} events)`, (u) => u.user_id);
    addOptions($("f-category"), categories);
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

// ------------------------------------------------------------------ search
const search = {filters: {}, timer: null, active: -1, users: false};

function searchQuery(q) {
  const params = new URLSearchParams({q, k: "12"});
  if ($("s-stock").checked) params.set("in_stock", "true");
  if ($("s-price").value) params.set("max_price", $("s-price").value);
  if ($("s-user").value) params.set("user_id", $("s-user").value);
  for (const [name, value] of Object.entries(search.filters)) params.set(name, value);
  return params;
}

async function loadSearch() {
  if (!search.users) {
    search.users = true;
    const users = await api("/v1/shop/users?limit=40");
    addOptions($("s-user"), users, (u) => u.user_id, (u) => u.user_id);
  }
  const q = $("search-q").value;
  if (q) await runSearch(q);
}

async function runSearch(q) {
  hideSuggest();
  const r = await api(`/v1/search?${searchQuery(q)}`);
  if ($("search-q").value !== q) return;  // a newer query is on its way
  const head = $("search-head");
  head.textContent = `${number(r.total)} results for “${r.query}”`;
  if (r.corrected) head.appendChild(text("small", ` — showing results for “${r.corrected}”`));
  if (r.personalised) head.appendChild(text("small", ` · ranked for ${r.user_id}`));
  const chips = $("search-filters");
  chips.innerHTML = "";
  for (const [name, value] of Object.entries(search.filters)) {
    const chip = text("span", `${name}: ${value} ✕`, "chip");
    chip.addEventListener("click", () => { delete search.filters[name]; runSearch(q).catch(report); });
    chips.appendChild(chip);
  }
  const list = $("search-results");
  list.innerHTML = "";
  const top = topScore(r.items);
  for (const item of r.items) list.appendChild(itemRow(item, top, {brand: true}));
  if (!r.items.length) list.appendChild(text("li", "nothing found — try fewer filters", "muted"));
  const intent = $("search-intent");
  intent.innerHTML = "";
  facetBars(intent, null, Object.fromEntries(r.intent.map((c) => [c.category, c.probability])),
            (c) => { search.filters.category = c; runSearch(q).catch(report); }, true);
  const facets = $("search-facets");
  facets.innerHTML = "";
  for (const [name, param] of [["category", "category"], ["brand", "brand"], ["price", null]]) {
    const counts = r.facets[name];
    if (!counts || !Object.keys(counts).length) continue;
    facetBars(facets, name, counts, param && ((value) => {
      search.filters[param] = value;
      runSearch(q).catch(report);
    }));
  }
  list.dataset.query = q;
}

// A facet as horizontal bars (label, bar, count); clicking one filters by it.
function facetBars(parent, title, counts, onPick, share = false) {
  const box = text("div", "", "facet");
  box.dataset.facet = title || "intent";
  if (title) box.appendChild(text("h4", title));
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 8);
  const max = Math.max(...entries.map((e) => e[1]), 1e-9);
  for (const [label, n] of entries) {
    const row = text("div", "", "fbar");
    row.title = label;
    row.appendChild(text("span", label));
    const bar = document.createElement("i");
    bar.style.width = `${Math.max(2, (100 * n) / max)}%`;
    const cell = document.createElement("span");
    cell.appendChild(bar);
    row.appendChild(cell);
    row.appendChild(text("b", share ? `${Math.round(100 * n)}%` : number(n)));
    if (title && search.filters[title] === label) row.classList.add("selected");
    if (onPick) row.addEventListener("click", () => onPick(label));
    box.appendChild(row);
  }
  parent.appendChild(box);
}

function hideSuggest() {
  $("suggest").hidden = true;
  search.active = -1;
}

async function suggest() {
  const q = $("search-q").value;
  if (!q.trim()) return hideSuggest();
  const r = await api(`/v1/search/suggest?k=8&q=${encodeURIComponent(q)}`);
  if ($("search-q").value !== q) return;
  const box = $("suggest");
  box.innerHTML = "";
  for (const s of r.suggestions) {
    const li = text("li", s);
    li.addEventListener("mousedown", (e) => {
      e.preventDefault();
      $("search-q").value = s;
      runSearch(s).catch(report);
    });
    box.appendChild(li);
  }
  box.hidden = !r.suggestions.length;
  search.active = -1;
}

function suggestKeys(e) {
  const items = [...$("suggest").querySelectorAll("li")];
  if ($("suggest").hidden || !items.length) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const n = items.length;
    search.active = e.key === "ArrowDown" ? (search.active + 1) % n
      : (search.active <= 0 ? n - 1 : search.active - 1);
    items.forEach((li, i) => li.classList.toggle("active", i === search.active));
    $("search-q").value = items[search.active].textContent;
  } else if (e.key === "Escape") {
    hideSuggest();
  }
}

// ------------------------------------------------------------------ review insight
const reviews = {loaded: false};
const POLARITY_COLORS = ["#1f9d55", "#9aa5b1", "#d64545"];

async function loadReviews() {
  if (!reviews.loaded) {
    reviews.loaded = true;
    const [items, categories] = await Promise.all([
      api("/v1/reviews/items?limit=30"), api("/v1/shop/categories")]);
    addOptions($("r-item"), items, (i) => `${i.title || i.item_id} (${i.reviews} reviews)`, (i) => i.item_id);
    addOptions($("r-category"), categories);
    if (items.length) $("r-item").value = items[0].item_id;
  }
  await showInsight();
}

async function showInsight() {
  const params = new URLSearchParams({period: $("r-period").value});
  if ($("r-item").value) params.set("item_id", $("r-item").value);
  else if ($("r-category").value) params.set("category", $("r-category").value);
  else return;
  let r;
  try {
    r = await api(`/v1/reviews/insight?${params}`);
  } catch (err) {
    $("r-summary").textContent = err.message;
    return;
  }
  const scope = r.scope.item_id ? `product ${r.scope.item_id}` : `category ${r.scope.category}`;
  $("r-scope").textContent = `${scope}: ${number(r.n_reviews)} reviews` +
    (r.rating ? ` · mean rating ${Number(r.rating.mean).toFixed(1)}` : "");
  const summary = $("r-summary");
  summary.innerHTML = "";
  summary.appendChild(text("h3", "What customers say"));
  summary.appendChild(text("p", r.summary));
  if (r.needs.length) {
    summary.appendChild(text("div", "Needs: " + r.needs.map((n) => n.need).join(" · "), "muted"));
  }
  const aspects = r.aspects.slice(0, 9);
  Charts.bars($("chart-aspects"), {groups: aspects.map((a) => a.label),
    series: [["positive", "positive"], ["neutral", "neutral"], ["negative", "negative"]].map(
      ([name, key]) => ({name, values: aspects.map((a) => a[key])})),
    colors: POLARITY_COLORS});
  const labels = r.trend.map((p) => p.period.split("/")[0]);
  const top = aspects.slice(0, 3).map((a) => a.aspect);
  Charts.line($("chart-review-trend"), {labels, min: -1, max: 1, series: [
    {name: "mean sentiment", values: r.trend.map((p) => p.mean_score)},
    ...top.map((a) => ({name: `${(r.aspects.find((x) => x.aspect === a) || {}).label || a} (net)`,
                        values: r.trend.map((p) => (p.aspects[a] ? p.aspects[a].net : null))}))]});
  for (const [id, entries] of [["r-praises", r.praises], ["r-complaints", r.complaints]]) {
    const list = $(id);
    list.innerHTML = "";
    for (const e of entries) {
      const li = text("li", "");
      li.appendChild(text("b", `${e.label}`));
      li.appendChild(text("span", ` — ${Math.round(100 * e.share)}% of ${e.mentions} mentions`, "muted"));
      for (const q of e.quotes) li.appendChild(text("span", `“${q.text}”`, "q"));
      list.appendChild(li);
    }
    if (!entries.length) list.appendChild(text("li", "none", "muted"));
  }
}

async function analyzeText() {
  const value = $("analyze-text").value.trim();
  if (!value) return;
  const r = await api("/v1/reviews/analyze", {method: "POST", body: {text: value}});
  const result = r.results[0];
  const out = $("analyze-out");
  out.innerHTML = "";
  out.appendChild(text("div", `overall: ${result.polarity} (score ${result.score.toFixed(2)})`));
  const tags = text("div", "", "aspect-tags");
  for (const a of result.aspects) {
    const tag = text("span", `${a.aspect}: ${a.polarity} — “${a.evidence}”`, a.polarity);
    tag.dataset.aspect = a.aspect;
    tags.appendChild(tag);
  }
  out.appendChild(tags);
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
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    search.filters = {};
    runSearch($("search-q").value).catch(report);
  });
  $("search-q").addEventListener("input", () => {
    clearTimeout(search.timer);
    search.timer = setTimeout(() => suggest().catch(report), 120);
  });
  $("search-q").addEventListener("keydown", suggestKeys);
  $("search-q").addEventListener("blur", () => setTimeout(hideSuggest, 150));
  for (const id of ["s-stock", "s-price", "s-user"]) {
    $(id).addEventListener("change", () => { if ($("search-q").value) runSearch($("search-q").value).catch(report); });
  }
  document.querySelectorAll(".examples a").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    $("search-q").value = a.dataset.q;
    search.filters = {};
    runSearch(a.dataset.q).catch(report);
  }));
  $("r-item").addEventListener("change", () => { if ($("r-item").value) $("r-category").value = ""; showInsight().catch(report); });
  $("r-category").addEventListener("change", () => { if ($("r-category").value) $("r-item").value = ""; showInsight().catch(report); });
  $("r-period").addEventListener("change", () => showInsight().catch(report));
  $("analyze-form").addEventListener("submit", (e) => { e.preventDefault(); analyzeText().catch(report); });
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
