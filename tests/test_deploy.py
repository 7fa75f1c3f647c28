"""`catalog deploy`: systemd units that systemd accepts, and crontab lines that really run a sync."""

from __future__ import annotations

import getpass
import itertools
import os
import re
import shlex
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import rows
from fakeapi import catalog_doc, model

from catalog.commands.deploy import catalog_executable
from catalog.commands.deploy_schedule import calendar_spec, cron_schedule, spread
from catalog.durations import parse_duration
from catalog.errors import UsageError

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed")

GOOD_SERVICE = "[Unit]\nDescription=probe\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n"


def unit_settings(text: str) -> dict[str, list[str]]:
    """Key -> values of a unit file (comments skipped)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def verify(paths: list[Path], *, user: bool, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    args = [SYSTEMD_ANALYZE]
    if user:
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)  # a user manager needs one, even just to verify
        args.append("--user")
    return subprocess.run([*args, "verify", *map(str, paths)], capture_output=True, text=True, env=env, timeout=60)


def require_working_verify(tmp_path: Path, user: bool) -> None:
    """Skip where `systemd-analyze verify` cannot work at all (some containers), judged on a trivial unit."""
    probe = tmp_path / "probe" / "catalog-probe.service"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(GOOD_SERVICE)
    result = verify([probe], user=user, tmp_path=tmp_path)
    if result.returncode != 0:
        pytest.skip(f"systemd-analyze verify does not work here: {result.stderr.strip()[:200]}")


@pytest.fixture
def deployed(cli, tmp_path, monkeypatch):
    """Units written to tmp_path/units. A system unit runs as you (`--run-as`, as a non-root user
    gets by default) unless `dynamic`: deployed as root, with no `--run-as`."""

    def run(*extra, dynamic: bool = False) -> tuple[dict[str, str], str]:
        if dynamic:
            monkeypatch.setattr("catalog.commands.deploy.default_run_as", lambda: None)  # as root does
        elif "--user" not in extra and "--run-as" not in extra:
            extra = (*extra, "--run-as", getpass.getuser())
        result = cli(
            "deploy", "systemd", "--db", "data/catalog.db", "--out", "site/generated", "--write", "units", *extra
        )
        assert result.code == 0, result.err
        units = {path.name: path.read_text() for path in sorted((tmp_path / "units").iterdir())}
        return units, result.out

    return run


# --------------------------------------------------------------------------- systemd


def test_units_carry_absolute_paths_and_hardening(deployed, tmp_path):
    units, out = deployed()
    assert sorted(units) == ["catalog-sync.service", "catalog-sync.timer"]
    service = unit_settings(units["catalog-sync.service"])
    exec_start = shlex.split(service["ExecStart"][0])
    assert exec_start[: len(catalog_executable())] == catalog_executable()
    assert Path(exec_start[0]).is_absolute() and Path(exec_start[0]).exists()
    db, out_dir = tmp_path / "data", tmp_path / "site" / "generated"
    assert exec_start[exec_start.index("sync") :] == ["sync", "--db", str(db / "catalog.db"), "--out", str(out_dir)]
    assert service["Type"] == ["oneshot"]
    assert sorted(service["ReadWritePaths"][0].split()) == sorted([str(db.resolve()), str(out_dir)])
    for key, value in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"), ("ProtectHome", "read-only"),
                       ("PrivateDevices", "yes"), ("MemoryDenyWriteExecute", "yes"), ("LockPersonality", "yes"),
                       ("SystemCallFilter", "@system-service"), ("SuccessExitStatus", "75")]:  # fmt: skip
        assert service[key] == [value], key
    assert set(service["RestrictAddressFamilies"][0].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    # ReadWritePaths= refuses to start a unit whose folders are missing: deploy creates them.
    assert db.is_dir() and out_dir.is_dir()
    timer = unit_settings(units["catalog-sync.timer"])
    assert timer["Persistent"] == ["true"] and timer["Unit"] == ["catalog-sync.service"]
    assert re.fullmatch(r"\*-\*-\* \*:[0-5]\d:00", timer["OnCalendar"][0])
    assert "systemctl enable --now catalog-sync.timer" in out
    assert "systemctl list-timers catalog-sync.timer" in out


def test_user_units_need_no_privileges(deployed):
    units, out = deployed("--user", "--every", "90m")
    service = unit_settings(units["catalog-sync.service"])
    assert "User" not in service and "ProtectSystem" not in service  # no mount namespaces in a user manager
    assert service["NoNewPrivileges"] == ["yes"]
    timer = unit_settings(units["catalog-sync.timer"])
    assert timer["OnUnitActiveSec"] == ["1h 30min"] and "OnCalendar" not in timer
    assert "systemctl --user enable --now catalog-sync.timer" in out
    assert "loginctl enable-linger" in out


def test_printing_writes_nothing(cli, tmp_path):
    result = cli("deploy", "systemd", "--db", "catalog.db", "--every", "6h")
    assert result.code == 0
    assert "[Service]" in result.out and "[Timer]" in result.out and "--write" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_deployed_as_root_the_unit_runs_as_a_dynamic_unprivileged_user(deployed, tmp_path):
    units, out = deployed(dynamic=True)
    service = unit_settings(units["catalog-sync.service"])
    assert "User" not in service and service["DynamicUser"] == ["yes"]  # never root
    state = "/var/lib/catalog-sync"
    assert service["StateDirectory"] == ["catalog-sync catalog-sync/data catalog-sync/site/generated"]
    assert service["WorkingDirectory"] == [state]
    exec_start = shlex.split(service["ExecStart"][0])
    assert exec_start[exec_start.index("sync") :] == [
        "sync", "--db", f"{state}/data/catalog.db", "--out", f"{state}/site/generated"
    ]  # fmt: skip
    assert "ReadWritePaths" not in service  # StateDirectory= folders are the writable ones
    assert service["ProtectSystem"] == ["strict"] and service["PrivateTmp"] == ["yes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units"]  # systemd makes the folders, not deploy
    assert f"status --db {state}/data/catalog.db" in out


def test_a_dynamic_user_cannot_be_given_a_folder_outside_its_own(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("catalog.commands.deploy.default_run_as", lambda: None)
    for option in (("--db", str(tmp_path / "elsewhere" / "catalog.db")), ("--out", "/srv/generated")):
        result = cli("deploy", "systemd", *option, "--write", "units")
        assert result.code == 2 and result.err.count("\n") == 1
        assert "outside /var/lib/catalog-sync" in result.err and "--run-as USER" in result.err
    assert not (tmp_path / "units").exists() and not (tmp_path / "elsewhere").exists()
    postgres = cli("deploy", "systemd", "--db", "postgresql+psycopg://catalog@db.example/catalog")
    assert postgres.code == 0 and "StateDirectory=catalog-sync catalog-sync/generated\n" in postgres.out


@needs_systemd_analyze
@pytest.mark.parametrize("every", ["1h", "15m", "6h", "1d", "7d", "90m", "45s"])
@pytest.mark.parametrize("mode", ["system", "dynamic", "user"])
def test_systemd_accepts_the_rendered_units(deployed, tmp_path, every, mode):
    user = mode == "user"
    require_working_verify(tmp_path, user)
    units, _ = deployed("--every", every, *(["--user"] if user else []), dynamic=mode == "dynamic")
    result = verify([tmp_path / "units" / name for name in units], user=user, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "catalog-sync" not in result.stderr, result.stderr  # no "unknown key", "ignoring" and the like


@needs_systemd_analyze
@pytest.mark.parametrize("every", ["1m", "15m", "20m", "1h", "2h", "6h", "1d", "7d"])
def test_calendar_specs_fire_once_per_period(every):
    period = parse_duration(every)
    spec = calendar_spec(period, "/srv/catalog.db")
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "calendar", "--iterations=4", spec],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+|Iteration #\d+): \w+ (\S+ \S+)", result.stdout)
    times = [datetime.fromisoformat(stamp) for stamp in stamps]
    assert len(times) == 4
    assert {later - earlier for earlier, later in itertools.pairwise(times)} == {period}


def test_calendar_is_none_where_a_calendar_cannot_repeat_evenly():
    for every in ("90m", "45m", "7h", "2d", "45s"):
        assert calendar_spec(parse_duration(every), "/srv/catalog.db") is None


def test_bad_unit_names_are_refused(cli):
    result = cli("deploy", "systemd", "--name", "my sync")
    assert result.code == 2 and "--name" in result.err


# --------------------------------------------------------------------------- cron


@pytest.mark.parametrize(
    "every, pattern",
    [("1m", r"\* \* \* \* \*"), ("15m", r"(\d+),(\d+),(\d+),(\d+) \* \* \* \*"), ("1h", r"(\d+) \* \* \* \*"),
     ("6h", r"(\d+) (\d+),(\d+),(\d+),(\d+) \* \* \*"), ("1d", r"(\d+) (\d+) \* \* \*"), ("7d", r"(\d+) (\d+) \* \* [0-6]")],
)  # fmt: skip
def test_cron_schedules(every, pattern):
    fields = cron_schedule(parse_duration(every), "/srv/catalog.db")
    match = re.fullmatch(pattern, fields)
    assert match, fields
    numbers = [int(n) for n in match.groups()]
    if every == "15m":
        assert [b - a for a, b in itertools.pairwise(numbers)] == [15, 15, 15] and numbers[0] < 15
    if every == "6h":
        assert [b - a for a, b in itertools.pairwise(numbers[1:])] == [6, 6, 6] and numbers[1] < 6


def test_cron_minutes_are_stable_per_registry_and_spread_across_registries():
    hourly = timedelta(hours=1)
    assert cron_schedule(hourly, "/srv/a.db") == cron_schedule(hourly, "/srv/a.db")
    minutes = {cron_schedule(hourly, f"/srv/{n}.db").split()[0] for n in range(30)}
    assert len(minutes) > 10
    assert all(0 <= spread(f"/srv/{n}.db", 7) < 7 for n in range(30))


@pytest.mark.parametrize("every", ["90m", "45m", "7h", "2d", "45s", "1h30s"])
def test_cron_refuses_periods_it_cannot_repeat_evenly(every):
    with pytest.raises(UsageError) as caught:
        cron_schedule(parse_duration(every), "/srv/catalog.db")
    assert "systemd" in str(caught.value)


def test_the_cron_line_runs_a_sync_as_cron_would(cli, tmp_path, fake_api):
    """Paths with a space and a `%` (which ends a crontab command unless escaped) still work."""
    fake_api.serve(catalog_doc([model("a/one:free"), model("b/two:free")]))
    folder = tmp_path / "my data 100%"
    folder.mkdir()
    result = cli(
        "deploy", "cron", "--every", "30m", "--db", folder / "catalog.db", "--api-url", fake_api.url, "--no-render"
    )
    assert result.code == 0, result.err
    line = result.out.splitlines()[-1]
    assert result.out.count("\n") == len(result.out.splitlines())
    assert all(comment.startswith("#") for comment in result.out.splitlines()[:-1])
    minute, hour, dom, month, dow, command = line.split(" ", 5)
    assert (hour, dom, month, dow) == ("*", "*", "*", "*")
    assert re.fullmatch(r"\d+,\d+", minute)
    assert "%" not in command.replace("\\%", "")
    # cron turns `\%` into `%` and hands the rest to /bin/sh, from another working directory.
    done = subprocess.run(
        ["/bin/sh", "-c", command.replace("\\%", "%")], cwd="/", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert rows(folder / "catalog.db", "SELECT status, free_count FROM runs") == [("ok", 2)]
    assert "2 free" in (folder / "catalog-sync.log").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can hand folders to another user")
def test_run_as_gets_the_folders_it_must_write(deployed, tmp_path):
    import pwd

    units, _ = deployed("--run-as", "nobody")
    assert unit_settings(units["catalog-sync.service"])["User"] == ["nobody"]
    nobody = pwd.getpwnam("nobody").pw_uid
    assert (tmp_path / "data").stat().st_uid == nobody
    assert (tmp_path / "site" / "generated").stat().st_uid == nobody


def test_run_as_an_unknown_user_is_refused_before_writing(cli, tmp_path):
    result = cli("deploy", "systemd", "--db", "data/catalog.db", "--run-as", "no-such-user-here", "--write", "units")
    assert result.code == 2 and "no such user" in result.err
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def open_folder():
    """A folder every user may enter, in the shared temp folder (pytest's own is private)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="catalog-deploy-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_program_every_user_can_reach_gets_no_warning(open_folder):
    from catalog.commands.deploy_access import hidden_from_others

    program = open_folder / "catalog"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    assert hidden_from_others([str(program), "sync"]) is None
    program.chmod(0o700)  # only its owner may run it
    assert hidden_from_others([str(program), "sync"]) == program
    private = open_folder / "private"
    private.mkdir(mode=0o700)
    (private / "python3").write_text("")
    (private / "python3").chmod(0o755)
    program.write_text(f"#!{private / 'python3'}\n")
    program.chmod(0o755)
    assert hidden_from_others([str(program), "sync"]) == private  # the script's interpreter is out of reach
    link = open_folder / "link"
    link.symlink_to(private / "python3")
    assert hidden_from_others([str(link)]) == private  # through a symlink (a venv's python) too


def test_deployed_as_root_it_warns_when_its_user_cannot_start_catalog(cli, monkeypatch, open_folder):
    monkeypatch.setattr("catalog.commands.deploy.default_run_as", lambda: None)
    private = open_folder / "home"
    private.mkdir(mode=0o700)
    monkeypatch.setattr("catalog.commands.deploy.catalog_executable", lambda: [str(private / "catalog")])
    result = cli("deploy", "systemd")
    assert result.code == 0
    assert f"warning: the unit's unprivileged user cannot reach {private}:" in result.err
    assert "--run-as USER" in result.err
    assert "warning" not in cli("deploy", "systemd", "--run-as", getpass.getuser()).err  # only for the dynamic user
    monkeypatch.setattr("catalog.commands.deploy.catalog_executable", lambda: ["/bin/sh"])
    assert "warning" not in cli("deploy", "systemd").err
