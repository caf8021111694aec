"""A deterministic, bilingual demo shop whose hidden structure is known, so tests can check models.

:func:`generate_demo_shop` builds a catalog (Chinese and English items in a 3-level category
tree), users with latent tastes and price sensitivity, browsing sessions, orders and reviews, and
returns them as canonical frames together with :class:`DemoTruth`, the structure it planted:

* every user browses mostly (about 80 % of sessions) in one or two top-level categories;
* buying a phone is usually followed by a case for that model and then a charger; laptops are
  followed by a mouse, coffee machines by beans, book 1 of a series by book 2
  (``next_item_rules``); viewing the first also often leads straight to the second;
* some products are bought together in one order (a tent and a sleeping bag, a phone and its
  screen protector: ``complements``);
* every item has a planted mean polarity per review aspect (quality, logistics, …); review
  texts are composed from aspect clauses drawn around it, and ratings follow the clauses;
* demand per top category has a weekly profile and a trend, and two snack groups run
  promotions with a known price elasticity.

Everything comes from one seed (numpy ``Generator``); time starts at 2026-01-01 UTC.

>>> shop = generate_demo_shop(seed=3, n_users=40, n_items=150, days=20)
>>> len(shop.items), len(shop.users)
(150, 40)
>>> sorted(shop.items["language"].unique())
['en', 'zh']
>>> bool(shop.events["type"].isin(["view", "purchase"]).all())
False
>>> sorted(shop.events["type"].unique())[:4]
['add_to_cart', 'click', 'purchase', 'rating']
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from shopmind.data import demo_catalog as cat
from shopmind.data.batch import Batch

__all__ = ["DEMO_START", "DemoShop", "DemoTruth", "DemandTruth", "Promotion",
           "generate_demo_shop"]

DEMO_START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
"""Epoch seconds of the first day of every demo shop (a Thursday)."""

DAY = 86400.0
HOUR = 3600.0
CURRENCY = "CNY"  # one shop, one currency: prices of both languages compare directly
_LANGS = ("zh", "en")

# Behaviour knobs (probabilities per step of a session); the names say what they change.
_SESSIONS_PER_DAY = 0.075  # a typical user: ~9 sessions in 120 days
_TASTE_SHARE = 0.8  # share of a user's sessions in their taste categories
_P_SEARCH, _P_SEARCH_FOLLOW_UP = 0.3, 0.45
_P_CLICK, _P_WISHLIST, _P_SHARE = 0.3, 0.03, 0.01
_P_CART, _P_CART_FOLLOW_UP, _P_CART_COMPLEMENT = 0.1, 0.5, 0.75
_P_VIEW_COMPLEMENT = 0.6  # after carting an item, look at its complement next
_P_VIEW_RULE = 0.4  # after viewing an antecedent, view its consequent next
_P_FOLLOW_UP = 0.75  # after buying an antecedent, come back for its consequent
_P_CHECKOUT, _P_REMOVE = 0.7, 0.08
_P_SAME_LEAF = 0.75
_P_REVIEW, _P_RATING_ONLY = 0.6, 0.15
_P_ANNOTATED = 0.3  # share of reviews whose aspects the shop labelled


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Promotion:
    """A planted price cut: ``item_id`` sold at ``(1 - discount) * price`` in [start, end)."""

    item_id: str
    start: float
    end: float
    discount: float


@dataclass
class DemandTruth:
    """What drives demand over time.

    The expected number of sessions of top category ``c`` on day ``d`` is proportional to
    ``weekly[c][weekday(d)] * exp(trend[c] * (d - (days - 1) / 2))``; an item with an
    ``elasticity`` e is chosen ``(1 - discount) ** e`` times as often during a promotion.
    """

    start: float
    days: int
    weekly: dict[str, tuple[float, ...]]  # top category (English) -> Monday..Sunday, mean 1
    trend: dict[str, float]  # top category (English) -> log-growth of demand per day
    elasticity: dict[str, float]  # item_id -> price elasticity of demand (negative)
    promotions: list[Promotion] = field(default_factory=list)

    def multiplier(self, category: str, day: int) -> float:
        """The planted relative demand of a top category on a day (0-based) of the shop.

        >>> t = DemandTruth(DEMO_START, 7, {"Books": (1, 1, 1, 0.5, 1, 1.5, 1)}, {"Books": 0.0}, {})
        >>> t.multiplier("Books", 0)  # 2026-01-01 is a Thursday
        0.5
        """
        weekday = int((self.start // DAY + day + 3) % 7)  # 1970-01-01 was a Thursday
        return float(self.weekly[category][weekday]
                     * math.exp(self.trend[category] * (day - (self.days - 1) / 2)))


@dataclass
class DemoTruth:
    """The structure planted in a demo shop, for tests to check what models recover."""

    user_taste: dict[str, list[str]]  # user_id -> preferred top categories (English names)
    next_item_rules: list[tuple[str, str]]  # (antecedent item_id, typical next item_id)
    complements: dict[str, list[str]]  # item_id -> items often bought in the same order
    review_aspects: dict[str, dict[str, str]]  # review_id -> {aspect: polarity}
    item_aspects: dict[str, dict[str, float]]  # item_id -> {aspect: mean polarity in [-1, 1]}
    demand: DemandTruth
    item_top_category: dict[str, str]  # item_id -> top category (English name)
    top_categories: dict[str, str]  # English top-category name -> Chinese name
    user_language: dict[str, str]  # user_id -> "zh" | "en"
    user_price_sensitivity: dict[str, float]  # user_id -> >= 0; higher prefers cheaper items


@dataclass
class DemoShop:
    """Canonical frames (ready for :meth:`Batch.from_frames`) and the planted truth."""

    items: pd.DataFrame
    users: pd.DataFrame
    events: pd.DataFrame
    reviews: pd.DataFrame
    orders: pd.DataFrame  # one row per order line
    truth: DemoTruth

    def batch(self) -> Batch:
        """The whole shop as one validated batch for :meth:`Store.ingest`."""
        names = ("items", "users", "events", "reviews", "orders")
        return Batch.from_frames(sources={n: f"demo/{n}" for n in names},
                                 **{n: getattr(self, n) for n in names})


# --------------------------------------------------------------------------- catalog


@dataclass
class _Catalog:
    """Items as parallel columns plus the planted links between them (by position)."""

    rows: list[dict]
    leaf: np.ndarray
    top: np.ndarray
    lang: np.ndarray  # 0 zh, 1 en
    price: np.ndarray
    zprice: np.ndarray  # log price standardised within its leaf
    pop: np.ndarray
    rules: dict[int, int]
    complements: dict[int, list[int]]
    leaf_items: list[np.ndarray]
    ids: np.ndarray


_LEAF_INDEX = {leaf.key: i for i, leaf in enumerate(cat.LEAVES)}
_TOP_INDEX = {key: i for i, (key, _, _) in enumerate(cat.TOP_CATEGORIES)}
_TOP_EN = [en for _, _, en in cat.TOP_CATEGORIES]


def _planted_specs() -> tuple[list[dict], list[tuple[str, str]], list[tuple[str, str]]]:
    """The fixed products and their links: (specs, next-item rules, basket pairs) by key."""
    specs: list[dict] = []
    rules: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []

    def add(key, leaf, brand, title, price, lang=None, **attrs):
        specs.append({"key": key, "leaf": leaf, "brand": brand, "title": title,
                      "price": float(price), "lang": lang, "attrs": attrs})

    for key, brand, title, price, power in cat.CHARGERS:
        add(f"charger:{key}", "chargers", brand, title, price, power=(power, power),
            connector=("USB-C", "USB-C"))
    for n, (key, brand, name, short, price, charger) in enumerate(cat.PHONES):
        add(f"phone:{key}", "smartphones", brand, name, price)
        style, material, case_price = cat.CASE_STYLES[n % len(cat.CASE_STYLES)]
        add(f"case:{key}", "cases", brand,
            (f"{short[0]} {style[0]}手机壳", f"{short[1]} Case, {style[1]}"), case_price,
            compatible_model=short, material=material)
        add(f"protector:{key}", "screen_protectors", brand,
            (f"{short[0]} 钢化膜 高清防指纹 2片装",
             f"{short[1]} Tempered Glass Screen Protector, 2-Pack"), 29 + 10 * (n % 3),
            compatible_model=short)
        rules += [(f"phone:{key}", f"case:{key}"), (f"case:{key}", f"charger:{charger}")]
        pairs.append((f"phone:{key}", f"protector:{key}"))
    for key, brand, title, price in cat.MICE:
        add(f"mouse:{key}", "mice", brand, title, price)
    for size, brand, title, price in cat.SLEEVES:
        add(f"sleeve:{size}", "laptop_bags", brand, title, price)
    for key, brand, name, price, mouse, sleeve in cat.LAPTOPS:
        add(f"laptop:{key}", "laptops", brand, name, price)
        rules.append((f"laptop:{key}", f"mouse:{mouse}"))
        pairs.append((f"laptop:{key}", f"sleeve:{sleeve}"))
    for key, brand, title, price in cat.COFFEE_BEANS:
        add(f"beans:{key}", "coffee_beans", brand, title, price)
    for key, brand, title, price, beans in cat.COFFEE_MACHINES:
        add(f"coffee:{key}", "coffee_machines", brand, title, price)
        rules.append((f"coffee:{key}", f"beans:{beans}"))
    for s, (lang, publisher, author, volumes, price) in enumerate(cat.BOOK_SERIES):
        for v, title in enumerate(volumes):
            add(f"book:{s}:{v}", "fiction", publisher, (title, title), price, lang=lang,
                author=(author, author))
            if v:
                rules.append((f"book:{s}:{v - 1}", f"book:{s}:{v}"))
    seen = set()
    for pair in cat.BASKET_PAIRS:
        for key, leaf, brand, title, price in pair:
            if key not in seen:
                seen.add(key)
                add(key, leaf, brand, title, price)
        pairs.append((pair[0][0], pair[1][0]))
    return specs, rules, pairs


def _nice_price(p: float) -> float:
    """Shop-style prices: 39.9, 299, 1299."""
    if p < 100:
        return max(round(p) - 0.1, 4.9)
    return float(round(p / 10) * 10 - 1)


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _attribute_values(rng, leaf: cat.Leaf, phones: list[tuple]) -> dict[str, tuple[str, str]]:
    values: dict[str, tuple[str, str]] = {}
    for key, pool in leaf.attributes:
        values[key] = _pick(rng, cat.ATTRIBUTE_POOLS[pool])
    if leaf.key == "cases" and phones:
        values["compatible_model"] = _pick(rng, phones)[3]
    return values


def _describe(lang: int, leaf: cat.Leaf, brand: str, title: str, features: list[tuple],
              attrs: dict[str, tuple[str, str]]) -> str:
    """Two or three sentences from the item's attributes, in its language."""
    noun = leaf.noun[lang]
    feats = [f[lang] for f in features]
    phrases = [cat.ATTRIBUTE_PHRASES[k][lang].format(v=v[lang]) for k, v in attrs.items()
               if k in cat.ATTRIBUTE_PHRASES]
    if lang == 0:
        first = f"{brand}{noun}，{'、'.join(feats)}。" if feats else f"{title}，{brand}出品。"
        middle = f"{'，'.join(phrases)}。" if phrases else ""
        return first + middle + f"{leaf.use[0]}。"
    first = (f"Meet the {brand} {noun}: {', '.join(feats)}." if feats
             else f"{title}, from {brand}.")
    middle = f" {', '.join(phrases)}." if phrases else ""
    if middle:
        middle = " " + middle[1].upper() + middle[2:]
    return first + middle + f" {leaf.use[1]}."


