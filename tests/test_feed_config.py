"""`[feed] grace_days`: its default, its range (0..365) and the one line naming the key."""

from __future__ import annotations

import pytest

from catalog.config.feed import DEFAULT_GRACE_DAYS, MAX_GRACE_DAYS
from catalog.config.loader import load_config, parse_config
from catalog.errors import CatalogError


def test_default_and_bounds():
    assert parse_config({}).watch.feed.grace_days == DEFAULT_GRACE_DAYS == 14
    assert parse_config({"feed": {"grace_days": 0}}).watch.feed.grace_days == 0
    assert parse_config({"feed": {"grace_days": MAX_GRACE_DAYS}}).watch.feed.grace_days == 365
    # Beside the Atom feed's own keys in the same table.
    both = parse_config({"feed": {"grace_days": 7, "limit": 5}}).watch.feed
    assert (both.grace_days, both.limit) == (7, 5)


@pytest.mark.parametrize("value", [-1, 366, 1.5, "14", True])
def test_a_bad_value_is_one_line_naming_the_key(value, tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(f"[feed]\ngrace_days = {value!r}\n".replace("True", "true").replace("'", '"'))
    with pytest.raises(CatalogError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message and "`feed.grace_days`" in message and str(path) in message
    assert "from 0 to 365" in message
