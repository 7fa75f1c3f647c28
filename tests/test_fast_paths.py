"""The speed-ups that must not change a byte: text escaping fast paths agree with the
character-by-character rules they shortcut, on random and hostile text.

The slow references are written here from the rules, with their own character sets and patterns:
none is imported from the code they check."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from catalog.output.filters import clean, md_cell, md_code

# A tab, and every character at which str.splitlines() breaks a line: each becomes a space.
LINE_BREAKS = set("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# What Markdown (with GitHub's tables and strikethrough) and inline HTML give a meaning to.
MD_SPECIAL = set("\\`*_[]|<>&~$")

ALPHABET = "ab Z09 \t\n\r\x0b\x0c\x1c\x85\u2028\u2029\x00\x7f\u200e\u202e`*_[]|<>&~$\\-:/é日"


def slow_clean(value, limit=None):
    text = "" if value is None else str(value)
    kept = []
    for ch in text:
        if ch in LINE_BREAKS:
            kept.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def slow_md_code(value):
    text = slow_clean(value)
    if not text or "|" in text or "\\" in text:
        return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in text)
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def texts():
    rng = random.Random(14)
    yield from ("", "plain ascii", "  spaced   out  ", "a`b", "`edge`", "x|y", "back\\slash", None, 42)
    for _ in range(3000):
        pool = ALPHABET if rng.random() < 0.5 else "abcXYZ 019-_*`[]<>&~$:/."
        yield "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("limit", [None, 5, 200])
def test_clean_and_md_cell_equal_the_per_character_rules(limit):
    for text in texts():
        assert clean(text, limit) == slow_clean(text, limit), repr(text)
        assert md_cell(text, limit) == "".join(
            "\\" + ch if ch in MD_SPECIAL else ch for ch in slow_clean(text, limit)
        ), repr(text)


def test_md_code_equals_the_per_character_rules():
    for text in texts():
        assert md_code(text) == slow_md_code(text), repr(text)


def test_data_environment_reads_what_jinja_s_getattr_reads():
    import jinja2

    from catalog.output.dataenv import DataEnvironment

    class Sub(dict):
        size = "attribute"

    plain, fast = (
        jinja2.Environment(undefined=jinja2.StrictUndefined),
        DataEnvironment(undefined=jinja2.StrictUndefined),
    )
    names = [
        "id",
        "name",
        "items",
        "keys",
        "values",
        "get",
        "copy",
        "update",
        "pop",
        "__class__",
        "__doc__",
        "__len__",
        "__dict__",
        "__name__",
        "missing",
        "size",
        "",
    ]
    doc = {name: f"value of {name}" for name in names[:-3]}
    for obj in (doc, {}, Sub(doc), {"size": 1}, ["id"], "text", 42, None):
        for name in names:
            want, got = plain.getattr(obj, name), fast.getattr(obj, name)
            if isinstance(want, jinja2.Undefined):
                assert type(got) is type(want) and got._undefined_name == want._undefined_name, (obj, name)
            else:
                assert got == want, (obj, name)
    # and through a template, a key that a dict method shadows still reads the method
    template = "{{ d.id }} {{ d['items'] }} {{ d.items is callable }} {{ d.get('id') }}"
    assert fast.from_string(template).render(d=doc) == plain.from_string(template).render(d=doc)


def test_the_line_breaks_are_what_splitlines_breaks_at_plus_a_tab():
    breaks = {chr(c) for c in range(0x3000) if len(f"a{chr(c)}b".splitlines()) == 2}
    assert breaks | {"\t"} == LINE_BREAKS


# parse_size as it was: every pattern searched in turn ("30b-a3b", "8x7b", "70b"), a size being
# digits then `b`, with no letter, digit or dot right before and no letter or digit right after.
NUMBER = r"(\d+(?:\.\d+)?)"
EDGE, END = r"(?<![a-z0-9.])", r"(?![a-z0-9])"
SIZE_MOE = re.compile(EDGE + NUMBER + r"b[-_ ]?a" + NUMBER + "b" + END)
SIZE_MIX = re.compile(EDGE + r"(\d+)x" + NUMBER + "b" + END)
SIZE_PLAIN = re.compile(EDGE + NUMBER + "b" + END)


def slow_parse_size(text):
    """(total, active) in billions, (None, None) when the text names no size."""
    low = text.lower()
    if m := SIZE_MOE.search(low):
        return float(m.group(1)), float(m.group(2))
    if m := SIZE_MIX.search(low):
        return float(m.group(1)) * float(m.group(2)), None
    if m := SIZE_PLAIN.search(low):
        return float(m.group(1)), None
    return None, None


def test_parse_size_equals_searching_every_pattern():
    from catalog.output.modelfacts import parse_size

    rng = random.Random(7)
    samples = ["llama-3-70b", "qwen3-30b-a3b", "mixtral-8x7b", "80B-A3B", "8X22B", "b-1b", "x1.5b", "2b a3b"]
    samples += ["".join(rng.choice("0123456789.bBxXa-_ /") for _ in range(rng.randint(0, 14))) for _ in range(20000)]
    by_hand = {
        "llama-3-70b": (70, None),
        "qwen3-30b-a3b": (30, 3),
        "mixtral-8x7b": (56, None),
        "80B-A3B": (80, 3),
        "8X22B": (176, None),
        "b-1b": (1, None),
        "x1.5b": (None, None),
        "2b a3b": (2, 3),
    }
    for text, want in by_hand.items():
        assert slow_parse_size(text) == want, text
    for text in samples:
        size = parse_size(text)
        assert (size.total_b, size.active_b) == slow_parse_size(text), text
        assert size.source is None, text
