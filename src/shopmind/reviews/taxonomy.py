"""The aspect taxonomy: what customers talk about in e-commerce reviews, in Chinese and English.

Each :class:`Aspect` has display names in both languages, *terms* that show it is being talked
about (「物流」, 「快递」, "shipping", "arrived") and *opinions* whose polarity only holds for it
(「快」 is praise for delivery, 「偏小」 blame for a size, "cheap" good for a price and bad for a
look). A shop adds its own aspects, or words to the built-in ones, with
:meth:`AspectTaxonomy.extend`, or loads a whole taxonomy from JSON.

>>> tax = default_taxonomy()
>>> tax.names[:4]
['quality', 'logistics', 'service', 'price']
>>> tax["logistics"].label("zh")
'物流'
>>> tax = tax.extend({"battery": {"zh": "续航", "en": "battery life", "terms": ["续航", "battery"],
...                               "opinions": {"耐用": 0.6, "drains": -0.6}}})
>>> "battery" in tax.names
True
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shopmind.errors import DataError

__all__ = ["Aspect", "AspectTaxonomy", "default_taxonomy"]


@dataclass(frozen=True)
class Aspect:
    """One aspect: its key, display names, the words that name it and its own opinion words.

    ``terms`` name the aspect outright (「物流」, "packaging"); ``cues`` only suggest it
    (「到了」, "arrived", 「速度」) and count only in a clause that names no other aspect, so
    「物流速度很快」 is about delivery, not performance.
    """

    name: str
    zh: str
    en: str
    terms: tuple[str, ...] = ()
    opinions: Mapping[str, float] = field(default_factory=dict)
    cues: tuple[str, ...] = ()
    need_zh: str = ""  # what customers who complain about it want, for insight summaries
    need_en: str = ""

    def need(self, language: str = "en") -> str:
        if language == "zh":
            return self.need_zh or f"改进{self.zh}"
        return self.need_en or f"better {self.en}"

    def label(self, language: str = "en") -> str:
        return self.zh if language == "zh" else self.en

    def to_dict(self) -> dict:
        return {"zh": self.zh, "en": self.en, "terms": list(self.terms), "cues": list(self.cues),
                "opinions": dict(self.opinions), "need_zh": self.need_zh, "need_en": self.need_en}


def _aspect(name: str, zh: str, en: str, terms: str, cues: str,
            opinions: Mapping[str, float]) -> Aspect:
    need_zh, need_en = _NEEDS[name]
    return Aspect(name, zh, en, tuple(terms.split("|")), dict(opinions), tuple(cues.split("|")),
                  need_zh, need_en)


_NEEDS = {
    "quality": ("更可靠的质量和做工", "more reliable quality and workmanship"),
    "logistics": ("更快、更准时的发货和配送", "faster, more dependable shipping"),
    "service": ("更及时、更负责的客服", "more responsive, helpful customer service"),
    "price": ("更合理的价格或更多优惠", "better value for money"),
    "packaging": ("更结实的包装", "sturdier packaging"),
    "fit": ("更准确的尺码说明", "accurate sizing information"),
    "appearance": ("与图片一致的外观", "a product that looks as pictured"),
    "performance": ("达到宣传效果的功能和性能", "a product that works as promised"),
    "authenticity": ("可验证的正品保证", "verifiable authenticity"),
    "taste": ("更新鲜、更好吃的口味", "fresher, better-tasting products"),
}


_POS, _MILD, _NEG = 0.6, 0.35, -0.6

_BUILTIN = (
    _aspect("quality", "质量", "quality",
            "质量|品质|做工|用料|材质|质地|工艺|面料|布料|材料|瑕疵|quality|build|craftsmanship|"
            "workmanship|stitching|fabric|material|materials",
            "手感|结实|耐用|坏了|坏掉|开线|起球|掉色|褪色|裂|made|built|durable|sturdy|flimsy|defect|"
            "defects|defective|broke|broken|falls apart|fell apart|cheaply",
            {"精细": _POS, "扎实": _POS, "足": _MILD, "厚实": _POS, "细致": _POS, "粗糙": _NEG,
             "cheap": _NEG, "well": _POS, "poorly": _NEG, "solid": _POS, "exceeded": _POS}),
    _aspect("logistics", "物流", "logistics/delivery",
            "物流|快递|发货|送货|配送|到货|运输|顺丰|邮寄|派送|送达|shipping|shipped|delivery|"
            "delivered|courier|parcel|shipment|dispatch|dispatched|postage|tracking|transit",
            "收到|到了|运费|包邮|arrived|arrive|arrives|came",
            {"快": _POS, "迅速": _POS, "神速": 0.8, "及时": _POS, "准时": _POS, "隔天": 0.5, "次日": 0.5,
             "第二天": 0.5, "当天": 0.5, "慢": -0.65, "拖": -0.5, "延迟": -0.6, "延误": -0.6, "丢": -0.7,
             "离谱": -0.6, "催": -0.4, "fast": _POS, "quick": _POS, "quickly": _POS,
             "early": 0.5, "earlier": 0.5, "on time": 0.5, "promptly": _POS, "prompt": _POS,
             "slow": -0.65, "late": -0.6, "delayed": -0.65, "lost": -0.7, "never arrived": -0.9}),
    _aspect("service", "客服", "customer service",
            "客服|售后|卖家|商家|店家|掌柜|店主|seller|customer service|support|vendor|"
            "customer care|after-sales",
            "服务|态度|回复|沟通|退换|service|staff|communication|replied|responded|response",
            {"耐心": _POS, "热情": _POS, "周到": _POS, "及时": _POS, "快": 0.5, "贴心": _POS,
             "负责": _POS, "程式化": -0.2, "推来推去": -0.7, "不回": -0.7, "慢": -0.5,
             "helpful": _POS, "patient": _POS, "patiently": _POS, "quickly": 0.5,
             "responsive": _POS, "rude": -0.8, "ignored": -0.7, "answered": 0.4, "replied": 0.4,
             "unhelpful": -0.7, "useless": -0.7}),
    _aspect("price", "价格", "price/value",
            "价格|价钱|性价比|价位|活动价|price|priced|prices|value|cost",
            "划算|实惠|便宜|贵|优惠|促销|折扣|钱|money|cheap|cheaper|expensive|overpriced|bargain|deal|"
            "affordable|pricey|worth|costs",
            {"便宜": 0.5, "贵": -0.45, "偏贵": -0.5, "实惠": _POS, "划算": _POS, "高": 0.3, "低": -0.3,
             "值": 0.5, "不值": -0.7, "cheap": 0.4, "cheaper": 0.4, "reasonable": 0.5,
             "bargain": _POS, "fair": 0.2, "overpriced": -0.7, "expensive": -0.45}),
    _aspect("packaging", "包装", "packaging",
            "包装|外箱|纸箱|外盒|礼盒|气泡膜|packaging|package|packaged|packing",
            "盒子|箱子|泡沫|封口|box|boxes|wrapped|wrapping|packed",
            {"严实": _POS, "完好": _POS, "完好无损": 0.7, "结实": _POS, "精美": _POS, "简陋": -0.5,
             "压坏": -0.7, "破了": -0.7, "简单": -0.1, "secure": 0.5, "intact": 0.5, "crushed": -0.7,
             "dented": -0.6, "damaged": -0.7, "flimsy": -0.5, "torn": -0.6}),
    _aspect("fit", "尺码", "size/fit",
            "尺码|尺寸|码数|版型|size|sizes|sizing",
            "大小|合身|偏大|偏小|穿着|上身|码|fit|fits|fitting|runs small|runs large|too small|"
            "too big|cut",
            {"合身": _POS, "合适": 0.5, "刚好": 0.5, "刚刚好": 0.6, "标准": 0.4, "准": 0.4,
             "偏大": -0.5, "偏小": -0.5, "大了": -0.5, "小了": -0.5, "穿不上": -0.7, "不合身": -0.6,
             "true to size": 0.6, "perfectly": _POS, "just right": 0.6, "small": -0.4,
             "large": -0.4, "big": -0.4, "tight": -0.4, "loose": -0.4, "off": -0.5,
             "strange": -0.4, "fits": 0.4, "doesn't fit": -0.6, "didn't fit": -0.6,
             "does not fit": -0.6, "don't fit": -0.6, "too small": -0.6, "too big": -0.6,
             "too large": -0.6}),
    _aspect("appearance", "外观", "appearance",
            "外观|颜值|颜色|款式|设计|外形|造型|色差|配色|appearance|colour|color|colours|colors|"
            "design|style",
            "样子|图片|样式|好看|漂亮|难看|look|looks|looked|looking|pictured|picture|pictures|photo|"
            "photos|pretty|ugly|gorgeous",
            {"高": 0.5, "有质感": _POS, "廉价": -0.6, "丑": -0.7, "暗": -0.2, "差距": -0.5,
             "cheap": -0.6, "premium": _POS, "darker": -0.2, "lighter": -0.2, "off": -0.5,
             "different": -0.4, "nothing like": -0.7, "as pictured": 0.5, "as shown": 0.5,
             "一致": 0.4, "一样": 0.3, "不一样": -0.5}),
    _aspect("performance", "性能/功能", "function/performance",
            "性能|功能|效果|续航|信号|音质|performance|function|functions|feature|features|battery|"
            "signal",
            "运行|速度|电池|屏幕|反应|操作|使用|用起来|好用|效率|performs|works|worked|working|effect|"
            "sound|screen|speed|runs|lag|laggy|effective",
            {"强劲": _POS, "流畅": _POS, "顺手": _POS, "明显": 0.4, "快": 0.5, "灵敏": _POS,
             "慢": -0.55, "卡": -0.6, "卡顿": -0.7, "没用": -0.7, "够用": 0.2,
             "smooth": _POS, "fast": 0.5, "laggy": -0.7, "unreliable": -0.6, "lag": -0.6,
             "slow": -0.55, "well": _POS}),
    _aspect("authenticity", "正品", "authenticity",
            "正品|真品|假货|仿品|高仿|山寨|防伪|专柜|真假|genuine|authentic|fake|counterfeit|replica|"
            "knockoff|knock-off|serial number",
            "假的|官方|官网|原装|授权|original|official",
            {"正品": _POS, "原装": 0.5, "防伪码能查": 0.6, "查不到": -0.6, "怀疑": -0.4,
             "疑似": -0.4, "genuine": _POS, "authentic": _POS, "fake": -0.8, "counterfeit": -0.8,
             "verify": 0.3, "checks out": 0.5, "suspect": -0.4}),
    _aspect("taste", "口味", "taste",
            "味道|口味|口感|taste|tastes|tasted|flavour|flavor|flavours|flavors",
            "好吃|难吃|新鲜|味|吃起来|甜度|香味|咸|甜|tasty|delicious|fresh|freshness|salty|sweet|bland|"
            "stale",
            {"新鲜": _POS, "香": 0.5, "脆": 0.4, "咸": -0.4, "淡": -0.3, "怪味": -0.7, "腥": -0.6,
             "fresh": _POS, "tasty": _POS, "bland": -0.5, "salty": -0.4, "stale": -0.7,
             "strange": -0.4, "awful": -0.8}),
)


class AspectTaxonomy:
    """An ordered set of :class:`Aspect` s. Immutable: :meth:`extend` returns a new taxonomy."""

    def __init__(self, aspects: Iterable[Aspect]):
        self._aspects: dict[str, Aspect] = {}
        for aspect in aspects:
            if not aspect.name or not aspect.terms:
                raise DataError(f"aspect {aspect.name!r} needs a name and at least one term")
            self._aspects[aspect.name] = aspect

    @property
    def names(self) -> list[str]:
        return list(self._aspects)

    def __getitem__(self, name: str) -> Aspect:
        try:
            return self._aspects[name]
        except KeyError:
            from shopmind.errors import NotFoundError

            raise NotFoundError(f"no aspect {name!r}; known: {', '.join(self._aspects)}") from None

    def __iter__(self):
        return iter(self._aspects.values())

    def __len__(self) -> int:
        return len(self._aspects)

    def extend(self, spec: Mapping[str, Mapping]) -> AspectTaxonomy:
        """A taxonomy with new aspects, or more terms/opinions for existing ones.

        ``spec`` maps an aspect name to ``{"zh": ..., "en": ..., "terms": [...], "cues": [...],
        "opinions": {word: weight}, "need_zh": ..., "need_en": ...}``; for an existing aspect
        every key is optional and terms, cues and opinions are added to its own.
        """
        aspects = dict(self._aspects)
        for name, entry in spec.items():
            if not isinstance(entry, Mapping):
                raise DataError(f"aspect {name!r}: expected a mapping with zh, en, terms, "
                                f"opinions, got {type(entry).__name__}")
            old = aspects.get(name)
            terms = tuple(str(t).lower() for t in entry.get("terms", ()))
            cues = tuple(str(t).lower() for t in entry.get("cues", ()))
            opinions = {str(k).lower(): float(v) for k, v in entry.get("opinions", {}).items()}
            bad = [k for k, v in opinions.items() if not -1 <= v <= 1]
            if bad:
                raise DataError(f"aspect {name!r}: opinion weights must be in [-1, 1] ({bad[0]!r})")
            if old is None:
                if not terms:
                    raise DataError(f"new aspect {name!r} needs 'terms' (words that mention it)")
                aspects[name] = Aspect(name, str(entry.get("zh", name)), str(entry.get("en", name)),
                                       terms, opinions, cues, str(entry.get("need_zh", "")),
                                       str(entry.get("need_en", "")))
            else:
                aspects[name] = Aspect(name, str(entry.get("zh", old.zh)),
                                       str(entry.get("en", old.en)),
                                       old.terms + tuple(t for t in terms if t not in old.terms),
                                       {**old.opinions, **opinions},
                                       old.cues + tuple(t for t in cues if t not in old.cues),
                                       str(entry.get("need_zh", old.need_zh)),
                                       str(entry.get("need_en", old.need_en)))
        return AspectTaxonomy(aspects.values())

    def to_dict(self) -> dict:
        return {a.name: a.to_dict() for a in self}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Mapping]) -> AspectTaxonomy:
        return cls([]).extend(spec)

    @classmethod
    def from_json(cls, path: str | Path, base: AspectTaxonomy | None = None) -> AspectTaxonomy:
        """Read ``{name: {zh, en, terms, opinions}}`` from a JSON file, on top of ``base``."""
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read the aspect taxonomy {path}: {exc}") from exc
        return (base or cls([])).extend(spec)


def default_taxonomy() -> AspectTaxonomy:
    """The built-in e-commerce taxonomy: quality, logistics, service, price, packaging, fit,
    appearance, performance, authenticity and taste."""
    return AspectTaxonomy(_BUILTIN)
