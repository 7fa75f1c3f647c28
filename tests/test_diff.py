from fakeapi import model

from catalog.ingest.diff import compute, is_mass_removal
from catalog.ingest.normalize import normalize


def cat(*entries):
    return normalize(list(entries))


def rec(*args, **kwargs):
    entry = model(*args, **kwargs)
    return normalize([entry]).records[entry["id"]]


def kinds(diff):
    return [(c.model_id, c.kind, c.reason, c.field) for c in diff.changes]


def test_first_sync_adds_every_free_model_only():
    diff = compute(set(), {}, cat(model("a/x:free"), model("b/y", prompt="1", completion="1"), model("c/z")))
    assert kinds(diff) == [("a/x:free", "added", None, None), ("c/z", "added", None, None)]
    assert diff.free_count == 2


def test_unchanged_answer_has_no_events():
    known = {"a/x:free": rec("a/x:free")}
    diff = compute({"a/x:free"}, known, cat(model("a/x:free")))
    assert diff.changes == [] and diff.updated == [] and diff.free_count == 1


def test_removed_reasons_delisted_and_now_paid():
    known = {"a/x:free": rec("a/x:free"), "b/y": rec("b/y")}
    diff = compute({"a/x:free", "b/y"}, known, cat(model("b/y", prompt="0.1", completion="0.2"), model("z/z:free")))
    assert ("a/x:free", "removed", "delisted", None) in kinds(diff)
    assert ("b/y", "removed", "now_paid", None) in kinds(diff)
    assert diff.removed == {"a/x:free": "delisted", "b/y": "now_paid"}


def test_changed_one_event_per_field_with_old_and_new():
    known = {"a/x:free": rec("a/x:free", context_length=131072, name="Old")}
    new = model("a/x:free", context_length=262144, name="New", pricing={"web_search": "0.01"})
    diff = compute({"a/x:free"}, known, cat(new))
    changed = {c.field: (c.old, c.new) for c in diff.changes}
    assert changed == {
        "context_length": (131072, 262144),
        "top_provider.context_length": (131072, 262144),
        "name": ("Old", "New"),
        "pricing.web_search": (None, "0.01"),
    }
    assert [r.id for r in diff.updated] == ["a/x:free"]


def test_returned_model_gets_changes_against_its_last_free_state():
    known = {"a/x:free": rec("a/x:free", context_length=1000)}
    diff = compute(set(), known, cat(model("a/x:free", context_length=2000)))
    assert kinds(diff)[0] == ("a/x:free", "returned", None, None)
    assert {c.field for c in diff.changes if c.kind == "changed"} == {"context_length", "top_provider.context_length"}
    assert [r.id for r in diff.returned] == ["a/x:free"] and diff.updated == []


def test_returned_unchanged_has_only_the_return():
    known = {"a/x:free": rec("a/x:free")}
    assert kinds(compute(set(), known, cat(model("a/x:free")))) == [("a/x:free", "returned", None, None)]


def test_malformed_entry_is_held_not_removed():
    known = {"a/x:free": rec("a/x:free"), "b/y:free": rec("b/y:free")}
    broken = {"id": "a/x:free", "context_length": "lots"}
    diff = compute({"a/x:free", "b/y:free"}, known, cat(broken, model("b/y:free")))
    assert diff.changes == [] and diff.free_count == 2


def test_entry_without_id_cannot_hold_anything():
    known = {"a/x:free": rec("a/x:free")}
    diff = compute({"a/x:free"}, known, cat({"id": 7}, model("q/q")))
    assert ("a/x:free", "removed", "delisted", None) in kinds(diff)


def test_a_model_free_by_price_then_its_free_twin():
    """Real capture history: allenai/molmo-2-8b free by price, then replaced by its :free twin."""
    first = compute(set(), {}, cat(model("allenai/molmo-2-8b")))
    assert kinds(first) == [("allenai/molmo-2-8b", "added", None, None)]
    known = {"allenai/molmo-2-8b": rec("allenai/molmo-2-8b")}
    second = compute({"allenai/molmo-2-8b"}, known, cat(model("allenai/molmo-2-8b:free")))
    assert kinds(second) == [
        ("allenai/molmo-2-8b", "removed", "delisted", None),
        ("allenai/molmo-2-8b:free", "added", None, None),
    ]


def test_events_are_in_a_deterministic_order():
    known = {m: rec(m) for m in ("b/b:free", "a/a:free")}
    one = compute({"b/b:free", "a/a:free"}, known, cat(model("c/c:free"), model("a/a:free", context_length=5)))
    two = compute({"a/a:free", "b/b:free"}, known, cat(model("a/a:free", context_length=5), model("c/c:free")))
    assert one.changes == two.changes


def test_mass_removal_rule():
    assert not is_mass_removal(0, 0)
    assert is_mass_removal(1, 1)  # all of them
    assert not is_mass_removal(2, 1)  # exactly half is allowed
    assert is_mass_removal(2, 2)
    assert is_mass_removal(10, 6)
    assert not is_mass_removal(10, 5)
    assert not is_mass_removal(36, 11)