def _build_catalog(seed: int, n_items: int | None) -> _Catalog:
    rng = np.random.default_rng([seed, 1])
    specs, rule_keys, pair_keys = _planted_specs()
    n_items = 500 if n_items is None else int(n_items)
    minimum = len(specs) + 20
    if n_items < minimum:
        raise ValueError(f"n_items must be at least {minimum} (the planted products need "
                         f"{len(specs)}), got {n_items}")
    # Fill the rest of the catalog leaf by leaf, in proportion to each leaf's share.
    shares = np.array([leaf.share for leaf in cat.LEAVES])
    want = (n_items - len(specs)) * shares / shares.sum()
    per_leaf = np.floor(want).astype(int)
    short = n_items - len(specs) - per_leaf.sum()
    per_leaf[np.argsort(-(want - per_leaf), kind="stable")[:short]] += 1

    drafts: list[dict] = []
    for spec in specs:
        leaf = cat.LEAVES[_LEAF_INDEX[spec["leaf"]]]
        attrs = _attribute_values(rng, leaf, [])
        attrs.update(spec["attrs"])
        lang = _LANGS.index(spec["lang"]) if spec["lang"] else int(rng.random() < 0.5)
        n_feat = min(2, len(leaf.features))
        feats = [leaf.features[i] for i in rng.choice(len(leaf.features), n_feat, replace=False)] \
            if n_feat else []
        drafts.append({"key": spec["key"], "leaf": leaf, "lang": lang, "brand": spec["brand"],
                       "title": spec["title"][lang], "price": spec["price"], "attrs": attrs,
                       "features": feats, "search_feature": feats[0] if feats else None})
    used_titles: set[str] = set()
    for li, leaf in enumerate(cat.LEAVES):
        for _ in range(per_leaf[li]):
            drafts.append(_filler_draft(rng, leaf, used_titles))

    n = len(drafts)
    order = rng.permutation(n)  # planted products get ids scattered across the catalog
    ids = np.array([f"sku-{k + 1:05d}" for k in range(n)], dtype=object)
    rows: list[dict] = [{}] * n
    leaf_of = np.zeros(n, dtype=np.int64)
    lang_of = np.zeros(n, dtype=np.int64)
    price = np.zeros(n)
    key_to_pos: dict[str, int] = {}
    stock_draw = np.maximum(rng.lognormal(math.log(80), 0.9, n).round(), 1).astype(int)
    stock_draw[rng.random(n) < 0.06] = 0  # sold out
    for slot, draft in zip(order, drafts, strict=True):
        leaf = draft["leaf"]
        lang = draft["lang"]
        brand = draft["brand"][lang]
        top_key = leaf.top
        top_zh, top_en = cat.TOP_CATEGORIES[_TOP_INDEX[top_key]][1:]
        path = (top_zh,) + leaf.zh if lang == 0 else (top_en,) + leaf.en
        attrs = {k: v[lang] for k, v in draft["attrs"].items()}
        rows[slot] = {
            "item_id": ids[slot],
            "title": draft["title"],
            "description": _describe(lang, leaf, brand, draft["title"], draft["features"],
                                     draft["attrs"]),
            "category": " > ".join(path),
            "brand": brand,
            "price": draft["price"],
            "currency": CURRENCY,
            "stock": int(stock_draw[slot]),
            "attributes": attrs,
            "language": _LANGS[lang],
            "_brand_pair": draft["brand"],
            "_feature": draft["search_feature"],
            "_compat": draft["attrs"].get("compatible_model"),
        }
        leaf_of[slot] = _LEAF_INDEX[leaf.key]
        lang_of[slot] = lang
        price[slot] = draft["price"]
        if draft.get("key"):
            key_to_pos[draft["key"]] = int(slot)

    top_of = np.array([_TOP_INDEX[cat.LEAVES[i].top] for i in leaf_of], dtype=np.int64)
    logp = np.log(price)
    zprice = np.zeros(n)
    leaf_items = []
    for li in range(len(cat.LEAVES)):
        members = np.flatnonzero(leaf_of == li)
        leaf_items.append(members)
        if len(members) > 1:
            spread = logp[members].std() or 1.0
            zprice[members] = (logp[members] - logp[members].mean()) / spread
    pop = rng.lognormal(0.0, 0.8, n)
    rules = {key_to_pos[a]: key_to_pos[b] for a, b in rule_keys}
    complements: dict[int, list[int]] = {}
    for a, b in pair_keys:
        complements.setdefault(key_to_pos[a], []).append(key_to_pos[b])
        complements.setdefault(key_to_pos[b], []).append(key_to_pos[a])
    return _Catalog(rows=rows, leaf=leaf_of, top=top_of, lang=lang_of, price=price,
                    zprice=zprice, pop=pop, rules=rules, complements=complements,
                    leaf_items=leaf_items, ids=ids)


