"""End of the regular limitation period of a claim (§§195, 199 BGB), in Python and in SQL."""

from datetime import date as Date

from odoo.tools import SQL

# Regular limitation period (§195 BGB): three years, from the end of the year in which the claim
# arose (§199 (1) BGB). The claim of an invoice arises with the invoice (its date's year).
LIMITATION_YEARS = 3


def limitation_end(origin):
    """Last day of the limitation period of a claim that arose on ``origin`` (a date)."""
    return Date(origin.year + LIMITATION_YEARS, 12, 31) if origin else False


def limitation_end_sql(date_sql):
    """:func:`limitation_end` in SQL: 31 December of the year of ``date_sql`` + 3."""
    return SQL("make_date(EXTRACT(YEAR FROM %s)::int + %s, 12, 31)", date_sql, LIMITATION_YEARS)
