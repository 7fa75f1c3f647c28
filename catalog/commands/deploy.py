"""`catalog deploy`: a systemd service + timer, or a crontab line, that run `catalog sync` on schedule.

Everything is rendered from templates in `templates/` with absolute paths of this installation
(the `catalog` executable, the registry, the output folder), because timers and cron start jobs
with another working directory and a bare PATH.

When each one runs is worked out in catalog.commands.deploy_schedule.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.commands.deploy_schedule import calendar_spec, cron_schedule, default_jitter, systemd_timespan
from catalog.durations import format_duration
from catalog.errors import RenderError, UsageError
from catalog.output.render import builtin_templates_dir
from catalog.registry.locations import sqlite_path
from catalog.registry.lock import lock_path

if TYPE_CHECKING:
    import jinja2

DEFAULT_NAME = "catalog-sync"
SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
STATE_ROOT = Path("/var/lib")  # systemd's StateDirectory= root for system units


@dataclass(frozen=True)
class Job:
    """What to run and where it writes; everything absolute."""

    command: list[str]  # argv of the sync
    db: str  # as passed to --db (absolute path, or URL)
    writable: list[Path]  # folders the sync writes
    private_tmp: bool  # False when the lock file lives in the shared temp folder
    name: str = DEFAULT_NAME
    # A system unit run as a dynamic unprivileged user: its folders are StateDirectory= entries
    # under this folder (/var/lib/NAME), made and handed to that user by systemd at each start.
    state_dir: Path | None = None

    def state_directories(self) -> list[str]:
        """StateDirectory= entries (relative to /var/lib): the job's folder, then each folder it
        writes inside it (the registry's, the output's)."""
        assert self.state_dir is not None
        inside = [p.relative_to(STATE_ROOT) for p in self.writable if p != self.state_dir]
        return [str(self.state_dir.relative_to(STATE_ROOT)), *map(str, inside)]


# --------------------------------------------------------------------------- the job


def catalog_executable() -> list[str]:
    """How to start this installation's `catalog`, as an absolute argv prefix."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "catalog" and argv0.is_file():
        return [str(argv0.absolute())]
    # Not resolved: a venv's python is a symlink, and resolving it would leave the venv.
    beside = Path(sys.executable).absolute().parent / "catalog"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("catalog")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "catalog"]


def state_dir(name: str) -> Path:
    """Where a system unit run as a dynamic user keeps its registry and files: /var/lib/NAME."""
    return STATE_ROOT / name


def absolute_db(db: str, base: Path | None = None) -> str:
    """The registry as an absolute path (or URL with an absolute sqlite path); a relative path is
    taken from `base` (default: the working directory)."""
    path = sqlite_path(db)
    if path is None:
        return db
    absolute = str(_absolute(path, base))
    if "://" not in db:
        return absolute
    scheme = db.partition("://")[0]
    query = db.partition("?")[2]
    return f"{scheme}:///{absolute}" + (f"?{query}" if query else "")


def _absolute(path: Path, base: Path | None) -> Path:
    path = path.expanduser()
    return path.absolute() if base is None or path.is_absolute() else base / path