def _filler_draft(rng, leaf: cat.Leaf, used_titles: set[str]) -> dict:
    """One generated product of a leaf, with a title not used before."""
    lang = int(rng.random() < 0.5)
    for _attempt in range(20):
        brand = _pick(rng, leaf.brands)
        attrs = _attribute_values(rng, leaf, list(cat.PHONES))
        feats = []
        if leaf.features:
            k = min(2, len(leaf.features))
            feats = [leaf.features[i] for i in rng.choice(len(leaf.features), k, replace=False)]
        if leaf.titles:
            template, pools = leaf.titles[lang]
            title = template.format(*[_pick(rng, pool) for pool in pools])
            authors = cat.AUTHORS[lang]
            attrs["author"] = (_pick(rng, authors),) * 2
        else:
            series = _pick(rng, cat.SERIES)[lang] if rng.random() < 0.5 else ""
            first_attr = next((v[lang] for k, v in attrs.items()
                               if k in ("colour", "shade", "power", "screen", "weight",
                                        "volume", "capacity", "battery")), "")
            compat = attrs.get("compatible_model", ("", ""))[lang]
            if lang == 0:
                title = " ".join(p for p in (brand[0], compat, f"{feats[0][0]}{leaf.noun[0]}",
                                             series, first_attr) if p)
            else:
                head = " ".join(p for p in (brand[1], compat, series, feats[0][1], leaf.noun[1])
                                if p)
                title = f"{head}, {first_attr}" if first_attr else head
        if title not in used_titles:
            break
    used_titles.add(title)
    median, sigma = leaf.price
    price = _nice_price(float(rng.lognormal(math.log(median), sigma)))
    return {"key": None, "leaf": leaf, "lang": lang, "brand": brand, "title": title,
            "price": price, "attrs": attrs, "features": feats,
            "search_feature": feats[0] if feats else None}


