"""The documentation: the generated CLI reference is current; every command and option is described
in the hand-written manual under its own command; the README stays a short front page whose
quickstart CI runs; nothing cites the issue tracker; the MkDocs site builds with --strict.

The rule for "under its own command": every command without subcommands (and any command with
options of its own) has a Markdown heading whose text, without backticks, is exactly its command
line (``## `catalog sync` ``, ``## `catalog deploy cron` ``) on a page of docs/ other than the
generated cli.md, and each of its long options appears in that heading's section: from the heading
to the next heading of the same or a higher level. The options every command takes (COMMON) are
described once instead, in the section "Options every command takes".
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
README = (REPO / "README.md").read_text(encoding="utf-8")
GENERATED = {"cli.md"}
COMMON = ("--db", "--verbose", "--log-format")
COMMON_SECTION = "Options every command takes"
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
ISSUE_REFERENCE = re.compile(
    r"\bissues?\s*(?:#|no\.?\s*|number\s*)?\d+|\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?)\s+#\d+|\bGH-\d+",
    re.IGNORECASE,
)


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def commands(parser: argparse.ArgumentParser, prefix=("catalog",)):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from commands(sub, (*prefix, name))


def has_subcommands(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        if action.help is not argparse.SUPPRESS
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


def documented_commands():
    """(command line, parser) of every command that needs a section of its own."""
    for path, parser in commands(build_parser()):
        own = [o for o in long_options(parser) if o not in COMMON]
        if not has_subcommands(parser) or own:
            yield " ".join(path), parser


def manual_pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if p.name not in GENERATED)


def sections() -> dict[str, list[tuple[str, str]]]:
    """Heading text (backticks removed) -> [(page, the section's text)], headings in code blocks ignored."""
    found: dict[str, list[tuple[str, str]]] = {}
    for page in manual_pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        headings, fenced = [], False
        for i, line in enumerate(lines):
            if FENCE.match(line):
                fenced = not fenced
            elif not fenced and (m := HEADING.match(line)):
                headings.append((i, len(m.group(1)), " ".join(m.group(2).replace("`", "").split())))
        for n, (start, level, title) in enumerate(headings):
            end = next((i for i, lv, _ in headings[n + 1 :] if lv <= level), len(lines))
            found.setdefault(title, []).append((page.name, "\n".join(lines[start:end])))
    return found


def mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_cli_reference_is_current():
    generator = load_generator()
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == generator.generate(), (
        "docs/cli.md is stale: run `python docs/gen_cli.py`"
    )


def test_cli_reference_lists_every_command_and_option():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path, parser in commands(build_parser()):
        assert f"catalog {' '.join(path[1:])}" in text
        for option in long_options(parser):
            assert f"`{option}`" in text, f"{' '.join(path)} {option}"


def test_gen_cli_check_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    generator = load_generator()
    page = tmp_path / "cli.md"
    monkeypatch.setattr(generator, "OUT", page)
    page.write_text("# CLI reference\n\nout of date\n", encoding="utf-8")
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "stale" in err and len(err.strip().splitlines()) == 1
    assert page.read_text(encoding="utf-8") == "# CLI reference\n\nout of date\n"  # --check writes nothing
    assert generator.main([]) == 0 and generator.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8") == generator.generate()


def test_every_command_has_a_section_of_its_own():
    found = sections()
    missing = [name for name, _ in documented_commands() if name not in found]
    assert missing == [], "each needs a heading such as '## `catalog sync`' in docs/*.md"
    twice = [(name, [page for page, _ in found[name]]) for name, _ in documented_commands() if len(found[name]) > 1]
    assert twice == []


def test_every_option_is_documented_under_its_own_command():
    found = sections()
    missing = []
    for name, parser in documented_commands():
        if name not in found:
            continue  # reported by the test above
        page, text = found[name][0]
        missing += [f"{name} {o} ({page})" for o in long_options(parser) if o not in COMMON and not mentions(text, o)]
    assert missing == []


def test_options_every_command_takes_are_documented_once():
    found = sections()
    assert COMMON_SECTION in found, f"no '{COMMON_SECTION}' heading in docs/*.md"
    ((_, text),) = found[COMMON_SECTION]
    assert [o for o in COMMON if not mentions(text, o)] == []
    # The exemption is honest: these options are the ones every command has.
    for path, parser in commands(build_parser()):
        if not has_subcommands(parser):
            assert set(COMMON) <= set(long_options(parser)), " ".join(path)


def test_readme_is_a_front_page():
    assert len(README.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README):
        if "://" not in target:
            assert (REPO / target).exists(), target


def test_no_issue_references():
    texts = {"README.md": README, "CHANGELOG.md": (REPO / "CHANGELOG.md").read_text(encoding="utf-8")}
    texts.update({f"docs/{p.name}": p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))})
    found = [(name, m.group(0)) for name, text in texts.items() for m in ISSUE_REFERENCE.finditer(text)]
    assert found == []


def test_quickstart_has_two_commands_and_ci_runs_the_test_one():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quickstart, re.S)
    assert len(blocks) == 2 and all(len(b.strip().splitlines()) == 1 for b in blocks)
    assert "catalog sync" in blocks[0]
    assert blocks[0].strip() == "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/catalog sync"
    assert blocks[1].strip() == "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/pytest -q"
    assert blocks[1].strip() in (REPO / ".ci" / "run").read_text()


def test_mkdocs_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
