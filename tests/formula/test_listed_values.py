"""A name whose text values the catalogue lists (a choice field's options) is compared only with
one of them: `type == 'meting'` would never match, so it is refused at the misspelt value, with
the values and the nearest one."""

from __future__ import annotations

import pytest

from perfrules.formula import BOOLEAN, NUMBER, TEXT, Catalogue, FormulaError, compile_formula

VALUES = ("meeting", "call", "visit")
LISTING = "its values are 'meeting', 'call', 'visit'"


def catalogue() -> Catalogue:
    names = Catalogue({"minutes": NUMBER, "note": TEXT})
    names.add("type", TEXT, values=VALUES)
    return names


@pytest.mark.parametrize(
    "text, message, excerpt",
    [
        (
            "type == 'meting'",
            f"type is never 'meting': {LISTING} — did you mean 'meeting'?",
            "type == 'meting'\n         ^^^^^^",
        ),
        (
            "minutes > 5 and 'vist' != type",
            f"type is never 'vist': {LISTING} — did you mean 'visit'?",
            "minutes > 5 and 'vist' != type\n                 ^^^^",
        ),
        (
            'type in ("call", "Meeting")',
            f"type is never 'Meeting': {LISTING} — did you mean 'meeting'?",
            'type in ("call", "Meeting")\n                  ^^^^^^^',
        ),
        ("type not in ('email',)", f"type is never 'email': {LISTING}", "type not in ('email',)\n              ^^^^^"),
        (
            "'call' == type == 'cal'",
            f"type is never 'cal': {LISTING} — did you mean 'call'?",
            "'call' == type == 'cal'\n                   ^^^",
        ),
    ],
)
def test_a_value_the_name_never_holds_is_refused_at_its_place(text, message, excerpt):
    with pytest.raises(FormulaError) as caught:
        compile_formula(text, catalogue(), expect=BOOLEAN)
    assert caught.value.message == message
    assert caught.value.excerpt() == excerpt


def test_listed_values_and_names_without_a_list_are_accepted():
    compiled = compile_formula(
        "type == 'meeting' or 'call' == type or type not in ('visit', None) or note == 'anything' or type == None",
        catalogue(),
        expect=BOOLEAN,
    )
    assert compiled.evaluate({"type": "call", "note": None}).value is True
    assert compiled.evaluate({"type": "visit", "note": "x"}).value is False
    merged = catalogue().merged(Catalogue({"amount": NUMBER}))
    assert merged.get("type").values == VALUES and merged.get("amount").values is None


def test_only_text_names_list_values():
    with pytest.raises(ValueError, match="only a text name lists its values"):
        Catalogue().add("minutes", NUMBER, values=["1"])
