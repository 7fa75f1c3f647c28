"""The Atom feed and the SVG charts: valid XML obeying the rules, stable across re-renders, hostile
text escaped, and byte-identical charts after a replay of the real captures."""

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC
from pathlib import Path

from conftest import capture_time, captures
from fakeapi import catalog_doc, model

ATOM = "{http://www.w3.org/2005/Atom}"
SVG = "{http://www.w3.org/2000/svg}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
HOSTILE = 'evil/<script>alert("x")</script>&amp;\x01\x0b:free'
BASE = [model("google/gemma-3-27b-it:free"), model("qwen/qwen3-coder:free", context_length=131072)]


def sync(tmp_path, models, day, *extra, cli):
    answer = tmp_path / f"answer-{day}.json"
    answer.write_text(json.dumps(catalog_doc(models)))
    result = cli(
        "sync",
        "--db",
        tmp_path / "reg.db",
        "--from-file",
        answer,
        "--out",
        tmp_path / "out",
        "--observed-at",
        f"2026-01-{day:02d}T06:00:00Z",
        *extra,
    )
    assert result.code == 0, result.err
    return result


def feed(tmp_path) -> ET.Element:
    return ET.parse(tmp_path / "out" / "free-models.atom").getroot()


def entries(root):
    return root.findall(f"{ATOM}entry")


def test_the_feed_is_valid_atom_newest_first_with_stable_ids(tmp_path, cli):
    sync(tmp_path, BASE, 1, cli=cli)
    sync(tmp_path, [BASE[0], model("qwen/qwen3-coder:free", context_length=262144)], 2, cli=cli)
    first = feed(tmp_path)
    sync(tmp_path, [BASE[0]], 3, cli=cli)
    root = feed(tmp_path)
    for element in (root, *entries(root)):
        assert element.findtext(f"{ATOM}id") and element.findtext(f"{ATOM}title")
        assert RFC3339.match(element.findtext(f"{ATOM}updated"))
    assert root.findtext(f"{ATOM}id") == first.findtext(f"{ATOM}id")
    titles = [e.findtext(f"{ATOM}title") for e in entries(root)]
    assert titles[0] == "removed: qwen/qwen3-coder:free (delisted)"
    assert "changed: qwen/qwen3-coder:free context_length 131072 → 262144" in titles[1:3]
    assert sorted(titles[3:]) == ["added: google/gemma-3-27b-it:free", "added: qwen/qwen3-coder:free"]
    assert root.findtext(f"{ATOM}updated") == entries(root)[0].findtext(f"{ATOM}updated") == "2026-01-03T06:00:00Z"
    updated = [e.findtext(f"{ATOM}updated") for e in entries(root)]
    assert updated == sorted(updated, reverse=True)
    ids = {e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}id") for e in entries(root)}
    assert all(re.fullmatch(r"tag:[^,]+,\d{4}-\d{2}-\d{2}:registry/[0-9a-f]{16}/event/\d+", i) for i in ids.values())
    assert {e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}id") for e in entries(first)}.items() <= ids.items()
    cats = {(c.get("scheme").rsplit("/", 1)[1], c.get("term")) for c in entries(root)[0].findall(f"{ATOM}category")}
    assert cats == {("kind", "removed"), ("vendor", "qwen")}
    assert "Why: no longer listed." in entries(root)[0].findtext(f"{ATOM}content")
    assert root.find(f"{ATOM}link") is None  # no url configured: no self link, same id
    before = (tmp_path / "out" / "free-models.atom").read_bytes()
    assert cli("render", "--db", tmp_path / "reg.db", "--out", tmp_path / "out").code == 0
    assert (tmp_path / "out" / "free-models.atom").read_bytes() == before


def test_the_feed_limit_and_self_link(tmp_path, cli):
    (tmp_path / "catalog.toml").write_text('[feed]\nlimit = 2\nurl = "https://example.org/cat/free-models.atom"\n')
    sync(tmp_path, BASE, 1, cli=cli)
    sync(tmp_path, [*BASE, model("a/b:free")], 2, cli=cli)
    root = feed(tmp_path)
    assert [e.findtext(f"{ATOM}title") for e in entries(root)] == ["added: a/b:free", "added: qwen/qwen3-coder:free"]
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "self": "https://example.org/cat/free-models.atom",
        "alternate": "https://example.org/cat/free-models.md",
    }
    assert (
        cli(
            "render", "--db", tmp_path / "reg.db", "--out", tmp_path / "out", "--feed-url", "https://x.test/f.atom"
        ).code
        == 0
    )
    assert {link.get("rel"): link.get("href") for link in feed(tmp_path).findall(f"{ATOM}link")}[
        "self"
    ] == "https://x.test/f.atom"
    assert feed(tmp_path).findtext(f"{ATOM}id") == root.findtext(f"{ATOM}id")