# --------------------------------------------------------------------------- aspects


def _leaf_aspects(leaf: cat.Leaf) -> tuple[str, ...]:
    return leaf.aspects if leaf.aspects is not None else cat.ASPECTS_BY_TOP[leaf.top]


def _plant_aspects(seed: int, catalog: _Catalog) -> list[dict[str, float]]:
    """Per item, the mean polarity of each aspect reviewers talk about."""
    rng = np.random.default_rng([seed, 2])
    out = []
    for i in range(len(catalog.rows)):
        aspects = _leaf_aspects(cat.LEAVES[catalog.leaf[i]])
        base = rng.normal(0.0, 0.3)
        means = {a: float(np.clip(0.35 + base + rng.normal(0.0, 0.35), -0.95, 0.95))
                 for a in aspects}
        r = rng.random()
        if r < 0.2:  # good product with one weak spot, e.g. great quality, slow delivery
            means["quality"] = float(rng.uniform(0.55, 0.9))
            weak = _pick(rng, [a for a in aspects if a != "quality"])
            means[weak] = float(rng.uniform(-0.9, -0.45))
        elif r < 0.3:  # poorly made
            means["quality"] = float(rng.uniform(-0.9, -0.45))
        out.append({a: round(v, 2) for a, v in means.items()})
    return out


# --------------------------------------------------------------------------- users


@dataclass
class _Users:
    rows: list[dict]
    ids: np.ndarray
    lang: np.ndarray
    price_sensitivity: np.ndarray
    activity: np.ndarray
    top_weights: np.ndarray  # users x top categories, rows sum to 1
    tastes: list[list[int]]


_TOP_BASE = {"electronics": 1.2, "accessories": 0.5, "computers": 0.8, "beauty": 1.0,
             "clothing": 1.2, "home": 1.0, "food": 1.0, "books": 0.8, "sports": 0.9}


def _build_users(seed: int, n_users: int) -> _Users:
    rng = np.random.default_rng([seed, 3])
    n_top = len(cat.TOP_CATEGORIES)
    base = np.array([_TOP_BASE[k] for k, _, _ in cat.TOP_CATEGORIES])
    ages, age_p = zip(*cat.AGE_BANDS, strict=True)
    channels, channel_p = zip(*cat.SIGNUP_CHANNELS, strict=True)
    lang = (rng.random(n_users) < 0.4).astype(np.int64)
    gender_draw = rng.choice(3, n_users, p=[0.45, 0.4, 0.15])
    age = rng.choice(len(ages), n_users, p=np.array(age_p) / sum(age_p))
    channel = rng.choice(len(channels), n_users, p=np.array(channel_p) / sum(channel_p))
    ps = np.clip(rng.normal(0.6, 0.35, n_users), 0.0, 1.5).round(3)
    activity = rng.lognormal(-0.32, 0.8, n_users)  # mean ~1
    n_taste = 1 + (rng.random(n_users) < 0.55)
    weights = np.zeros((n_users, n_top))
    tastes: list[list[int]] = []
    rows = []
    ids = np.array([f"u-{k + 1:05d}" for k in range(n_users)], dtype=object)
    for u in range(n_users):
        gender = ("female", "male", None)[gender_draw[u]]
        p = base.copy()
        for key, mult in cat.GENDER_TASTE.get(gender, {}).items():
            p[_TOP_INDEX[key]] *= mult
        taste = [int(t) for t in rng.choice(n_top, n_taste[u], replace=False, p=p / p.sum())]
        tastes.append(taste)
        shares = [_TASTE_SHARE] if len(taste) == 1 else [0.5, 0.3]
        other = np.setdiff1d(np.arange(n_top), taste)
        weights[u, other] = (1 - _TASTE_SHARE) * base[other] / base[other].sum()
        weights[u, taste] = shares
        cities = cat.CITIES_EN if lang[u] else cat.CITIES_ZH
        attrs = {"city": _pick(rng, cities), "age_band": ages[age[u]],
                 "signup_channel": channels[channel[u]], "language": _LANGS[lang[u]]}
        if gender:
            attrs["gender"] = gender
        rows.append({"user_id": ids[u], "attributes": attrs})
    return _Users(rows=rows, ids=ids, lang=lang, price_sensitivity=ps, activity=activity,
                  top_weights=weights, tastes=tastes)


# --------------------------------------------------------------------------- behaviour


