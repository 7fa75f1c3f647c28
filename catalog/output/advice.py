"""The report's usage advice: per pool, what it is for, its first choice with the facts that put
it first, and its fallbacks. Plain data for the templates, in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.output.filters import tokens
from catalog.output.poolrecords import PoolEntry
from catalog.output.pools import Pools

# What the built-in pools are for, as the hand-made page advised; [pools.NAME] advice overrides.
DEFAULT_ADVICE = {
    "SMALL": {
        "en": "Quick tasks: short answers, classification, extraction (under 100 tokens)",
        "zh": "快速任务（少于 100 tokens）：简短回答、分类、信息提取",
    },
    "LARGE": {
        "en": "Complex reasoning: multi-step analysis and long answers (over 500 tokens)",
        "zh": "复杂推理（超过 500 tokens）：多步分析、长篇回答",
    },
    "CODE": {"en": "Code generation, review and fixes", "zh": "代码生成、审查与修复"},
    "VISION": {
        "en": "Reading images: screenshots, charts, photos, scanned text",
        "zh": "图像理解：截图、图表、照片、扫描文字",
    },
}


def _context(e: PoolEntry) -> int | None:
    return e.model.record.context_length or e.model.record.top_context_length


def _assumed(e: PoolEntry) -> str | None:
    return None if e.profile.size.known else f"{e.profile.assumed_b:g}B"


def _days(e: PoolEntry) -> int | None:
    return int(e.profile.streak_days) if e.profile.streak_days >= 1 else None


def _availability(e: PoolEntry) -> str | None:
    share = e.profile.health.availability_7d
    return None if share is None else f"{share:.0%}"


def _latency(e: PoolEntry) -> str | None:
    latency = e.profile.health.latency_p50_ms
    return None if latency is None else f"{latency:,.0f}"


# The facts that put a model first, in this order: (name, value or None when it does not apply,
# English, Chinese). `{}` takes the value. Another fact (measured latency, say) is one more line.
FACTS: tuple[tuple[str, Callable[[PoolEntry, str], Any], str, str], ...] = (
    ("pinned", lambda e, order: e.pinned or None, "pinned in the config", "配置固定"),
    ("order", lambda e, order: None if e.pinned or order == "score" else order, "ranked by {}", "按 {} 排序"),
    ("size", lambda e, order: e.profile.size.label, "{} parameters", "{} 参数"),
    ("assumed_size", lambda e, order: _assumed(e), "size unknown, counted as {}", "规模未知（按 {} 计）"),
    ("context", lambda e, order: _context(e), "{} context", "{} 上下文"),
    ("tools", lambda e, order: e.profile.tools or None, "tool calls", "工具调用"),
    ("reasoning", lambda e, order: e.profile.reasoning or None, "reasoning", "推理"),
    ("images", lambda e, order: e.profile.reads_images or None, "reads images", "图像输入"),
    ("streak", lambda e, order: _days(e), "free for {} days without a break", "连续免费 {} 天"),
    ("filler", lambda e, order: e.filler or None, "a general model filling CODE", "通用模型补位"),
    ("health", lambda e, order: _availability(e), "available {} of the time in 7 days (measured)", "7 天实测可用率 {}"),
    ("latency", lambda e, order: _latency(e), "measured p50 latency {} ms", "实测 p50 延迟 {} ms"),
)


def facts(e: PoolEntry, order: str, lang: str) -> list[dict[str, Any]]:
    """The first choice's facts as {"fact", "value", "text"}; the text is in `lang`."""

    shown = []
    for name, value_of, en, zh in FACTS:
        value = value_of(e, order)
        if value is None:
            continue
        text = (zh if lang == "zh" else en).format(tokens(value) if name == "context" else value)
        shown.append({"fact": name, "value": value, "text": text})
    return shown


def advice_text(name: str, pools: Pools, lang: str) -> str:
    """The config's advice, else the built-in default, else the pool's title, else its name."""
    spec = pools.config.pool(name)
    default = DEFAULT_ADVICE.get(name, {}).get(lang)
    return spec.text("advice", lang) or default or spec.text("title", lang) or name


def advice_views(pools: Pools, lang: str, fallback_limit: int) -> list[dict[str, Any]]:
    views = []
    for name, entries in pools.pools.items():
        first = entries[0] if entries else None
        order = pools.config.pool(name).order
        views.append(
            {
                "name": name,
                "advice": advice_text(name, pools, lang),
                "first": first.id if first else None,
                "why": facts(first, order, lang) if first else [],
                "fallbacks": [e.id for e in entries[1:fallback_limit]],
            }
        )
    return views