def test_hostile_names_stay_text_in_the_feed_and_the_charts(tmp_path, cli):
    sync(tmp_path, BASE, 1, cli=cli)
    sync(tmp_path, [*BASE, model(HOSTILE, name="<b>x</b>")], 2, cli=cli)
    root = feed(tmp_path)
    shown = 'evil/<script>alert("x")</script>&amp; :free'  # control characters dropped or spaced, the rest is text
    assert entries(root)[0].findtext(f"{ATOM}title") == f"added: {shown}"
    timeline = ET.parse(tmp_path / "out" / "free-models-timeline.svg").getroot()
    assert shown in [t.text for t in timeline.iter(f"{SVG}title")]
    for name in ("free-models.atom", "free-models-timeline.svg"):
        text = (tmp_path / "out" / name).read_text()
        assert "<script>" not in text and "&lt;script&gt;" in text


def check_svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg" and re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root[0].tag == f"{SVG}title" and root[0].text
    text = path.read_text()
    for forbidden in ("<script", "foreignObject", "href", "url(", "@import", "onload="):
        assert forbidden not in text
    return root


def test_charts_are_safe_svg_embedded_in_the_report_and_switchable(tmp_path, cli):
    sync(tmp_path, BASE, 1, cli=cli)
    sync(tmp_path, [BASE[0]], 5, cli=cli)
    sync(tmp_path, BASE, 9, cli=cli)
    out = tmp_path / "out"
    count = check_svg(out / "free-models-count.svg")
    assert "2 free now" in "".join(count.itertext())
    timeline = check_svg(out / "free-models-timeline.svg")
    rows = {
        g.findtext(f"{SVG}title"): [r.get("fill") for r in g.iter(f"{SVG}rect") if r.get("fill") != "#f6f8fa"]
        for g in timeline.iter(f"{SVG}g")
    }
    # gemma: one period; qwen: two, the first ending in a red (delisted) mark
    assert rows == {
        "google/gemma-3-27b-it:free": ["#2da44e"],
        "qwen/qwen3-coder:free": ["#2da44e", "#2da44e", "#cf222e"],
    }
    md = (out / "free-models.md").read_text()
    assert md.index("![Free models over time](free-models-count.svg)") < md.index("## 🕒 Recent changes")
    assert "![When each model was free](free-models-timeline.svg)" in md
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = cli("render", "--db", tmp_path / "reg.db", "--out", out)
    assert result.code == 0 and "0 written" in result.out
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    zh = cli("render", "--db", tmp_path / "reg.db", "--out", tmp_path / "zh", "--lang", "zh")
    assert (
        zh.code == 0
        and "![免费模型数量变化](free-models-count.svg)" in (tmp_path / "zh" / "free-models.md").read_text()
    )
    check_svg(tmp_path / "zh" / "free-models-count.svg")
    bare = cli("render", "--db", tmp_path / "reg.db", "--out", tmp_path / "bare", "--no-charts")
    assert bare.code == 0 and sorted(p.name for p in (tmp_path / "bare").iterdir()) == [
        "free-model-pool.json",
        "free-model-pool.ts",
        "free-models.atom",
        "free-models.json",
        "free-models.md",
        "free-models.schema.json",
    ]
    assert ".svg" not in (tmp_path / "bare" / "free-models.md").read_text()


def test_the_timeline_window_counts_back_from_the_newest_run(tmp_path, cli):
    (tmp_path / "catalog.toml").write_text("[charts]\ndays = 3\n")
    sync(tmp_path, [*BASE, model("old/gone:free")], 1, cli=cli)
    sync(tmp_path, BASE, 2, cli=cli)
    sync(tmp_path, BASE, 9, cli=cli)
    root = ET.parse(tmp_path / "out" / "free-models-timeline.svg").getroot()
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "old/gone:free" not in labels and "google/gemma-3-27b-it:free" in labels
    assert root[0].text == "When each model was free (last 3 days: 2026-01-07 – 2026-01-09)"  # whole days


def replay(tmp_path: Path, cli, name: str) -> dict[str, bytes]:
    folder = tmp_path / name
    folder.mkdir()
    files = []
    for path in captures():
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        stamp = cli_time(capture_time(path))
        os.utime(copy, (stamp, stamp))
        files.append(copy)
    out = folder / "out"
    assert cli("import", "--db", folder / "reg.db", "--out", out, *files).code == 0
    return {p.name: p.read_bytes() for p in out.iterdir()}