def _demand_truth(seed: int, catalog: _Catalog, days: int) -> DemandTruth:
    rng = np.random.default_rng([seed, 4])
    weekly = {}
    for key, _, en in cat.TOP_CATEGORIES:
        profile = np.array(cat.WEEKLY_PROFILE[key])
        weekly[en] = tuple(float(round(v, 4)) for v in profile / profile.mean())
    trend = {en: cat.DAILY_TREND[key] for key, _, en in cat.TOP_CATEGORIES}
    elasticity, promotions = {}, []
    for leaf_key, e in cat.ELASTIC_LEAVES.items():
        for i in catalog.leaf_items[_LEAF_INDEX[leaf_key]]:
            item_id = catalog.ids[i]
            elasticity[item_id] = e
            if days < 7:
                continue
            first = int(rng.integers(0, days - 6))
            free = [d for d in range(days - 6) if abs(d - first) >= 7]
            starts = [first] + ([_pick(rng, free)] if free else [])
            for s in sorted(starts):
                promotions.append(Promotion(item_id, DEMO_START + s * DAY,
                                            DEMO_START + (s + 7) * DAY,
                                            float(_pick(rng, cat.PROMO_DISCOUNTS))))
    return DemandTruth(start=DEMO_START, days=days, weekly=weekly, trend=trend,
                       elasticity=elasticity, promotions=promotions)


