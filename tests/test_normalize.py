import json

import pytest
from fakeapi import model

from catalog.errors import PayloadError
from catalog.ingest.normalize import ModelRecord, is_free, normalize, parse_payload, vendor_of


@pytest.mark.parametrize(
    "model_id, pricing, expected",
    [
        ("a/b:free", {"prompt": "0.5", "completion": "1"}, True),  # the suffix alone makes it free
        ("a/b:free", None, True),
        ("a/b", {"prompt": "0", "completion": "0"}, True),
        ("a/b", {"prompt": "0.0", "completion": "0E-10"}, True),
        ("a/b", {"prompt": 0, "completion": 0}, True),
        ("a/b", {"prompt": "0", "completion": "0.000001"}, False),
        ("a/b", {"prompt": "0"}, False),  # missing completion
        ("a/b", {"prompt": "0", "completion": None}, False),  # null is the same as absent
        ("a/b", {"prompt": "-1", "completion": "-1"}, False),  # routers with unknown prices
        ("a/b", {"prompt": "free", "completion": "0"}, False),  # unparsable
        ("a/b", {"prompt": "NaN", "completion": "0"}, False),
        ("a/b", {"prompt": True, "completion": False}, False),
        ("a/b", {}, False),
        ("a/b", None, False),
        ("a/b:freebie", {"prompt": "1", "completion": "1"}, False),
    ],
)
def test_free_rule(model_id, pricing, expected):
    assert is_free(model_id, pricing) is expected


def test_long_decimal_prices_parse_exactly():
    rec = normalize([model("x/y", prompt="0.00000008333333333333334", completion="0")]).records["x/y"]
    assert not rec.is_free
    assert dict(rec.pricing)["prompt"] == "0.00000008333333333333334"


def test_vendor_is_the_author_part():
    assert vendor_of("google/gemma-3-27b-it:free") == "google"
    assert vendor_of("~anthropic/claude-latest") == "anthropic"
    assert vendor_of("noslash") == "unknown"


def test_absent_and_null_are_the_same_value():
    a = model("v/m:free")
    b = model("v/m:free", expiration_date=None, hugging_face_id="")
    del a["expiration_date"]
    a["hugging_face_id"] = None
    ra, rb = normalize([a]).records["v/m:free"], normalize([b]).records["v/m:free"]
    assert ra == rb
    assert ra.tracked()["expiration_date"] is None


def test_order_of_lists_is_not_a_change():
    a = model("v/m:free", supported_parameters=["tools", "top_p"])
    b = model("v/m:free", supported_parameters=["top_p", "tools", "tools"])
    assert normalize([a]).records == normalize([b]).records


@pytest.mark.parametrize(
    "broken, reason_part",
    [
        ({"id": 42}, "no string `id`"),
        ({"id": ""}, "no string `id`"),
        ({"id": "a/bad:free", "context_length": "131072"}, "`context_length`"),
        ({"id": "a/bad:free", "pricing": ["0", "0"]}, "`pricing`"),
        ({"id": "a/bad:free", "architecture": {"input_modalities": "text"}}, "input_modalities"),
        ({"id": "a/bad:free", "top_provider": {"context_length": True}}, "top_provider.context_length"),
        ({"id": "a/bad:free", "name": {"en": "x"}}, "`name`"),
        ("just a string", "str"),
        (None, "NoneType"),
    ],
)
def test_malformed_entries_are_skipped_and_counted(broken, reason_part):
    catalog = normalize([model("ok/one:free"), broken, model("ok/two")])
    assert set(catalog.records) == {"ok/one:free", "ok/two"}
    assert catalog.size == 3
    assert len(catalog.skipped) == 1 and reason_part in catalog.skipped[0].reason


def test_malformed_entry_with_an_id_is_held():
    catalog = normalize([{"id": "a/bad:free", "context_length": "x"}])
    assert catalog.held_ids == {"a/bad:free"}


def test_duplicate_ids_keep_the_first_entry():
    catalog = normalize([model("d/m:free", context_length=1000), model("d/m:free", context_length=2000)])
    assert catalog.records["d/m:free"].context_length == 1000
    assert len(catalog.skipped) == 1 and "duplicate" in catalog.skipped[0].reason
    assert catalog.held_ids == set()  # the kept entry is not "held"