def cli_time(text: str) -> float:
    from catalog.commands.cliutil import parse_time_arg

    return parse_time_arg(text).timestamp()


def test_charts_from_the_real_captures_are_byte_identical_across_replays(tmp_path, cli):
    first, second = replay(tmp_path, cli, "a"), replay(tmp_path, cli, "b")
    for name in ("free-models-count.svg", "free-models-timeline.svg"):
        assert first[name] == second[name]
        check_svg(tmp_path / "a" / "out" / name)
    root = ET.parse(tmp_path / "a" / "out" / "free-models.atom").getroot()
    # One entry per event, under the 100 cap: the five fixtures differ by 55 membership and context
    # events (32 first seen, then 2 + 7 + 6 + 8: see fixtures/README.md) and by 14 changes of other
    # tracked fields (supported_parameters 9, top_provider.* 4, expiration_date 1), checked by hand.
    assert len(entries(root)) == 69 and root.findtext(f"{ATOM}updated") == "2026-01-29T04:04:00Z"
    result = cli("render", "--db", tmp_path / "a" / "reg.db", "--out", tmp_path / "a" / "out")
    assert result.code == 0 and "0 written" in result.out


def test_chart_geometry_is_pure_and_handles_the_edges():
    from datetime import datetime, timedelta

    from catalog.output.charts import count_chart, nice_max, timeline_chart
    from catalog.registry.history import Period

    t = datetime(2026, 1, 10, tzinfo=UTC)
    assert [nice_max(n) for n in (0, 1, 7, 33, 87, 400)] == [(1, 1), (1, 1), (8, 2), (40, 10), (100, 25), (400, 100)]
    one = count_chart([(t + timedelta(hours=18, minutes=30), 5)])  # a single run: a point, dated by its run
    assert one["current"]["count"] == 5 and one["line"] == one["area"] == ""
    assert [tick["label"] for tick in one["x_ticks"]] == ["2026-01-10"]
    assert one["x_ticks"][0]["x"] == one["current"]["x"] != one["frame"]["right"]
    # Later runs of that day that change nothing leave the same point (an unchanged resync need not render).
    assert count_chart([(t + timedelta(hours=18, minutes=30), 5), (t + timedelta(hours=23), 5)]) == one
    two = count_chart([(t + timedelta(hours=6), 5), (t + timedelta(hours=18), 7)])  # one day: its own date
    assert [tick["label"] for tick in two["x_ticks"]] == ["2026-01-10"] and two["line"].count("V") == 1
    steps = count_chart([(t, 5), (t + timedelta(hours=1), 5), (t + timedelta(hours=2), 7)])
    assert steps["line"].count("V") == 1  # a level only breaks where the count changes
    assert steps == count_chart([(t, 5), (t + timedelta(hours=1), 5), (t + timedelta(hours=2), 7)])
    empty = timeline_chart([Period("a/b", t - timedelta(days=200), t - timedelta(days=150), "now_paid")], t, 90)
    assert empty["rows"] == [] and empty["more"] == 0
    many = [Period(f"v/m{i:03d}", t - timedelta(days=1)) for i in range(250)]
    chart = timeline_chart(many, t, 90)
    assert len(chart["rows"]) == 200 and chart["more"] == 50 and chart["rows"][0]["label"] == "v/m000"


def test_a_registry_of_one_run_dates_its_charts_by_that_run(tmp_path, cli):
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(catalog_doc(BASE)))
    out = tmp_path / "out"
    result = cli("sync", "--db", tmp_path / "reg.db", "--from-file", answer, "--out", out,
                 "--observed-at", "2026-12-04T18:30:00Z")  # fmt: skip
    assert result.code == 0, result.err
    count = check_svg(out / "free-models-count.svg")
    labels = [t.text for t in count.iter(f"{SVG}text")]
    assert "2026-12-04" in labels and "2026-12-05" not in labels
    assert "2 free now" in labels
    assert count.find(f"{SVG}path") is None  # no flat bar across the width: one point
    (point,) = count.iter(f"{SVG}circle")
    (tick,) = [t for t in count.iter(f"{SVG}text") if t.text == "2026-12-04"]
    assert point.get("cx") == tick.get("x")
    timeline = check_svg(out / "free-models-timeline.svg")
    dates = [t.text for t in timeline.iter(f"{SVG}text") if t.text and re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.text)]
    assert dates == ["2026-12-04"]
