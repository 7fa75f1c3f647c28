"""Every number in catalog.toml has a range: out of range, infinite, NaN, too long or nested too
deeply is one line naming the key (or the file), exit 1, and nothing written; the command-line
options that feed the same settings refuse the same kinds of value."""

import json

import pytest
from fakeapi import catalog_doc, model

WEBHOOK = '[[notify.webhook]]\nurl = "https://x.example/secret-path"\n'

BAD = [
    ("[charts]\ndays = 100000000\n", "`charts.days` must be a whole number from 1 to 3,650"),
    ("[charts]\ndays = 9223372036854775807\n", "`charts.days`"),
    ("[charts]\ndays = 0\n", "`charts.days`"),
    ('[notify]\nmax_age = "99999999999999d"\n', "`notify.max_age`: '99999999999999d' must be at most 365d"),
    ('[notify]\nmax_age = "400d"\n', "`notify.max_age`: '400d' must be at most 365d"),
    ('[notify]\nmax_age = "' + "9" * 5000 + 's"\n', "`notify.max_age`"),
    ("[rules]\nprobe_hours = 9223372036854775807\n", "`rules.probe_hours` must be a whole number from 1 to 8,760"),
    ("[rules]\nprobe_hours = 8761\n", "`rules.probe_hours`"),
    ("[rules]\nsmall_max_b = inf\n", "`rules.small_max_b` must be a number above 0 and at most 100,000"),
    ("[rules]\nsmall_max_b = nan\n", "`rules.small_max_b`"),
    ("[rules]\nlarge_min_b = 1e400\n", "`rules.large_min_b`"),
    ("[rules]\ndegraded_points = -inf\n", "`rules.degraded_points`"),
    ("[rules]\navailability_points = 1e308\n", "`rules.availability_points`"),
    ("[rules]\navailability_min = 1.5\n", "`rules.availability_min` must be a number above 0 and at most 1"),
    ("[rules]\nfast_latency_ms = 1e18\n", "`rules.fast_latency_ms`"),
    ("[rules]\nlarge_min_context = 9223372036854775808\n", "`rules.large_min_context`"),
    ("[rules]\ncode_fill = 1001\n", "`rules.code_fill` must be a whole number from 0 to 1,000"),
    ("[pools]\ncap = 99999999999999999999\n", "`pools.cap` must be a whole number from 1 to 1,000"),
    ("[pools.SMALL]\ncap = 1001\n", "`pools.SMALL.cap`"),
    ("[pools.LONG]\nmin_context = 9223372036854775807\n", "`pools.LONG.min_context`"),
    ("[pools.LONG]\nmax_b = inf\n", "`pools.LONG.max_b`"),
    ("[pools.LONG]\nmin_b = nan\n", "`pools.LONG.min_b`"),
    ("[feed]\nlimit = 1001\n", "`feed.limit` must be a whole number from 1 to 1,000"),
    (WEBHOOK + "timeout = inf\n", "`notify.webhook[0].timeout`"),
    (WEBHOOK + "timeout = nan\n", "`notify.webhook[0].timeout`"),
    ("x = " + "[" * 100000 + "]" * 100000 + "\n", "is not valid TOML: arrays or tables nested too deeply"),
    ("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "is not valid TOML: arrays or tables nested too deeply"),
    ("[charts]\ndays = " + "9" * 5000 + "\n", "is not valid TOML: a number has too many digits"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[f"{i}:{b[:30]}" for i, (b, _) in enumerate(BAD)])
def test_a_value_out_of_range_stops_the_sync_with_one_line_before_anything_is_written(tmp_path, cli, body, message):
    (tmp_path / "c.toml").write_text(body)
    (tmp_path / "answer.json").write_text(json.dumps(catalog_doc([model("a/b:free")])))
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("sync", "--from-file", "answer.json", "--db", "reg.db", "--out", "gen", "--config", "c.toml")
    assert result.code == 1 and result.out == ""
    assert result.err.startswith("catalog: error: c.toml") and result.err.count("\n") == 1, result.err
    assert message in result.err
    assert "secret-path" not in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no registry, no lock file, no output


@pytest.mark.parametrize("command", ["import", "render"])
def test_import_and_render_check_the_file_before_writing_too(tmp_path, cli, command):
    (tmp_path / "c.toml").write_text("[charts]\ndays = 9223372036854775807\n")
    (tmp_path / "answer.json").write_text(json.dumps(catalog_doc([model("a/b:free")])))
    if command == "render":  # a registry to render, made without the file
        assert cli("sync", "--from-file", "answer.json", "--db", "reg.db", "--no-render").code == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    source = ["answer.json"] if command == "import" else []
    result = cli(command, *source, "--db", "reg.db", "--out", "gen", "--config", "c.toml")
    assert result.code == 1 and "`charts.days`" in result.err and result.err.count("\n") == 1
    after = sorted(p.name for p in tmp_path.iterdir())
    assert "gen" not in after and ("reg.db" in before or "reg.db" not in after)  # no output, no new registry


def test_pools_explain_refuses_an_infinite_size_bound_instead_of_printing_infinity(tmp_path, cli):
    (tmp_path / "answer.json").write_text(json.dumps(catalog_doc([model("a/b:free")])))
    assert cli("sync", "--from-file", "answer.json", "--db", "reg.db", "--no-render").code == 0
    (tmp_path / "c.toml").write_text("[rules]\nsmall_max_b = inf\n")
    result = cli("pools", "--explain", "--format", "json", "--db", "reg.db", "--config", "c.toml")
    assert result.code == 1 and result.out == "" and "`rules.small_max_b`" in result.err


@pytest.mark.parametrize(
    "body",
    [
        "[charts]\ndays = 3650\n",
        '[notify]\nmax_age = "365d"\n',
        "[rules]\nprobe_hours = 8760\navailability_min = 1\ncode_fill = 0\nsmall_max_b = 100000\n",
        "[pools]\ncap = 1000\n[pools.LONG]\nmin_context = 1000000000\nmax_b = 0.5\n",
        "[feed]\nlimit = 1000\n",
        WEBHOOK + "timeout = 300\n",
    ],
)
def test_the_ends_of_each_range_are_accepted(tmp_path, body):
    from catalog.config.loader import load_config

    (tmp_path / "c.toml").write_text(body)
    load_config(tmp_path / "c.toml")


@pytest.mark.parametrize(
    "option, value",
    [
        ("--timeout", "inf"),
        ("--timeout", "nan"),
        ("--timeout", "1e300"),
        ("--health-timeout", "inf"),
        ("--wait", "inf"),
        ("--budget", "99999999999999999999"),
        ("--reserve", "9223372036854775808"),
        ("--health-concurrency", "9223372036854775808"),
        ("--health-keep", "99999999999999d"),
        ("--health-keep", "3651d"),
    ],
)
def test_command_line_numbers_out_of_range_are_refused_before_anything_is_written(tmp_path, cli, option, value):
    (tmp_path / "answer.json").write_text(json.dumps(catalog_doc([model("a/b:free")])))
    result = cli("sync", "--from-file", "answer.json", "--db", "reg.db", "--out", "gen", option, value)
    assert result.code == 2 and f"argument {option}" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.json"]


def test_durations_have_a_maximum():
    from datetime import timedelta

    from catalog.durations import parse_duration

    assert parse_duration("3650d") == timedelta(days=3650)
    for text in ("3651d", "99999999999999d", "9" * 5000 + "s", "522w"):
        with pytest.raises(ValueError, match="must be at most 3650d"):
            parse_duration(text)
    with pytest.raises(ValueError, match="must be at most 1d"):
        parse_duration("25h", maximum=timedelta(days=1))