class _Simulator:
    """Sessions of views, clicks, carts and purchases, one user at a time, in time order."""

    def __init__(self, seed: int, catalog: _Catalog, users: _Users, demand: DemandTruth,
                 days: int, scale: float):
        self.rng = np.random.default_rng([seed, 5])
        self.catalog, self.users, self.days, self.scale = catalog, users, days, scale
        self.end = DEMO_START + days * DAY
        self.ev: dict[str, list] = {k: [] for k in ("user", "item", "type", "value", "ts",
                                                    "session", "context")}
        self.orders: list[tuple[int, float, list[tuple[int, int, float]]]] = []
        self.n_sessions = 0
        self.item_rows = catalog.rows
        # promotions, as per-item windows with their demand multiplier
        pos = {item_id: i for i, item_id in enumerate(catalog.ids)}
        self.promos: dict[int, list[tuple[float, float, float, float]]] = {}
        for p in demand.promotions:
            i = pos[p.item_id]
            lift = (1 - p.discount) ** demand.elasticity[p.item_id]
            self.promos.setdefault(i, []).append((p.start, p.end, lift, p.discount))
        self.promo_leaves = {int(catalog.leaf[i]) for i in self.promos}
        # leaf choice within a top category: bigger leaves get more sessions (square root)
        self.leaf_choice = []
        for t in range(len(cat.TOP_CATEGORIES)):
            leaves = np.array([li for li, leaf in enumerate(cat.LEAVES)
                               if _TOP_INDEX[leaf.top] == t and len(catalog.leaf_items[li])])
            sizes = np.array([len(catalog.leaf_items[li]) for li in leaves], dtype=float)
            self.leaf_choice.append((leaves, np.cumsum(np.sqrt(sizes))))
        self.demand = demand

    # -- random helpers
    def _weighted(self, cum: np.ndarray) -> int:
        return int(np.searchsorted(cum, self.rng.random() * cum[-1], side="right"))

    def _leaf_of_top(self, top: int) -> int:
        leaves, cum = self.leaf_choice[top]
        return int(leaves[min(self._weighted(cum), len(leaves) - 1)])

    def _discount(self, item: int, t: float) -> tuple[float, float]:
        for start, end, lift, discount in self.promos.get(item, ()):
            if start <= t < end:
                return lift, discount
        return 1.0, 0.0

    def _choose_item(self, u: int, leaf: int, t: float, avoid: int = -1) -> int:
        c = self.catalog
        members = c.leaf_items[leaf]
        w = c.pop[members] * np.where(c.lang[members] == self.users.lang[u], 3.0, 1.0)
        w = w * np.exp(-self.users.price_sensitivity[u] * c.zprice[members])
        if leaf in self.promo_leaves:
            w = w * np.array([self._discount(int(i), t)[0] for i in members])
        if avoid >= 0 and len(members) > 1:
            w = np.where(members == avoid, 0.0, w)
        cum = np.cumsum(w)
        return int(members[min(self._weighted(cum), len(members) - 1)])

    def _emit(self, u, item, kind, t, session, value=np.nan, context=None) -> None:
        ev = self.ev
        ev["user"].append(u)
        ev["item"].append(item)
        ev["type"].append(kind)
        ev["value"].append(value)
        ev["ts"].append(t)
        ev["session"].append(session)
        ev["context"].append(context)

    def _query(self, item: int, u: int) -> str:
        """What a user types to find an item: in their language, mostly."""
        rng, row = self.rng, self.item_rows[item]
        lang = int(self.users.lang[u]) if rng.random() < 0.85 else 1 - int(self.users.lang[u])
        leaf = cat.LEAVES[self.catalog.leaf[item]]
        noun = leaf.noun[lang]
        r = rng.random()
        if row["_compat"] is not None and r < 0.6:
            parts = (row["_compat"][lang], noun)
        elif leaf.top == "books" and r < 0.5:
            parts = (row["title"].strip("《》"),)
        elif r < 0.4:
            parts = (row["_brand_pair"][lang], noun)
        elif r < 0.7 and row["_feature"] is not None:
            parts = (row["_feature"][lang], noun)
        else:
            parts = (noun,)
        text = " ".join(parts)
        return text.lower() if lang == 1 else text

    # -- one session
    def session(self, u: int, leaf: int, t: float, first: int) -> tuple[float, list]:
        """Emit one session's events from time ``t``; returns (end time, follow-ups)."""
        rng, c = self.rng, self.catalog
        self.n_sessions += 1
        sid = self.n_sessions
        follow_up = first >= 0
        cur = first if follow_up else self._choose_item(u, leaf, t)
        query = None
        if rng.random() < (_P_SEARCH_FOLLOW_UP if follow_up else _P_SEARCH):
            query = self._query(cur, u)
            self._emit(u, -1, "search", t, sid, context={"query": query})
            t += 3 + rng.exponential(10)
        n_browse = 1 + int(rng.poisson(2.3))
        cart: list[int] = []
        force_cart = _P_CART_FOLLOW_UP if follow_up else -1.0
        step = 0
        while step < n_browse:
            context = {"source": "search", "query": query} if step == 0 and query else None
            self._emit(u, cur, "view", t, sid, context=context)
            if rng.random() < _P_CLICK:
                t += 2 + rng.exponential(8)
                self._emit(u, cur, "click", t, sid)
            if rng.random() < _P_WISHLIST:
                t += 1 + rng.exponential(5)
                self._emit(u, cur, "wishlist", t, sid)
            if rng.random() < _P_SHARE:
                t += 1 + rng.exponential(5)
                self._emit(u, cur, "share", t, sid)
            p_cart = force_cart if force_cart >= 0 else _P_CART * math.exp(
                -0.5 * self.users.price_sensitivity[u] * c.zprice[cur])
            force_cart = -1.0
            nxt = -1
            if cur not in cart and rng.random() < p_cart:
                t += 3 + rng.exponential(20)
                cart.append(cur)
                self._emit(u, cur, "add_to_cart", t, sid, value=float(self._quantity(cur)))
                partners = [p for p in c.complements.get(cur, ()) if p not in cart]
                if partners and rng.random() < _P_VIEW_COMPLEMENT:
                    nxt = _pick(rng, partners)
                    force_cart = _P_CART_COMPLEMENT
                    n_browse = max(n_browse, step + 2)
            if nxt < 0 and cur in c.rules and rng.random() < _P_VIEW_RULE:
                nxt = c.rules[cur]
            step += 1
            if step >= n_browse:
                break
            if nxt < 0:
                same = rng.random() < _P_SAME_LEAF
                nleaf = int(c.leaf[cur]) if same else self._leaf_of_top(int(c.top[cur]))
                nxt = self._choose_item(u, nleaf, t, avoid=cur)
            t += 8 + rng.exponential(45)
            cur = nxt
        follow_ups = []
        if cart and rng.random() < _P_CHECKOUT:
            t += 20 + rng.exponential(90)
            keep = []
            for item in cart:
                if len(cart) > 1 and rng.random() < _P_REMOVE:
                    self._emit(u, item, "remove_from_cart", t, sid)
                    t += 2 + rng.exponential(5)
                else:
                    keep.append(item)
            lines, placed_at = [], t
            for item in keep:
                qty = self._quantity(item)
                discount = self._discount(item, t)[1]
                unit = round(float(c.price[item]) * (1 - discount), 2)
                self._emit(u, item, "purchase", t, sid, value=float(qty))
                lines.append((item, qty, unit))
                t += 1.0
                if item in c.rules and rng.random() < _P_FOLLOW_UP:
                    delay = 600 + rng.exponential(8 * HOUR)
                    follow_ups.append((t + delay, c.rules[item]))
            if lines:
                self.orders.append((u, placed_at, lines))
        elif cart and rng.random() < 0.2:
            t += 5 + rng.exponential(30)
            self._emit(u, cart[-1], "remove_from_cart", t, sid)
        return t, follow_ups

    def _quantity(self, item: int) -> int:
        if cat.LEAVES[self.catalog.leaf[item]].top == "food":
            return 1 + int(self.rng.geometric(0.6)) - 1
        return 2 if self.rng.random() < 0.05 else 1

    # -- the whole period
    def run(self) -> None:
        rng, users = self.rng, self.users
        n_users, n_top = users.top_weights.shape
        days = np.arange(self.days)
        mult = np.array([[self.demand.multiplier(_TOP_EN[k], d) for d in days]
                         for k in range(n_top)])
        rate = _SESSIONS_PER_DAY * self.scale * users.activity
        counts = rng.poisson(rate[:, None] * users.top_weights * mult.sum(axis=1)[None, :])
        user_of = np.repeat(np.repeat(np.arange(n_users), n_top), counts.ravel())
        top_of = np.repeat(np.tile(np.arange(n_top), n_users), counts.ravel())
        day = np.zeros(len(user_of), dtype=np.int64)
        for k in range(n_top):
            sel = np.flatnonzero(top_of == k)
            day[sel] = rng.choice(self.days, size=len(sel), p=mult[k] / mult[k].sum())
        hourly = np.array(cat.HOURLY_ACTIVITY)
        hour = rng.choice(24, size=len(user_of), p=hourly / hourly.sum())
        start = DEMO_START + day * DAY + hour * HOUR + rng.random(len(user_of)) * HOUR
        leaf = np.array([self._leaf_of_top(int(k)) for k in top_of], dtype=np.int64)
        order = np.lexsort((start, user_of))
        bounds = np.searchsorted(user_of[order], np.arange(n_users + 1))
        seq = 0
        for u in range(n_users):
            queue = []
            for s in order[bounds[u]:bounds[u + 1]]:
                queue.append((float(start[s]), seq, int(leaf[s]), -1))
                seq += 1
            heapq.heapify(queue)
            last_end = -math.inf
            while queue:
                t, _, lf, first = heapq.heappop(queue)
                if t < last_end + 60:
                    t = last_end + 60 + rng.exponential(600)
                if t > self.end - HOUR:
                    continue
                last_end, follow_ups = self.session(u, lf, t, first)
                for tf, item in follow_ups:
                    heapq.heappush(queue, (tf, seq, int(self.catalog.leaf[item]), item))
                    seq += 1


