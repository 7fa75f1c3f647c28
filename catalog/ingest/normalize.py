"""Raw API answer -> validated, frozen model records. Pure: no I/O, no clock.

Rules pinned by the project:
- free: the id ends with ``:free``, or ``pricing.prompt`` and ``pricing.completion`` both parse
  as decimals equal to zero; a missing, unparsable or negative price never makes a model free.
- a key that is absent and a key that is null are the same value; so is a zero price for any
  component other than prompt and completion (the API adds and drops those freely).
- a malformed entry is skipped and counted, never fatal; duplicate ids keep the first entry.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.errors import PayloadError, one_line

CORE_PRICES = ("prompt", "completion")  # the two the free rule reads: always kept as given
# JSON may escape lone UTF-16 surrogates ("\\ud800"): valid JSON, but such a str cannot be
# encoded as UTF-8, so SQLite (and any UTF-8 log or file) would fail on it: they become U+FFFD.
# JSON may also escape NUL ("\\u0000"), which PostgreSQL's text type refuses: it is dropped, on
# every engine alike. An id holding either is refused: an id must stay exactly what the API says.
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text that every engine stores and gives back unchanged."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


@dataclass(frozen=True, slots=True)
class ModelRecord:
    id: str
    name: str | None = None
    canonical_slug: str | None = None
    context_length: int | None = None
    top_context_length: int | None = None
    max_completion_tokens: int | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    supported_parameters: tuple[str, ...] = ()
    # Sorted (key, decimal string) pairs: hashable, and stable to compare and store.
    pricing: tuple[tuple[str, str], ...] = ()
    expiration_date: str | None = None
    created: int | None = None
    description: str | None = None
    hugging_face_id: str | None = None

    @property
    def vendor(self) -> str:
        return vendor_of(self.id)

    @property
    def is_free(self) -> bool:
        # The suffix first: it decides for most, without building the pricing dict.
        return self.id.endswith(":free") or is_free(self.id, dict(self.pricing))

    def tracked(self) -> dict[str, Any]:
        """Dotted API path -> JSON value, for every field whose change is an event."""
        values: dict[str, Any] = {
            "name": self.name,
            "canonical_slug": self.canonical_slug,
            "context_length": self.context_length,
            "top_provider.context_length": self.top_context_length,
            "top_provider.max_completion_tokens": self.max_completion_tokens,
            "architecture.input_modalities": list(self.input_modalities) or None,
            "architecture.output_modalities": list(self.output_modalities) or None,
            "supported_parameters": list(self.supported_parameters) or None,
            "expiration_date": self.expiration_date,
            "created": self.created,
            "description": self.description,
            "hugging_face_id": self.hugging_face_id,
        }
        for key, price in self.pricing:
            values[f"pricing.{key}"] = price
        return values


@dataclass(slots=True)
class Skipped:
    index: int
    id: str | None
    reason: str


@dataclass(slots=True)
class Catalog:
    """One normalized answer: every valid entry (free or not) and what was skipped. A catalog
    normalized for a sync keeps only the ids of its valid paid entries, in `paid_ids`."""

    records: dict[str, ModelRecord]
    size: int
    skipped: list[Skipped] = field(default_factory=list)
    paid_ids: set[str] = field(default_factory=set)

    @property
    def free(self) -> dict[str, ModelRecord]:
        return {mid: rec for mid, rec in self.records.items() if rec.is_free}

    @property
    def held_ids(self) -> set[str]:
        """Ids whose entry was present but malformed: their state is kept, never removed."""
        return {s.id for s in self.skipped if s.id is not None and not self.lists(s.id)}

    def lists(self, model_id: str) -> bool:
        """True when the answer holds a valid entry with this id, free or not."""
        return model_id in self.records or model_id in self.paid_ids


def vendor_of(model_id: str) -> str:
    head = model_id.split("/", 1)[0] if "/" in model_id else ""
    return head.lstrip("~") or "unknown"


def parse_price(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


def is_free(model_id: str, pricing: dict[str, Any] | None) -> bool:
    if model_id.endswith(":free"):
        return True
    pricing = pricing or {}
    prompt = parse_price(pricing.get("prompt"))
    completion = parse_price(pricing.get("completion"))
    return prompt is not None and completion is not None and prompt == 0 and completion == 0


def parse_payload(body: bytes) -> list[Any]:
    """Bytes of an answer -> its `data` list, or a PayloadError saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"the answer is not UTF-8 text (bad byte at offset {exc.start}); check the source URL"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        start = text.lstrip()[:1]
        hint = " (it looks like an HTML page)" if start == "<" else ""
        raise PayloadError(
            f"the answer is not JSON{hint}: {exc.msg} at line {exc.lineno}; check the source URL"
        ) from None
    if not isinstance(doc, dict):
        raise PayloadError("the answer is not a JSON object with a `data` list; check the source URL")
    if "data" not in doc and isinstance(doc.get("error"), dict):
        err = doc["error"]
        raise PayloadError(
            f"the API answered with an error: {one_line(err.get('message'))} "
            f"(code {one_line(err.get('code'))}); try again later"
        )
    data = doc.get("data")
    if not isinstance(data, list):
        what = "has no `data` key" if "data" not in doc else "has a `data` that is not a list"
        raise PayloadError(f"the answer {what}; check the source URL")
    if not data:
        raise PayloadError("the answer lists no models at all; refusing to treat that as a catalog")
    return data


