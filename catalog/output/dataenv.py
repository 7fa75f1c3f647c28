"""The Jinja environment of the generated files: Jinja's own, reading the plain dicts that
render.py hands the templates without a failed attribute lookup first. Imported lazily, with
jinja2, by render.environment().
"""

from __future__ import annotations

from typing import Any

import jinja2

DICT_ATTRIBUTES = frozenset(dir(dict))  # what getattr() finds on a plain dict: its methods and dunders


class DataEnvironment(jinja2.Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:  # a template's value: any data
        # `m.id` on a dict: Jinja's getattr() tries the attribute, and reads the key after the
        # AttributeError. A key that no dict attribute shadows gives the same value without the
        # exception: 0.6 µs a lookup, 400,000 of them in the page of 50,000 models.
        if type(obj) is dict and attribute not in DICT_ATTRIBUTES and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)