# --------------------------------------------------------------------------- orders & reviews


def _order_timeline(rng, created: float, logistics: float, worst: float) -> list[tuple]:
    """Milestones (time, status, shipping_status, payment_status) of one order."""
    steps = [(created, "pending", "not_shipped", "unpaid")]
    if rng.random() < 0.05:  # never paid: cancelled automatically after two days
        return steps + [(created + 2 * DAY, "cancelled", "not_shipped", "unpaid")]
    paid = created + 60 + rng.exponential(20 * 60)
    steps.append((paid, "paid", "not_shipped", "paid"))
    if rng.random() < 0.03:  # cancelled by the buyer before shipping
        return steps + [(paid + rng.uniform(0.05, 0.5) * DAY, "cancelled", "not_shipped",
                         "refunded")]
    shipped = paid + (0.2 + rng.exponential(0.6)) * DAY
    steps.append((shipped, "shipped", "in_transit", "paid"))
    transit = float(np.clip(2.6 - 1.6 * logistics + rng.normal(0, 0.6), 0.5, 9.0))
    delivered = shipped + transit * DAY
    steps.append((delivered, "delivered", "delivered", "paid"))
    r = rng.random()
    if r < 0.03 + 0.12 * max(0.0, -worst):  # sent back (more often when badly made or sized)
        back = delivered + rng.uniform(1, 7) * DAY
        steps.append((back, "returned", "returned", "refund_pending"))
        steps.append((back + rng.uniform(1, 3) * DAY, "returned", "returned", "refunded"))
    elif r > 0.975:  # refund without a return (a missing part, a goodwill refund)
        steps.append((delivered + rng.uniform(1, 5) * DAY, "refunded", "delivered", "refunded"))
    return steps


def _compose_review(rng, lang: int, clauses: list[tuple[str, str]], closing: str | None) -> str:
    """Join aspect clauses naturally; a change of tone gets 'but' / 「但」."""
    rank = {"positive": 0, "neutral": 1, "negative": 2}
    if rng.random() < 0.7:
        clauses = sorted(clauses, key=lambda ap: rank[ap[1]])
    parts = []
    for k, (aspect, polarity) in enumerate(clauses):
        phrase = _pick(rng, cat.ASPECT_PHRASES[aspect][polarity][lang])
        if k and rank[polarity] != rank[clauses[k - 1][1]]:
            phrase = (_pick(rng, cat.CONTRAST_WORDS_ZH) if lang == 0 else "but ") + phrase
        elif k and k == len(clauses) - 1 and lang == 1:
            phrase = "and " + phrase
        parts.append(phrase)
    if lang == 0:
        text = "，".join(parts) + ("！" if all(p == "positive" for _, p in clauses) else "。")
    else:
        text = ", ".join(parts)
        text = text[0].upper() + text[1:] + "."
    if closing:
        text += closing if lang == 0 else " " + closing
    return text


def _orders_and_reviews(seed: int, sim: _Simulator, catalog: _Catalog, users: _Users,
                        aspects: list[dict[str, float]], end: float):
    rng = np.random.default_rng([seed, 6])
    placed = sorted(sim.orders, key=lambda o: o[1])
    order_rows, review_rows, rating_events = [], [], []
    review_truth: dict[str, dict[str, str]] = {}
    timelines = []
    for _, created, lines in placed:
        logistics = float(np.mean([aspects[i]["logistics"] for i, _, _ in lines]))
        worst = min(min(aspects[i]["quality"], aspects[i].get("fit", 1.0)) for i, _, _ in lines)
        steps = _order_timeline(rng, created, logistics, worst)
        timelines.append(steps)
    current = [max((k for k, s in enumerate(steps) if s[0] <= end), default=0)
               for steps in timelines]
    status_of = [timelines[o][current[o]][1] for o in range(len(placed))]
    # A real snapshot always has orders in flight; where a short or small shop happens to have
    # none in a state, hold the newest order that went through it there (delay what came next).
    for wanted in ("pending", "paid", "shipped"):
        if wanted in status_of or len(placed) < 20:
            continue
        for o in range(len(placed) - 1, -1, -1):
            steps = timelines[o]
            k = next((k for k, s in enumerate(steps) if s[1] == wanted), None)
            if k is None or k >= current[o] or status_of.count(status_of[o]) < 2:
                continue
            shift = end - steps[k + 1][0] + rng.uniform(0.05, 0.5) * DAY
            timelines[o] = [(s[0] + shift, *s[1:]) if j > k else s for j, s in enumerate(steps)]
            current[o], status_of[o] = k, wanted
            break
    for o, (u, created, lines) in enumerate(placed):
        steps = timelines[o]
        now_step = steps[current[o]]
        order_id = f"o-{o + 1:06d}"
        for item, qty, unit in lines:
            order_rows.append({
                "order_id": order_id, "user_id": users.ids[u], "status": now_step[1],
                "created_at": created, "updated_at": now_step[0],
                "shipping_status": now_step[2], "payment_status": now_step[3],
                "currency": CURRENCY, "item_id": catalog.ids[item], "quantity": qty,
                "unit_price": unit})
        if now_step[1] != "delivered":
            continue
        delivered = now_step[0]
        for item, _, _ in lines:
            r = rng.random()
            when = delivered + (0.2 + rng.exponential(2.5)) * DAY
            if when > end or r >= _P_REVIEW + _P_RATING_ONLY:
                continue
            rating, clauses = _draw_opinion(rng, aspects[item])
            rating_events.append((u, item, when, rating))
            if r >= _P_REVIEW:
                continue
            lang = int(catalog.lang[item])
            tone = "positive" if rating >= 4 else "negative" if rating <= 2 else "neutral"
            closing = _pick(rng, cat.REVIEW_CLOSINGS[tone][lang]) if rng.random() < 0.35 \
                else None
            review_id = f"rv-{len(review_rows) + 1:06d}"
            review_rows.append({
                "review_id": review_id, "user_id": users.ids[u], "item_id": catalog.ids[item],
                "rating": float(rating), "text": _compose_review(rng, lang, clauses, closing),
                "ts": round(when, 3), "language": _LANGS[lang]})
            review_truth[review_id] = dict(clauses)
    return order_rows, review_rows, rating_events, review_truth