def normalize(data: Iterable[Any], *, paid_as_ids: bool = False, clean: bool = False) -> Catalog:
    """Every entry checked the same way. With `paid_as_ids` (a sync: only free models are
    stored, and a paid one matters only by being listed) a valid paid entry is kept as its id in
    `paid_ids` instead of a record: most of a catalog is paid, and building its records is most of
    the cost (profiled: 0.77 of 0.82 s normalizing the 54 real captures, 18,694 entries, 1,756 free).
    `clean`: the answer's text holds no NUL or surrogate escape, so every string is storable as it
    is (see entries.read_catalog) and a plainly valid entry's record is built in one call."""
    records: dict[str, ModelRecord] = {}
    paid: set[str] = set()
    skipped: list[Skipped] = []
    # One object per distinct list value, for _plain_record.
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    size = 0
    for index, raw in enumerate(data):
        size += 1
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        model_id = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
        if model_id is not None and not clean:  # as reported in warnings; to_record refuses the raw one
            model_id = storable(model_id)
        if model_id is not None and (model_id in records or model_id in paid):
            skipped.append(Skipped(index, None, f"duplicate id {model_id!r}: the first entry is kept"))
            continue
        try:
            if paid_as_ids and model_id is not None and model_id == raw_id and _plainly_paid(raw):
                check_entry(raw)
                paid.add(model_id)
                continue
            quick = clean and model_id is not None and _plainly_valid(raw)
            record = _plain_record(raw, shared) if quick else to_record(raw)
        except ValueError as exc:
            skipped.append(Skipped(index, model_id, str(exc)))
            continue
        records[record.id] = record
    return Catalog(records=records, size=size, skipped=skipped, paid_ids=paid)


def _plainly_paid(raw: dict[str, Any]) -> bool:
    """Not free by the rule, read from the raw entry (a record keeps the same prompt and
    completion prices, so its `is_free` agrees); False when the pricing is no object at all."""
    pricing = raw.get("pricing")
    return (pricing is None or isinstance(pricing, dict)) and not is_free(raw["id"], pricing)


def to_record(raw: Any) -> ModelRecord:
    """One API entry -> ModelRecord; ValueError naming the bad field if it is malformed."""
    if not isinstance(raw, dict):
        raise ValueError(f"entry is a {type(raw).__name__}, not an object")
    model_id = raw.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError("entry has no string `id`")
    if "\x00" in model_id:
        raise ValueError("`id` contains a NUL character")
    if _SURROGATE.search(model_id):
        raise ValueError("`id` is not valid Unicode (a lone surrogate escape)")
    arch = _obj(raw, "architecture")
    top = _obj(raw, "top_provider")
    return ModelRecord(
        id=model_id,
        name=_str(raw, "name"),
        canonical_slug=_str(raw, "canonical_slug"),
        context_length=_int(raw, "context_length"),
        top_context_length=_int(top, "context_length", "top_provider."),
        max_completion_tokens=_int(top, "max_completion_tokens", "top_provider."),
        input_modalities=_strings(arch, "input_modalities", "architecture."),
        output_modalities=_strings(arch, "output_modalities", "architecture."),
        supported_parameters=_strings(raw, "supported_parameters"),
        pricing=_pricing(raw),
        expiration_date=_str(raw, "expiration_date"),
        created=_int(raw, "created"),
        description=_str(raw, "description"),
        hugging_face_id=_str(raw, "hugging_face_id") or None,  # "" means "none" too
    )


def check_entry(raw: dict[str, Any]) -> None:
    """The ValueError to_record would raise for this entry, without building the record: a quick
    look at the types that passes almost every entry, and to_record itself for the rest (so the
    reason is the same). The id is already known to be a string without surrogates."""
    if not _plainly_valid(raw):
        to_record(raw)


# Exact types (`type(x) in`): a bool is no integer and no price, a str subclass is unsure.
_NONE = type(None)
_TEXT = frozenset({str, _NONE})
_INT = frozenset({int, _NONE})
_OBJECT = frozenset({dict, _NONE})
_PRICE = frozenset({str, int, float, _NONE})


