"""Text in a .csv file that a spreadsheet keeps as text.

Excel, WPS and LibreOffice read a CSV field of digits as a number: an 18-digit ID number keeps 15 significant
digits and shows as ``3.50181198305274E+17``, a phone as ``1.38123E+10``, a leading zero is dropped. A field
written ``="350181198305273959"`` is a formula whose value is that text: Excel and WPS evaluate it on open, and so
does LibreOffice with its default CSV options (its "Evaluate formulas" import option is on), so the cell holds the
exact 18 characters. A leading apostrophe or tab would stay in the cell as a visible character instead.

Only text that a spreadsheet would change is written so (``protect``); a program reading the file takes the text
between the quotes (``unprotect``). docs/LEDGERS.md ("Export") says the same to the town.
"""

from __future__ import annotations

import re

# digits (a leading + allowed), or an ID number ending in X: what a spreadsheet turns into a number or mangles
_NUMBER_LIKE = re.compile(r"\+?\d+|\d{17}[Xx]")
_PROTECTED = re.compile(r'="((?:[^"]|"")*)"')
LONGEST_EXACT = 10
"""Digit runs up to this long with no leading zero survive as numbers with the same digits: left as they are."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell a spreadsheet would run as a formula begins: a note typed as ``=HYPERLINK(...)`` or ``@SUM(...)`` is
written ``="=HYPERLINK(...)"`` instead, a formula whose value is the note's text (CSV injection, OWASP)."""


def needs_protection(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a number or a formula and show or do something else."""
    if text.startswith(FORMULA_STARTS):
        return True
    if not _NUMBER_LIKE.fullmatch(text):
        return False
    digits = text.lstrip("+")
    return (
        text != digits
        or len(digits) > LONGEST_EXACT
        or (len(digits) > 1 and digits[0] == "0")
        or not digits[-1].isdigit()
    )


def protect(text: str) -> str:
    """``text`` as a CSV field a spreadsheet keeps as text: ``="…"`` (quotes doubled inside the formula's string)
    when it would otherwise become a number or run as a formula."""
    return '="' + text.replace('"', '""') + '"' if needs_protection(text) else text


def unprotect(field: str) -> str:
    """A field written by ``protect`` back to its text (any other field unchanged)."""
    found = _PROTECTED.fullmatch(field)
    return found.group(1).replace('""', '"') if found else field