def _draw_opinion(rng, means: dict[str, float]) -> tuple[int, list[tuple[str, str]]]:
    """1-3 aspects with polarities drawn around the item's means, and a matching rating."""
    names = list(means)
    w = np.array([cat.ASPECT_WEIGHTS[a] for a in names])
    k = min(len(names), int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25])))
    chosen = [names[i] for i in rng.choice(len(names), k, replace=False, p=w / w.sum())]
    scores = [means[a] + rng.normal(0.0, 0.35) for a in chosen]
    clauses = [(a, "positive" if s > 0.3 else "negative" if s < -0.3 else "neutral")
               for a, s in zip(chosen, scores, strict=True)]
    rating = int(np.clip(round(3.1 + 2.0 * float(np.mean(scores)) + rng.normal(0, 0.45)), 1, 5))
    return rating, clauses


# --------------------------------------------------------------------------- entry point


def generate_demo_shop(seed: int = 0, n_users: int = 800, n_items: int | None = None,
                       days: int = 120, scale: float = 1.0) -> DemoShop:
    """A demo shop with planted structure, the same for the same arguments.

    ``n_items`` defaults to 500 (at least the ~90 planted products plus 20). ``scale``
    multiplies how active users are (sessions per day), hence the number of events, orders
    and reviews; the defaults give about 40-50 thousand events, ~2 thousand orders and
    ~1 thousand reviews in well under two seconds.
    """
    if n_users < 1 or days < 1 or scale <= 0:
        raise ValueError("n_users and days must be positive and scale above zero")
    catalog = _build_catalog(seed, n_items)
    aspects = _plant_aspects(seed, catalog)
    users = _build_users(seed, n_users)
    demand = _demand_truth(seed, catalog, days)
    sim = _Simulator(seed, catalog, users, demand, days, scale)
    sim.run()
    end = DEMO_START + days * DAY
    order_rows, review_rows, ratings, review_truth = _orders_and_reviews(
        seed, sim, catalog, users, aspects, end)
    for u, item, when, rating in ratings:
        sim._emit(u, item, "rating", when, 0, value=float(rating))

    ev = sim.ev
    item_ids = np.append(catalog.ids, None)  # -1 (searches) maps to None
    session_ids = np.array([None] + [f"s-{k:06d}" for k in range(1, sim.n_sessions + 1)],
                           dtype=object)
    events = pd.DataFrame({
        "user_id": users.ids[np.array(ev["user"], dtype=np.int64)],
        "item_id": item_ids[np.array(ev["item"], dtype=np.int64)],
        "type": np.array(ev["type"], dtype=object),
        "value": np.array(ev["value"], dtype=float),
        "ts": np.round(np.array(ev["ts"], dtype=float), 3),
        "session_id": session_ids[np.array(ev["session"], dtype=np.int64)],
        "context": pd.Series(ev["context"], dtype=object),
    })
    events = events.sort_values(["ts", "user_id"], kind="stable").reset_index(drop=True)

    items = pd.DataFrame([{k: v for k, v in row.items() if not k.startswith("_")}
                          for row in catalog.rows])
    orders = pd.DataFrame(order_rows, columns=["order_id", "user_id", "status", "created_at",
                                               "updated_at", "shipping_status",
                                               "payment_status", "currency", "item_id",
                                               "quantity", "unit_price"])
    for col in ("created_at", "updated_at"):
        orders[col] = orders[col].astype(float).round(3)
    reviews = pd.DataFrame(review_rows, columns=["review_id", "user_id", "item_id", "rating",
                                                 "text", "ts", "language"])
    # the shop annotated the aspects of some reviews (what trains the aspect-term model)
    annotated = np.random.default_rng([seed, 7]).random(len(reviews)) < _P_ANNOTATED
    reviews["aspects"] = [review_truth[r] if a else None
                          for r, a in zip(reviews["review_id"], annotated, strict=True)]
    truth = DemoTruth(
        user_taste={users.ids[u]: [_TOP_EN[t] for t in users.tastes[u]]
                    for u in range(n_users)},
        next_item_rules=[(catalog.ids[a], catalog.ids[b]) for a, b in catalog.rules.items()],
        complements={catalog.ids[a]: [catalog.ids[b] for b in bs]
                     for a, bs in catalog.complements.items()},
        review_aspects=review_truth,
        item_aspects={catalog.ids[i]: aspects[i] for i in range(len(aspects))},
        demand=demand,
        item_top_category={catalog.ids[i]: _TOP_EN[catalog.top[i]]
                           for i in range(len(catalog.ids))},
        top_categories={en: zh for _, zh, en in cat.TOP_CATEGORIES},
        user_language={users.ids[u]: _LANGS[users.lang[u]] for u in range(n_users)},
        user_price_sensitivity={users.ids[u]: float(users.price_sensitivity[u])
                                for u in range(n_users)},
    )
    return DemoShop(items=items, users=pd.DataFrame(users.rows), events=events,
                    reviews=reviews, orders=orders, truth=truth)
