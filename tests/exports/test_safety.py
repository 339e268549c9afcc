"""The safe CSV writer: no cell a spreadsheet would run, no NUL in any file."""

import csv
import io

import pytest

from exports.safety import BOM, FORMULA_TRIGGERS, csv_text, safe_cell


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_a_cell_starting_with_a_formula_character_is_quoted_and_round_trips(
    trigger,
):
    dangerous = f'{trigger}HYPERLINK("http://evil.example","click"),\r\n2'

    text = csv_text(["Header"], [[dangerous], ["plain"]])
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))

    assert rows == [["Header"], ["'" + dangerous], ["plain"]]


def test_every_character_the_issue_names_is_neutralised():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r", "|", "%"}


@pytest.mark.parametrize(
    "harmless", ["Ada", "a=b", "1+1", "'=quoted already", "", "ünïcødé", "#5"]
)
def test_a_cell_that_cannot_start_a_formula_is_left_as_it_is(harmless):
    assert safe_cell(harmless) == harmless


def test_nul_characters_are_dropped_before_the_formula_check():
    assert safe_cell("\x00=cmd") == "'=cmd"
    assert safe_cell("Ada\x00 Lovelace") == "Ada Lovelace"


def test_no_nul_reaches_the_file():
    text = csv_text(["A\x00"], [["x\x00y", None, 7]])

    assert "\x00" not in text
    assert text == BOM + "A\r\nxy,,7\r\n"