def build_job(
    *,
    db: str,
    out_dir: Path,
    render: bool = True,
    lang: str = "en",
    templates_dir: Path | None = None,
    config_path: Path | None = None,
    api_url: str | None = None,
    timeout: float | None = None,
    name: str = DEFAULT_NAME,
    charts: bool = True,
    feed_url: str | None = None,
    state: Path | None = None,
) -> Job:
    """The `catalog sync` a timer or cron runs: the same options, with absolute paths. With
    `state` (a dynamic user's folder, see state_dir), the registry and output folder go inside it:
    relative paths are taken from it, and a path outside it is refused (that user could not write it)."""
    db = absolute_db(db, state)
    command = [*catalog_executable(), "sync", "--db", db]
    writable: list[Path] = []
    if render:
        out = _absolute(out_dir, state)
        command += ["--out", str(out)]
        writable.append(out)
        if lang != "en":
            command += ["--lang", lang]
        if templates_dir is not None:
            command += ["--templates", str(templates_dir.expanduser().absolute())]
        if not charts:
            command.append("--no-charts")
        if feed_url:
            command += ["--feed-url", feed_url]
    else:
        command.append("--no-render")
    config = (
        config_path if config_path is not None else (Path("catalog.toml") if Path("catalog.toml").is_file() else None)
    )
    if config is not None:
        # The sync looks for ./catalog.toml in its working directory, which a timer does not share.
        command += ["--config", str(config.expanduser().absolute())]
    if api_url:
        command += ["--api-url", api_url]
    if timeout is not None:
        command += ["--timeout", f"{timeout:g}"]
    registry = sqlite_path(db)
    lock_dir = lock_path(db).parent
    if state is not None:
        # PostgreSQL keeps its lock on the server: only a SQLite registry's folder is written.
        lock_dir = registry.parent if registry is not None else state
        _check_inside(state, [lock_dir, *writable])
    if lock_dir not in writable:
        writable.insert(0, lock_dir)  # the registry's own folder for SQLite (WAL files, lock)
    tmp = Path(tempfile.gettempdir())
    in_tmp = lock_dir.is_relative_to(tmp) or lock_dir.is_relative_to(tmp.resolve())
    if state is not None:
        writable.insert(0, state)
    return Job(
        command=command,
        db=db,
        writable=_outermost(writable) if state is None else list(dict.fromkeys(writable)),
        private_tmp=state is not None or not in_tmp,
        name=name,
        state_dir=state,
    )


def _check_inside(state: Path, folders: list[Path]) -> None:
    for folder in folders:
        if not folder.is_relative_to(state):
            raise UsageError(
                f"{folder} is outside {state}: a system unit deployed as root runs as an unprivileged "
                f"dynamic user that writes only there; give --db and --out as relative paths (kept in {state}), "
                "or pass --run-as USER to run as a user that owns them"
            )


