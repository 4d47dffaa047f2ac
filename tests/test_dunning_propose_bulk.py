from datetime import date, datetime

from odoo.tests import TransactionCase
from odoo.tools import SQL

from odoo.addons.credit_control.models.credit_dunning_letter_bulk import array_literal


class TestDunningBulkArrayLiteral(TransactionCase):
    """The bulk insert of the proposal passes each column as one array literal: PostgreSQL reads
    back exactly the values psycopg2 would have sent one by one."""

    def _round_trip(self, values, sql_type):
        literal = array_literal(values)
        self.assertIsInstance(literal, str)
        [[expected]] = self.env.execute_query(SQL("SELECT %%s::%s[]" % sql_type, values))
        [[read]] = self.env.execute_query(SQL("SELECT %%s::%s[]" % sql_type, literal))
        self.assertEqual(read, expected)
        return read

    def test_text_values_escaped(self):
        values = [
            "plain",
            'with "quotes"',
            'back\\slash \\" both',
            "comma, {braces} and 'single'",
            "NULL",
            "",
            "  spaces  ",
            "Zeile 1\nZeile 2\ttab",
            "Zinsen nicht berechnet: Fälligkeit vor dem 01.01.2002 – ü€",
            None,
        ]
        self.assertEqual(self._round_trip(values, "varchar"), values)
        self.assertEqual(self._round_trip(values, "text"), values)

    def test_scalar_values(self):
        self.assertEqual(self._round_trip([1, None, -7, 2**31 - 1], "int4"), [1, None, -7, 2**31 - 1])
        self.assertEqual(self._round_trip([True, False, None], "bool"), [True, False, None])
        self._round_trip([0.1, 1e-05, -2.5, 123456789.125, None], "numeric")
        self._round_trip(["12.30", "0.00", "-0.01", None], "numeric")
        self._round_trip([0.1, 1 / 3, None], "float8")
        self._round_trip([date(2026, 12, 3), None], "date")
        self._round_trip([datetime(2026, 12, 3, 15, 4, 5, 123456), datetime(2026, 1, 1), None], "timestamp")

    def test_other_types_left_to_psycopg2(self):
        values = [{"en_US": "x"}]
        self.assertIs(array_literal(values), values)
        self.assertEqual(array_literal([]), "{}")