def test_unknown_fields_are_ignored():
    entry = model("n/m:free", links={"details": "/x"}, benchmarks={"deep": {"nested": [1, {"x": None}]}}, reasoning={})
    entry["architecture"]["brand_new"] = {"a": 1}
    assert normalize([entry]).records["n/m:free"].context_length == 131072


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"<!doctype html><html>Cloudflare</html>", "looks like an HTML page"),
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({"error": {"code": 502, "message": "upstream\nbroke"}}).encode(), "upstream broke"),
        (b'{"models": []}', "no `data` key"),
        (b'{"data": {"a": 1}}', "not a list"),
        (b'{"data": []}', "no models at all"),
    ],
)
def test_bad_payloads_fail_with_one_line(body, message):
    with pytest.raises(PayloadError) as info:
        parse_payload(body)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_tracked_fields_use_dotted_api_paths():
    rec = normalize([model("t/m:free", top_provider={"max_completion_tokens": 4096})]).records["t/m:free"]
    tracked = rec.tracked()
    assert tracked["top_provider.max_completion_tokens"] == 4096
    assert tracked["pricing.prompt"] == "0"
    assert tracked["architecture.input_modalities"] == ["text"]
    assert isinstance(rec, ModelRecord) and hash(rec)  # frozen and hashable


def test_zero_priced_extras_are_the_same_as_absent():
    a = model("z/m:free", pricing={"request": "0", "web_search": "0", "image": "0.0"})
    b = model("z/m:free")
    b["pricing"] = {"prompt": "0", "completion": "0"}
    ra, rb = normalize([a]).records["z/m:free"], normalize([b]).records["z/m:free"]
    assert ra == rb and dict(ra.pricing) == {"prompt": "0", "completion": "0"}
    priced = normalize([model("z/m:free", pricing={"request": "0.001"})]).records["z/m:free"]
    assert dict(priced.pricing)["request"] == "0.001"


def _same_for_a_sync(entries: list) -> None:
    """A sync's normalization keeps what the full one does, but paid entries as their ids."""
    full, fast = normalize(entries), normalize(entries, paid_as_ids=True)
    assert fast.free == full.free
    assert fast.paid_ids == {mid for mid, rec in full.records.items() if not rec.is_free}
    assert set(fast.records) == set(full.free)
    assert [(s.index, s.id, s.reason) for s in fast.skipped] == [(s.index, s.id, s.reason) for s in full.skipped]
    assert fast.held_ids == full.held_ids and fast.size == full.size
    assert all(fast.lists(mid) for mid in full.records)


@pytest.mark.parametrize(
    "broken",
    [
        {"id": 42},
        {"id": ""},
        "just a string",
        None,
        {"id": "a/\ud800"},
        {"id": "a/bad", "context_length": "131072"},
        {"id": "a/bad", "context_length": 1.5},
        {"id": "a/bad", "pricing": ["0", "0"]},
        {"id": "a/bad", "pricing": {"prompt": "1", "completion": "1", "image": {"x": 1}}},
        {"id": "a/bad", "pricing": {"prompt": True, "completion": "1"}},
        {"id": "a/bad", "architecture": {"input_modalities": "text"}},
        {"id": "a/bad", "architecture": [1]},
        {"id": "a/bad", "top_provider": {"context_length": True}},
        {"id": "a/bad", "top_provider": {"max_completion_tokens": "4096"}},
        {"id": "a/bad", "name": {"en": "x"}, "context_length": "x"},  # the first failing field is named
        {"id": "a/bad", "supported_parameters": ["tools", 1]},
        {"id": "a/bad", "expiration_date": 20260101},
        {"id": "a/bad", "created": "yesterday"},
        {"id": "a/bad", "description": ["x"]},
        {"id": "a/bad", "hugging_face_id": 3},
    ],
)
def test_paid_entries_are_checked_like_free_ones(broken):
    paid = model("ok/paid", prompt="0.000001", completion="0.000002")
    _same_for_a_sync([model("ok/one:free"), broken, paid, model("ok/paid"), broken])  # the 2nd ok/paid: a duplicate


def test_a_sync_normalizes_like_the_full_rule_on_real_captures():
    from conftest import all_captures

    for path in all_captures():
        _same_for_a_sync(parse_payload(path.read_bytes()))


def test_a_now_paid_model_is_told_from_a_delisted_one():
    from catalog.ingest.diff import compute

    last = {"p/was-free": ModelRecord("p/was-free"), "p/gone": ModelRecord("p/gone")}
    now = normalize([model("p/was-free", prompt="0.1", completion="0.1"), model("x/other:free")], paid_as_ids=True)
    assert compute({"p/was-free", "p/gone"}, last, now).removed == {"p/was-free": "now_paid", "p/gone": "delisted"}
