"""A bilingual (zh/en) opinion lexicon for shop reviews: opinion words, negators and degree words.

Weights are polarities in [-1, 1]: about ±0.8 for clear praise or blame (「很差」 is 很 × 差),
±0.5 for mild words, and |w| ≤ 0.25 for *lukewarm* words (「一般」, 「还行」, "okay",
"so-so"), which keep a clause neutral while leaning it one way. Words whose polarity depends on
what they describe (「快」 is good for delivery, 「便宜」 good for a price but 「廉价」 bad for a look)
live with their aspect in :mod:`shopmind.reviews.taxonomy`, not here.

Two constructions carry an opinion no single word does. *Excess*: a scalar word that is neutral
alone (「大」, 「硬」, "dim") is a complaint after an excess word (「太」, 「偏」, 「过于」, "too"):
「鞋子太大了」, "the screen is too dim". *Expectation*: 「想象中」, 「预期」 and the like stand between a
negation and its opinion without blocking it: 「没有想象中的好」 reads as 「不好」.

The vocabulary is general e-commerce language written for this module; a shop extends it with
:meth:`Lexicon.extend`.

>>> lex = default_lexicon()
>>> lex.opinions["不错"] > 0.5, lex.opinions["一般"] < 0
(True, True)
>>> "不" in lex.negators and lex.degree["很"] > 1 > lex.degree["有点"]
True
>>> "太" in lex.excess and "大" in lex.scalars and "大" not in lex.opinions
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Lexicon", "default_lexicon"]

# --------------------------------------------------------------------------- Chinese

_ZH_POSITIVE_STRONG = """
好 很好 不错 满意 喜欢 棒 赞 完美 优秀 出色 惊喜 超值 给力 推荐 放心 舒服
舒适 精致 漂亮 好看 好用 好吃 有用 有效 优质 精美 靠谱 称心 实用 贴心 耐心
热情 周到 专业 惊艳 爱了 好评 五星 良心 超赞 喜爱 稳定 流畅 清晰 结实 牢固
耐用 值得 物超所值 物美价廉 超出预期 没得说 无可挑剔 一流 顶呱呱 到位 细致 用心
划算 实惠 省心 顺滑 细腻 柔软 新鲜 美味 可口 香甜 清香 甜 正宗 美观 大方
时尚 高端 大气 上档次 灵敏 强劲 安心 帅气 杠杠 物有所值 五分 满分 点赞 信赖 好闻 好喝
细心 亲切 宽敞 小巧 美丽 可爱 感动 良好 强大 齐全 首选
""".split()
_ZH_POSITIVE_MILD = """
挺好 还好 可以 不赖 合适 正常 顺利 方便 干净 整洁 及时 认真 配合 友好 礼貌
温馨 合理 适中 够用 值 感谢 脆 酸甜 爽 简洁 丰富 快乐 幸福 一如既往 囤货 足够 均匀 不卡
""".split()
_ZH_LUKEWARM_NEGATIVE = """
一般 一般般 凑合 勉强 普通 平平 马马虎虎 差强人意 不怎么样 凑合用 将就
""".split()
_ZH_LUKEWARM_NEUTRAL = """
还行 还可以 中规中矩 过得去 尚可 没什么特别 没有惊喜 没什么惊喜 不好不坏 正常水平
""".split()
_ZH_NEGATIVE_STRONG = """
差 很差 太差 垃圾 烂 糟糕 失望 后悔 坑人 坑爹 恶心 差劲 劣质 粗糙 破了 坏
坏了 破损 损坏 报废 退货 投诉 骗人 欺骗 假的 假货 山寨 没用 没效果 无效 次品
残次 瑕疵 难用 难吃 难看 难闻 难受 差评 不值 上当 气愤 生气 无语 郁闷 伤心
可惜 遗憾 问题 毛病 故障 异味 臭 发霉 变质 过期 漏水 漏气 掉色 起球 开线
脱线 褪色 变形 卡顿 死机 闪退 发烫 噪音 异响 敷衍 冷漠 推脱 态度差 不靠谱
不负责 不理人 爱理不理 磨蹭 失灵 断了 裂了 裂开 碎了 刺鼻 粗劣 廉价感 缩水
扯皮 忽悠 脏 破旧 老旧 简陋 吵 不满 差评如潮 糊弄 虚假 不行 不咋地 不咋样 陈旧
扯淡 造假 失败 没人理 没人管 不理 不回复 不给退 不给换 不给补 起毛 掉毛
不会再买 再也不买 再也不会买 不会再来 再也不来 不会再光顾 绝不再买 慎买 慎重购买
一星 地摊货 骗子 恶劣 千万别 抵制 发错 翻新 黑屏 自动关机 受不了 霉味 坑
""".split()
_ZH_NEGATIVE_MILD = """
不足 缺点 麻烦 费劲 不便 不爽 尴尬 偏差 差点 欠佳 略差 吃力 单薄 无奈 降价 痒 不符 划痕 模糊
潮湿 折腾 懒得
不符合 低于预期 不如预期 不及预期
""".split()
# Repurchase intent and expectations met: praise without a praise word.
_ZH_POSITIVE_INTENT = """
回购 会回购 还会来 还会再来 还会再买 会再来 下次还来 还会光顾 会再买 还会买 值得购买 符合预期
达到预期 与描述一致 和描述一致 描述相符 和图片一样 与图片一致
""".split()
# Excess words (degree words too: their factor scales the complaint) and the scalar words they
# turn into complaints. 「太」 also just intensifies praise (「太好用了」: 好用 is an opinion word,
# so it stays praise); the scalars are the ones 「太」 makes a complaint of in reviews (「太轻」,
# 「太薄」 are often praise: not listed).
_ZH_EXCESS = "太 太过 过于 偏 有点太 实在太".split()
_ZH_SCALARS = """
大 小 长 短 高 低 厚 硬 紧 松 重 宽 窄 暗 咸 淡 辣 酸 苦 腻 油 粗 干 冷 热 烫 贵 少 深 浅 浓
大了 小了 长了 短了
""".split()
# Between a negation and its opinion these do not block it: 「没有想象中(的)好」, 「没那么好」.
_ZH_EXPECTATION = "想象中 想像中 想象的 想象 预期 预期的 期望 期望的 期待的 宣传的 描述的 那么 那样".split()

_ZH_NEGATORS = """
不 没 没有 无 非 未 不是 并不 并没有 从不 毫不 绝不 不太 不怎么 不算
一点也不 一点都不 不如 还不如
""".split()
_ZH_DEGREE = {
    # stronger
    "很": 1.4, "非常": 1.6, "太": 1.5, "超": 1.5, "超级": 1.6, "特别": 1.5, "十分": 1.5, "极": 1.6,
    "极其": 1.7, "相当": 1.4, "真": 1.3, "真的": 1.3, "挺": 1.2, "蛮": 1.2, "好": 1.3, "巨": 1.6,
    "特": 1.4, "最": 1.6, "绝对": 1.5, "完全": 1.5, "严重": 1.6, "实在": 1.4, "确实": 1.2, "贼": 1.5,
    "越来越": 1.2, "格外": 1.4, "尤其": 1.3, "更": 1.2, "超出": 1.2, "根本": 1.4, "简直": 1.4,
    "太过": 1.5, "过于": 1.5, "实在太": 1.5, "有点太": 1.2,
    # weaker
    "有点": 0.55, "有些": 0.6, "有一点": 0.5, "稍": 0.5, "稍微": 0.5, "略": 0.5, "略微": 0.5,
    "比较": 0.9, "还算": 0.7, "一点": 0.5, "一点点": 0.4, "些许": 0.5, "偏": 0.7, "还": 0.85,
    # hedges: an opinion the writer is unsure of counts for less
    "应该": 0.5, "可能": 0.5, "大概": 0.5, "似乎": 0.5, "好像": 0.5, "估计": 0.5, "也许": 0.5,
}
_NEGATOR_DEGREE = {"不太": 0.5, "不怎么": 0.5, "不算": 0.6, "不是很": 0.5, "不是太": 0.5,
                   "never": 1.3, "not very": 0.5, "not really": 0.6, "not that": 0.5, "not so": 0.6}

# --------------------------------------------------------------------------- English

_EN_POSITIVE_STRONG = """
good great excellent amazing awesome perfect love loved lovely fantastic wonderful superb outstanding
impressive brilliant best happy pleased satisfied delighted recommend recommended
beautiful gorgeous nice solid sturdy reliable durable comfortable helpful friendly polite
responsive professional smooth fast quick delicious tasty fresh genuine authentic premium
exceptional flawless terrific fabulous stunning elegant stylish worth impeccable pleasant
superior top-notch incredible exceeded favorite favourite enjoy enjoyed convenient efficient
immaculate spectacular magnificent attentive courteous comfy spotless pleasure beautifully
""".split()
_EN_POSITIVE_MILD = """
spacious cozy cosy welcoming roomy
decent nice fine reasonable adequate acceptable useful handy clean neat works working easy
affordable fair
""".split()
_EN_LUKEWARM = {
    "okay": 0.05, "ok": 0.05, "average": -0.15, "mediocre": -0.25, "so-so": -0.2, "meh": -0.2,
    "ordinary": -0.1, "plain": -0.1, "basic": -0.05, "alright": 0.05, "nothing special": -0.2,
    "not bad": 0.3, "could be better": -0.25, "as expected": 0.15, "as described": 0.2,
    "nothing more": -0.15, "generic": -0.15, "standard": 0.0, "hard to tell": -0.05,
    "usual": 0.0, "fine": 0.2, "expected": 0.05, "acceptable": 0.2, "passable": -0.1,
    "does the job": 0.3, "as advertised": 0.5, "as promised": 0.5, "barely works": -0.7,
    "hardly works": -0.7, "no effect": -0.6, "no difference": -0.5, "waste of money": -0.9,
    "not worth": -0.6, "would buy again": 0.7, "will buy again": 0.7,
}
# Words that contain an opinion word or a negator but are neither: matched whole, they hide it.
_SHADOWS = """
价值 数值 香港 不断 突破 假期 放假 不过 不但 不仅 不管 不同 不用 没想到 无线 无论 未来 别人 别的 不少 不久
不一样 不知道 没几天 没多久 没事 不然 差不多 好几 好多 只好 正好 刚好在 问题是 毛病是 最近 最后 最好是
无糖 无刺激 止痒 未拆 不得不 没法比 坏人 好友 好几次 不停 差价 好处 别家 别处 别买 not only nothing else
""".split()
_EN_NEGATIVE_STRONG = """
bad terrible awful horrible poor worst hate hated disappointed disappointing disappointment useless
broken broke defective damaged faulty fake counterfeit cheaply flimsy rude unhelpful slow late
delayed lost missing wrong waste scam rip-off ripoff junk garbage crap
overpriced dirty smelly stinks leaked leaking cracked scratched torn ugly unreliable laggy crashes
crashed unusable annoying frustrating horrendous pathetic dreadful mess nightmare failed fails
fail stopped rotten stale disgusting inferior shoddy unresponsive ignored lousy sucks worse
regret painful painfully awkward problem problems issue issues complaint
filthy unpleasant unfriendly refused ridiculous unacceptable subpar
""".split()
# Complaints of several words: expectations unmet, no second purchase.
_EN_PHRASES = {"not as described": -0.6, "not as advertised": -0.6, "not as pictured": -0.55,
               "not what i expected": -0.55, "less than expected": -0.45,
               "smaller than expected": -0.45, "lower than expected": -0.45,
               "will not buy again": -0.8, "wont buy again": -0.8, "never again": -0.7,
               "would not recommend": -0.75, "wouldnt recommend": -0.75,
               "supposed to": -0.3, "took forever": -0.6, "below par": -0.6}
_EN_EXCESS = "too overly".split()
_EN_SCALARS = """
big small large tiny huge long short tall high low thick thin soft tight loose heavy light
wide narrow bright dim dark sweet salty bland spicy sour bitter oily greasy dry cold hot warm
loud quiet weak strong stiff rough bulky sharp dull sticky watery much many few little
""".split()
_EN_NEGATIVE_MILD = """
uncomfortable difficult hard confusing noisy expensive pricey refund returned unfortunately
complained complain complaining mistake worn outdated lacking musty odor stained stains avoid
""".split()

_EN_NEGATORS = ("not no never none nothing nobody neither nor without hardly barely "
                "cannot cant dont doesnt didnt isnt wasnt arent werent wont wouldnt couldnt").split()
_EN_DEGREE = {
    "very": 1.4, "really": 1.3, "so": 1.3, "extremely": 1.7, "super": 1.5, "incredibly": 1.6,
    "absolutely": 1.5, "totally": 1.4, "completely": 1.5, "highly": 1.4, "too": 1.3, "way": 1.3,
    "truly": 1.3, "quite": 1.1, "pretty": 1.1, "most": 1.3, "especially": 1.3, "utterly": 1.6,
    "seriously": 1.4, "exceptionally": 1.6, "amazingly": 1.4, "painfully": 1.5, "overly": 1.3,
    "slightly": 0.5, "somewhat": 0.6, "a bit": 0.55, "a little": 0.55, "kind of": 0.6,
    "kinda": 0.6, "sort of": 0.6, "fairly": 0.8, "rather": 0.8, "mostly": 0.8, "relatively": 0.8,
    "definitely": 1.3, "definately": 1.3,
    "probably": 0.5, "maybe": 0.5, "perhaps": 0.5, "seems": 0.5, "seem": 0.5, "apparently": 0.6,
}


def _weights(words, weight) -> dict[str, float]:
    return {w: weight for w in words}


@dataclass
class Lexicon:
    """Opinion words with polarity weights, negators and degree words, for both languages.

    Keys are lower case; Chinese keys are plain strings, English multi-word keys are separated
    by single spaces. ``negators`` flip the next opinion; ``degree`` multiplies it (a factor of 1
    only lets a negation reach past the word); a word of ``scalars`` right after a degree word
    that is also in ``excess`` is a complaint.
    """

    opinions: dict[str, float] = field(default_factory=dict)
    negators: set[str] = field(default_factory=set)
    degree: dict[str, float] = field(default_factory=dict)
    excess: set[str] = field(default_factory=set)
    scalars: set[str] = field(default_factory=set)

    def extend(self, opinions: Mapping[str, float] | None = None, negators=(),
               degree: Mapping[str, float] | None = None, excess=(), scalars=()) -> Lexicon:
        """A copy with more (or re-weighted) words.

        >>> lex = default_lexicon().extend({"yyds": 0.9})
        >>> lex.opinions["yyds"]
        0.9
        """
        out = Lexicon(dict(self.opinions), set(self.negators), dict(self.degree), set(self.excess),
                      set(self.scalars))
        for word, weight in (opinions or {}).items():
            out.opinions[word.lower()] = _check_weight(word, weight)
        out.negators.update(n.lower() for n in negators)
        out.degree.update({k.lower(): float(v) for k, v in (degree or {}).items()})
        out.excess.update(w.lower() for w in excess)
        out.scalars.update(w.lower() for w in scalars)
        if unknown := sorted(out.excess - set(out.degree)):
            from shopmind.errors import DataError

            raise DataError(f"excess words must be degree words too; give {unknown} a degree factor")
        return out

    def to_dict(self) -> dict:
        return {"opinions": self.opinions, "negators": sorted(self.negators), "degree": self.degree,
                "excess": sorted(self.excess), "scalars": sorted(self.scalars)}

    @classmethod
    def from_dict(cls, data: Mapping) -> Lexicon:
        return cls().extend(data.get("opinions"), data.get("negators", ()), data.get("degree"),
                            data.get("excess", ()), data.get("scalars", ()))


def _check_weight(word: str, weight: float) -> float:
    weight = float(weight)
    if not -1.0 <= weight <= 1.0:
        from shopmind.errors import DataError

        raise DataError(f"opinion weight of {word!r} must be in [-1, 1], got {weight}")
    return weight


def default_lexicon() -> Lexicon:
    """The built-in zh + en lexicon (a fresh copy each call)."""
    opinions: dict[str, float] = {}
    opinions |= _weights(_ZH_POSITIVE_STRONG, 0.6)
    opinions |= _weights(_ZH_POSITIVE_MILD, 0.35)
    opinions |= _weights(_ZH_LUKEWARM_NEGATIVE, -0.2)
    opinions |= _weights(_ZH_LUKEWARM_NEUTRAL, 0.05)
    opinions |= _weights(_ZH_NEGATIVE_STRONG, -0.65)
    opinions |= _weights(_ZH_NEGATIVE_MILD, -0.35)
    opinions |= _weights(_ZH_POSITIVE_INTENT, 0.5)
    opinions |= _weights(_EN_POSITIVE_STRONG, 0.6)
    opinions |= _weights(_EN_POSITIVE_MILD, 0.3)
    opinions |= _EN_LUKEWARM
    opinions |= _weights(_EN_NEGATIVE_STRONG, -0.65)
    opinions |= _weights(_EN_NEGATIVE_MILD, -0.35)
    opinions |= _EN_PHRASES
    # Words listed above whose strength differs from their group's.
    opinions |= {"很好": 0.8, "很差": -0.85, "太差": -0.9, "垃圾": -0.9, "完美": 0.85, "后悔": -0.8,
                 "物超所值": 0.85, "无可挑剔": 0.85, "超出预期": 0.75, "best": 0.8, "worst": -0.9,
                 "perfect": 0.85, "terrible": -0.85, "awful": -0.85, "love": 0.8, "hate": -0.8,
                 "scam": -0.9, "值": 0.3, "问题": -0.45, "毛病": -0.5, "problem": -0.45,
                 "issue": -0.4, "issues": -0.4, "problems": -0.45, "worth": 0.5,
                 "美中不足": -0.15}  # 「美中不足」: good on the whole, one flaw
    opinions |= _weights(_SHADOWS, 0.0)
    return Lexicon(opinions=opinions,
                   negators=set(_ZH_NEGATORS) | set(_NEGATOR_DEGREE) | set(_EN_NEGATORS),
                   degree={**_weights(_ZH_EXPECTATION, 1.0), **_ZH_DEGREE, **_NEGATOR_DEGREE,
                           **_EN_DEGREE},
                   excess=set(_ZH_EXCESS) | set(_EN_EXCESS),
                   scalars=set(_ZH_SCALARS) | set(_EN_SCALARS))


