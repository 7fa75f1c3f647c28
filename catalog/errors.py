"""Errors a user can act on: each message is one line saying what failed and what to do."""

# Exit statuses shared by every command.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: another sync holds the registry; try again later


def one_line(value: object, limit: int = 200) -> str:
    """Text from elsewhere (an API, a library) squeezed onto one bounded line for a message."""
    text = " ".join(str(value).split()) if value is not None else "unknown"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CatalogError(Exception):
    """Base class; `str(err)` is the one line shown to the user."""

    exit_code = EXIT_FAILED


class UsageError(CatalogError):
    exit_code = EXIT_USAGE


class FetchError(CatalogError):
    """The catalog could not be fetched or read (network, HTTP status, size, encoding)."""


class PayloadError(CatalogError):
    """The answer arrived but is not a usable catalog (not JSON, no `data` list, empty)."""


class MassRemovalError(CatalogError):
    """The answer would remove most free models; refused unless explicitly allowed."""


class RegistryError(CatalogError):
    """The registry database cannot be opened, upgraded or written."""


class LockedError(CatalogError):
    exit_code = EXIT_LOCKED


class RenderError(CatalogError):
    """Generated files could not be rendered or written; the registry itself is fine."""


class QueryError(CatalogError):
    """A read-only query was refused, failed or ran out of time."""