def _outermost(paths: list[Path]) -> list[Path]:
    """Drop folders inside another listed folder: one ReadWritePaths entry covers them."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


# --------------------------------------------------------------------------- quoting


_SYSTEMD_SAFE = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


def systemd_word(text: str, *, command: bool = True) -> str:
    """One word for a unit file: `%` is a specifier and `$` an expansion in Exec lines; quote
    anything else a unit file would split or unescape."""
    text = text.replace("%", "%%")
    if command:
        text = text.replace("$", "$$")
    if _SYSTEMD_SAFE.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cron_command(argv: list[str]) -> str:
    """A shell command for a crontab line, where an unescaped `%` would end the command."""
    return " ".join(shlex.quote(arg) for arg in argv).replace("%", "\\%")


# --------------------------------------------------------------------------- rendering


def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(builtin_templates_dir()),  # deploy templates are not user-overridable
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, **values: object) -> str:
    import jinja2

    try:
        return _environment().get_template(template).render(**values)
    except jinja2.TemplateError as exc:
        raise RenderError(f"cannot render {template}: {exc}; reinstall catalog") from None


def unit_dir(user_mode: bool) -> Path:
    if user_mode:
        config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(config) / "systemd" / "user"
    return SYSTEM_UNIT_DIR


def render_systemd(
    job: Job,
    *,
    every: timedelta,
    user_mode: bool = False,
    run_as: str | None = None,
    jitter: float | None = None,
    target_dir: Path | None = None,
) -> dict[str, str]:
    """{file name: text} for the service and the timer."""
    on_calendar = calendar_spec(every, job.db)
    period = every.total_seconds()
    values = dict(
        name=job.name,
        unit_dir=target_dir or unit_dir(user_mode),
        user_mode=user_mode,
        run_as=None if user_mode else run_as,
        every_text=f"every {format_duration(every)}",
        db_text=job.db.replace("%", "%%"),
        exec_start=" ".join(systemd_word(arg) for arg in job.command),
        env_file=(f"%h/.config/catalog/{job.name}.env" if user_mode else f"/etc/catalog/{job.name}.env"),
        writable_paths=" ".join(systemd_word(str(path), command=False) for path in job.writable),
        dynamic_user=job.state_dir is not None and not user_mode,
        state_dir=str(job.state_dir) if job.state_dir else None,
        state_directories=" ".join(job.state_directories()) if job.state_dir else None,
        cache_dir=job.name,
        private_tmp=job.private_tmp,
        on_calendar=on_calendar,
        spread_note="The minute (and hour) come from a hash of the registry path, to spread load.",
        on_active=systemd_timespan(min(120, period)),
        on_unit_active=systemd_timespan(period),
        randomized_delay=systemd_timespan(default_jitter(every) if jitter is None else jitter),
    )
    return {
        f"{job.name}.service": _render("systemd/catalog-sync.service.j2", **values),
        f"{job.name}.timer": _render("systemd/catalog-sync.timer.j2", **values),
    }


def render_cron(job: Job, *, every: timedelta, log_file: Path) -> str:
    return _render(
        "cron.j2",
        name=job.name,
        every_text=f"every {format_duration(every)}",
        spread_note="The minute (and hour) come from a hash of the registry path, to spread load.",
        schedule=cron_schedule(every, job.db),
        command=cron_command(job.command),
        log_file=cron_command([str(log_file)]),
        log_text=str(log_file),
    )


def default_log_file(job: Job) -> Path:
    """Beside the registry for SQLite, else in the home folder."""
    path = sqlite_path(job.db)
    folder = path.absolute().parent if path is not None else Path.home()
    return folder / f"{job.name}.log"


def default_run_as() -> str | None:
    """The invoking user for a system unit; None when that is root: the unit then runs as a
    dynamic unprivileged user (DynamicUser=yes, see state_dir), never as root."""
    if os.geteuid() == 0:
        return None
    return getpass.getuser()


# --------------------------------------------------------------------------- writing


def write_units(files: dict[str, str], folder: Path) -> list[Path]:
    """Write the unit files atomically (catalog.write: temp file, fsync, rename)."""
    from catalog.output.write import write_files

    try:
        report = write_files(folder, files)
    except OSError as exc:
        raise RenderError(
            f"cannot write {exc.filename or folder}: {exc.strerror}; run with sudo, or pass --user or --write DIR"
        ) from None
    return report.files


def ensure_folders(job: Job, owner: str | None = None) -> None:
    """ReadWritePaths= refuses to start a unit whose folders are missing: create them now, owned
    by the user the unit runs as (a root-owned folder would be read-only to it). A dynamic user's
    StateDirectory= folders are made by systemd, owned by that user, at each start."""
    if job.state_dir is not None:
        return
    for folder in job.writable:
        if folder.is_dir():
            continue
        try:
            folder.mkdir(parents=True)
            if owner and os.geteuid() == 0:
                shutil.chown(folder, owner)
        except (OSError, LookupError) as exc:
            raise RenderError(f"cannot create {folder} for {owner or 'the service'}: {exc}") from None


def install_commands(
    job: Job, *, user_mode: bool, every: timedelta, catalog_argv: list[str], written_to: Path | None = None
) -> list[str]:
    """What to type after writing the units, and how to check them."""
    if user_mode:
        ctl, journal, prefix = "systemctl --user", "journalctl --user", ""
    else:
        ctl, journal = "systemctl", "journalctl"
        prefix = "" if os.geteuid() == 0 else "sudo "
    status = " ".join(shlex.quote(arg) for arg in [*catalog_argv, "status", "--db", job.db])
    lines = []
    home = unit_dir(user_mode)
    if written_to is not None and written_to.absolute() != home:
        units = " ".join(
            shlex.quote(str(written_to.absolute() / f"{job.name}.{kind}")) for kind in ("service", "timer")
        )
        lines.append(f"{prefix}install -D -m 644 -t {shlex.quote(str(home))} {units}")
    lines += [
        f"{prefix}{ctl} daemon-reload",
        f"{prefix}{ctl} enable --now {job.name}.timer",
        f"{ctl} list-timers {job.name}.timer",
        f"{prefix}{ctl} start {job.name}.service    # one run now (optional)",
        f"{journal} -u {job.name}.service -n 20",
        f"{status} --max-age {format_duration(every * 2)}",
    ]
    if user_mode:
        lines.append('loginctl enable-linger "$USER"    # keep user timers running while logged out')
    return lines