def _plainly_valid(raw: dict[str, Any]) -> bool:
    """True when to_record would accept the entry: every type checked inline, in one call (the
    field helpers cost a call each, 15 per entry); False also when unsure (to_record decides)."""
    get = raw.get
    arch, top, pricing = get("architecture"), get("top_provider"), get("pricing")
    if not (
        type(arch) in _OBJECT
        and type(top) in _OBJECT
        and type(pricing) in _OBJECT
        and type(get("name")) in _TEXT
        and type(get("canonical_slug")) in _TEXT
        and type(get("expiration_date")) in _TEXT
        and type(get("description")) in _TEXT
        and type(get("hugging_face_id")) in _TEXT
        and type(get("context_length")) in _INT
        and type(get("created")) in _INT
    ):
        return False
    arch, top = arch or {}, top or {}
    if not (type(top.get("context_length")) in _INT and type(top.get("max_completion_tokens")) in _INT):
        return False
    for value in (get("supported_parameters"), arch.get("input_modalities"), arch.get("output_modalities")):
        if value is not None and (type(value) is not list or not _all_text(value)):
            return False
    return not pricing or all(type(value) in _PRICE for value in pricing.values())


def _all_text(values: list[Any]) -> bool:
    """Every item is a string: str.join refuses anything else, 4x faster than a loop over types."""
    try:
        "".join(values)
    except TypeError:
        return False
    return True


def _plain_record(raw: dict[str, Any], shared: dict[tuple[Any, ...], tuple[Any, ...]]) -> ModelRecord:
    """to_record's record for an entry `_plainly_valid` accepts, from a clean answer (no string
    needs `storable`): the same values without a helper call per field (profiled: normalizing
    50,000 free entries 0.83 s, of which `storable` 0.36 s in 1.1 million calls). Lists and their
    strings are shared between records (`shared`, sys.intern): read one entry at a time, each
    entry has its own copies (40 of the 180 MB of 50,000 synthetic records)."""
    get = raw.get
    arch, top = get("architecture") or {}, get("top_provider") or {}
    return ModelRecord(
        id=raw["id"],
        name=get("name"),
        canonical_slug=get("canonical_slug"),
        context_length=get("context_length"),
        top_context_length=top.get("context_length"),
        max_completion_tokens=top.get("max_completion_tokens"),
        input_modalities=_shared_set(arch.get("input_modalities"), shared),
        output_modalities=_shared_set(arch.get("output_modalities"), shared),
        supported_parameters=_shared_set(get("supported_parameters"), shared),
        pricing=_plain_pricing(get("pricing"), shared),
        expiration_date=get("expiration_date"),
        created=get("created"),
        description=get("description"),
        hugging_face_id=get("hugging_face_id") or None,  # "" means "none" too
    )


def _shared_set(values: list[str] | None, shared: dict[tuple[Any, ...], tuple[Any, ...]]) -> tuple[str, ...]:
    """_strings for a list known to hold only strings."""
    value = tuple(sorted(set(map(sys.intern, values)))) if values else ()
    return shared.setdefault(value, value)


def _plain_pricing(
    pricing: dict[str, Any] | None, shared: dict[tuple[Any, ...], tuple[Any, ...]]
) -> tuple[tuple[str, str], ...]:
    """_pricing for a pricing whose values are known to be None, str, int or float."""
    pairs = [
        (sys.intern(key), sys.intern(str(value)))
        for key, value in (pricing or {}).items()
        if value is not None and (key in CORE_PRICES or not (value == "0" or parse_price(value) == 0))
    ]
    value = tuple(sorted(pairs))
    return shared.setdefault(value, value)


def _obj(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"`{key}` is a {type(value).__name__}, not an object")
    return value


def _str(raw: dict[str, Any], key: str, prefix: str = "") -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"`{prefix}{key}` is a {type(value).__name__}, not a string")
    return storable(value) if value is not None else None


def _int(raw: dict[str, Any], key: str, prefix: str = "") -> int | None:
    value = raw.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"`{prefix}{key}` is a {type(value).__name__}, not an integer")
    return value


def _strings(raw: dict[str, Any], key: str, prefix: str = "") -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"`{prefix}{key}` is not a list of strings")
    # Sorted and deduplicated: the API's order carries no meaning and must not look like a change.
    return tuple(sorted({storable(v) for v in value}))


def _pricing(raw: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pricing = _obj(raw, "pricing")
    pairs = []
    for key, value in pricing.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"`pricing.{key}` is a {type(value).__name__}, not a price")
        # The API adds and drops zero-priced extras (`request`, `image`, `web_search`, ...) from one
        # hour to the next; a zero extra costs what an absent one does, so it is not kept.
        if key not in CORE_PRICES and parse_price(value) == 0:
            continue
        pairs.append((storable(str(key)), storable(str(value))))
    return tuple(sorted(pairs))
