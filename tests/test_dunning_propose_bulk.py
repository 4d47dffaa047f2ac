import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, float_repr, float_round
from odoo.tools.sql import column_exists

from odoo.addons.credit_control.models.credit_dunning_letter_bulk import array_literal

from .dunning_common import DunningCommon


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
        # texts only (no NULL): quoted as one, escaped when one needs it
        texts = [value for value in values if value is not None]
        self.assertEqual(self._round_trip(texts, "varchar"), texts)
        plain = ["invoice", "credit", "12.30", "-0.01", ""]
        self.assertEqual(array_literal(plain), '{"invoice","credit","12.30","-0.01",""}')
        self.assertEqual(self._round_trip(plain, "varchar"), plain)

    def test_scalar_values(self):
        self.assertEqual(self._round_trip([1, None, -7, 2**31 - 1], "int4"), [1, None, -7, 2**31 - 1])
        self.assertEqual(self._round_trip([True, False, None], "bool"), [True, False, None])
        self._round_trip([0.1, 1e-05, -2.5, 123456789.125, None], "numeric")
        self._round_trip(["12.30", "0.00", "-0.01", None], "numeric")
        self._round_trip([0.1, 1 / 3, None], "float8")
        self._round_trip([date(2026, 12, 3), None], "date")
        self._round_trip([datetime(2026, 12, 3, 15, 4, 5, 123456), datetime(2026, 1, 1), None], "timestamp")

    def test_unquoted_values(self):
        """Ids, amounts, dates and flags go without quotes (one text per column, no escaping)."""
        literal = array_literal([1, None, 0.5, True, date(2026, 12, 3)])
        self.assertEqual(literal, "{1,NULL,0.5,True,2026-12-03}")
        self._round_trip([Decimal("12.30"), None, Decimal("-0.01")], "numeric")
        self._round_trip([1e300, -1e-300, 2.5], "float8")

    def test_other_types_left_to_psycopg2(self):
        values = [{"en_US": "x"}]
        self.assertIs(array_literal(values), values)
        self.assertEqual(array_literal([]), "{}")


class TestDunningBulkAmounts(TransactionCase):
    """The bulk insert writes each amount as the text ``create`` inserts for it (rounded in the
    line's currency), also through its shortcut for amounts already rounded."""

    def test_amounts_as_create_inserts_them(self):
        lines = self.env["credit.dunning.line"]
        field = lines._fields["amount_residual"]
        convert = lines._bulk_column_converter(field, {"currency_id", "amount_residual"})
        nickel = self.env["res.currency"].create({"name": "XNK", "symbol": "N", "rounding": 0.05})
        currencies = [self.env.ref("base.EUR"), self.env.ref("base.JPY"), nickel]
        self.assertEqual(currencies[1].rounding, 1.0)
        rng = random.Random(16)
        values = [0.0, -0.0, 0.005, -0.005, 0.015, 2.675, 1.005, 0.045, 0.025, 1e-12, -1e-12, 123456789.125]
        for _i in range(3000):
            cents = rng.randint(-(10**9), 10**9) / 100
            values += [cents, cents / 3, cents * 1.19, cents + 0.005, cents * 9.12 / 365]
        for currency in currencies:
            for value in values:
                vals = {"currency_id": currency.id, "amount_residual": value}
                expected = field.convert_to_column_insert(value, lines, vals)
                self.assertEqual(convert(vals, "amount_residual"), expected, (currency.name, value))
                self.assertEqual(
                    expected,
                    float_repr(
                        float_round(value, precision_rounding=currency.rounding), currency.decimal_places
                    ),
                )
        # a whole column at once (the bulk insert), currencies mixed: the same texts
        vals_list = [
            {"currency_id": currencies[index % 3].id, "amount_residual": value}
            for index, value in enumerate(values)
        ]
        self.assertEqual(
            convert.column(vals_list, "amount_residual"),
            [convert(vals, "amount_residual") for vals in vals_list],
        )
        # no currency in the values: the amount as given
        bare = lines._bulk_column_converter(field, {"amount_residual"})
        self.assertEqual(bare.column([{"amount_residual": 1.005}], "amount_residual"), [1.005])


class TestDunningBulkPlainColumns(TransactionCase):
    """Plain ids, numbers, dates, flags and texts of a column are converted as one list: the
    values the field's conversion gives one by one; anything else is left to it."""

    def test_plain_columns_as_converted_one_by_one(self):
        lines = self.env["credit.dunning.line"]
        letters = self.env["credit.dunning.letter"]
        cases = [
            (lines, "move_id", [1, False, None, 7]),
            (lines, "days_overdue", [0, 5, False, None, 3]),
            (lines, "charge_error", ["x", False, None, "", 'q"uote \\ back']),
            (lines, "line_type", ["invoice", "credit", False, None]),
            (lines, "date_due", [date(2026, 1, 1), False, None]),
            (letters, "channel_email", [True, False, None]),
        ]
        for model, name, raw in cases:
            field = model._fields[name]
            convert = model._bulk_column_converter(field, {name})
            expected = [convert({name: value}, name) for value in raw]
            self.assertEqual(model._bulk_plain_column(field, raw), expected, name)
        # left to the field's own conversion (which refuses a wrong selection key)
        self.assertIsNone(lines._bulk_plain_column(lines._fields["line_type"], ["bogus"]))
        self.assertIsNone(lines._bulk_plain_column(lines._fields["move_id"], [True, 2]))
        self.assertIsNone(lines._bulk_plain_column(lines._fields["date_due"], ["2026-01-01"]))


@tagged("post_install", "-at_install")
class TestDunningLineThroughLetter(DunningCommon):
    """A line's run, company and customer are its letter's, read and searched through the
    letter (no copy stored on each line): the run's lines, domains on them and the multi-company
    record rule behave as with the stored copies."""

    def _company_2_run(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        self._create_levels(company_2)
        self.env.user.company_ids |= company_2
        invoice = (
            self.env["account.move"]
            .with_company(company_2)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today - timedelta(days=10),
                    "invoice_line_ids": [
                        Command.create({"name": "x", "quantity": 1, "price_unit": 80.0, "tax_ids": []})
                    ],
                }
            )
        )
        invoice.action_post()
        later = invoice.invoice_date_due + timedelta(days=10)
        return company_2, self.run_model.with_company(company_2)._create_runs(company_2, later)

    def test_run_company_customer_through_the_letter(self):
        invoice = self._invoice(100.0, days_ago=10)
        run = self._propose()
        line = run.line_ids
        self.assertEqual(line.move_id, invoice)
        self.assertEqual(line.run_id, run)
        self.assertEqual(line.company_id, self.company)
        self.assertEqual(line.partner_id, self.customer)
        self.assertEqual(run.line_ids, run.letter_ids.line_ids)
        lines = self.env["credit.dunning.line"]
        self.assertEqual(lines.search([("run_id", "=", run.id)]), line)
        self.assertEqual(lines.search([("partner_id", "=", self.customer.id), ("run_id", "=", run.id)]), line)
        self.assertEqual(lines.search([("company_id", "=", self.company.id), ("run_id", "=", run.id)]), line)
        groups = lines._read_group([("run_id", "=", run.id)], ["partner_id"], ["__count"])
        self.assertEqual(groups, [(self.customer, 1)])
        # no column of its own on the line
        for name in ("run_id", "company_id", "partner_id"):
            self.assertFalse(lines._fields[name].store)
            self.assertFalse(column_exists(self.env.cr, "credit_dunning_line", name), name)

    def test_lines_of_another_company_stay_hidden(self):
        self._invoice(100.0, days_ago=10)
        run_1 = self._propose()
        company_2, run_2 = self._company_2_run()
        self.assertEqual(run_2.line_ids.company_id, company_2)
        collector_lines = self.env["credit.dunning.line"].with_user(self.collector)
        self.assertEqual(collector_lines.search([]), run_1.line_ids)
        self.assertFalse(collector_lines.search([("company_id", "=", company_2.id)]))
        with self.assertRaises(AccessError) as caught:
            run_2.line_ids.with_user(self.collector).read(["move_id"])
        self.assertIn("unauthorized or invalid companies", str(caught.exception))
        # a collector of both companies sees both (the companies it works in)
        self.collector.company_ids |= company_2
        both = collector_lines.with_context(allowed_company_ids=[self.company.id, company_2.id])
        self.assertEqual(both.search([]), run_1.line_ids | run_2.line_ids)

    def test_init_drops_the_former_stored_copies(self):
        """Earlier versions stored on the line its letter's run, company and customer (with foreign
        keys and run_id's index); an upgrade drops those columns (the model's init: Odoo leaves
        the column of a field no longer stored)."""
        cr = self.env.cr
        cr.execute(
            """ALTER TABLE credit_dunning_line
                   ADD COLUMN run_id int4 REFERENCES credit_dunning_run (id) ON DELETE SET NULL,
                   ADD COLUMN company_id int4 REFERENCES res_company (id) ON DELETE SET NULL,
                   ADD COLUMN partner_id int4 REFERENCES res_partner (id) ON DELETE SET NULL"""
        )
        cr.execute("CREATE INDEX credit_dunning_line__run_id_index ON credit_dunning_line (run_id)")
        lines = self.env["credit.dunning.line"]
        lines.init()
        for name in ("run_id", "company_id", "partner_id"):
            self.assertFalse(column_exists(cr, "credit_dunning_line", name), name)
        cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'credit_dunning_line__run_id_index'")
        self.assertFalse(cr.fetchall())
        lines.init()  # nothing left to drop: idempotent
        # lines are still created and found through their letter
        self._invoice(100.0, days_ago=10)
        run = self._propose()
        self.assertEqual(lines.search([("run_id", "=", run.id)]), run.line_ids)


@tagged("post_install", "-at_install")
class TestDunningBulkCache(DunningCommon):
    """After the bulk insert the cache holds what ``create`` leaves: the new letters' lines and
    the run's letters are read back without a query, and equal what the database holds."""

    def test_letters_and_lines_read_back_from_the_cache(self):
        other = self.env["res.partner"].create({"name": "Zweiter Kunde AG", "is_company": True})
        for days in (10, 20, 30):
            self._invoice(100.0, days_ago=days)
            self._invoice(50.0, partner=other, days_ago=days)
        self._invoice(20.0, move_type="out_refund", days_ago=3)  # a credit, netted
        run = self._propose()
        counts = []
        queries = self._count_queries(lambda: counts.append(len(run.line_ids)), flush=False)
        self.assertEqual(queries, 0)
        self.assertEqual(counts, [7])
        cached = {letter.id: set(letter.line_ids.ids) for letter in run.letter_ids}
        invoice = run.line_ids.move_id[:1]
        cached_move_lines = set(invoice.credit_dunning_line_ids.ids)
        self.env.invalidate_all()
        self.assertEqual({letter.id: set(letter.line_ids.ids) for letter in run.letter_ids}, cached)
        self.assertEqual(len(cached), 2)
        self.assertEqual(set(invoice.credit_dunning_line_ids.ids), cached_move_lines)
        # an invoice's dunning history read before a proposal: as create leaves it, the draft
        # line is not added (the field lists lines of validated letters only), the letter's
        # lines hold it
        self._invoice(80.0, days_ago=40)
        invoice = self._invoice(60.0, days_ago=45)
        self.assertFalse(invoice.credit_dunning_line_ids)
        run_2 = self._propose()
        line = run_2.line_ids.filtered(lambda line: line.move_id == invoice)
        self.assertEqual(len(line), 1)
        self.assertIn(line, line.letter_id.line_ids)
        self.assertFalse(invoice.credit_dunning_line_ids)
        self.env.invalidate_all()
        self.assertFalse(invoice.credit_dunning_line_ids)
        self.assertIn(line, line.letter_id.line_ids)


@tagged("post_install", "-at_install")
class TestDunningInvoiceAddresses(DunningCommon):
    """The proposal finds every customer's invoice address at once (its contacts read level by
    level, the depth-first search of ``address_get`` run in memory): the same address as
    ``address_get(["invoice"])`` for every shape of contact tree, in queries that do not grow
    with the customers."""

    def _tree(self, name, children=(), **values):
        """A company (or ``values``) with the contacts ``children``: (name, type, children,
        values) tuples, nested."""
        partner = self.env["res.partner"].create({"name": name, "is_company": True, **values})
        self._children(partner, children)
        return partner

    def _children(self, parent, children):
        for name, kind, grandchildren, values in children:
            child = self.env["res.partner"].create(
                {"name": name, "type": kind, "parent_id": parent.id, **values}
            )
            self._children(child, grandchildren)

    def test_same_address_as_address_get(self):
        partners = self.env["res.partner"]
        partners |= self._tree("Ohne Kontakte AG")
        partners |= self._tree("Rechnung AG", [("Zed", "contact", (), {}), ("Anna", "invoice", (), {})])
        # depth first: the invoice address below the first contact comes before a later sibling
        partners |= self._tree(
            "Tief AG",
            [
                ("Bert", "contact", [("Fritz", "invoice", (), {})], {}),
                ("Carl", "invoice", (), {}),
            ],
        )
        # a company below a company is another boundary; an archived contact is not searched
        partners |= self._tree(
            "Grenze AG",
            [
                ("Tochter GmbH", "invoice", (), {"is_company": True}),
                ("Alt", "invoice", (), {"active": False}),
                ("Lieferung", "delivery", (), {}),
            ],
        )
        # no invoice address: the first contact (the customer itself when it is a contact)
        partners |= self._tree("Kontakt AG", [("Lager", "delivery", [("Ida", "contact", (), {})], {})])
        partners |= self._tree(
            "Liefer AG", [("Lager", "delivery", [("Ida", "contact", (), {})], {})], type="delivery"
        )
        # an invoice address of its own; same names ordered by id (newest first, as child_ids)
        partners |= self._tree("Selbst AG", [("Anna", "invoice", (), {})], type="invoice")
        partners |= self._tree(
            "Gleich AG", [("Rechnung", "invoice", (), {}), ("Rechnung", "invoice", (), {})]
        )
        partners |= self._tree("Privat", [("Büro", "invoice", (), {})], is_company=False)
        # a contact below its company (not a commercial entity): searched above it too
        upper = self._tree("Oben AG", [("Mitte", "contact", (), {}), ("Buchhaltung", "invoice", (), {})])
        partners |= upper.child_ids.filtered(lambda contact: contact.name == "Mitte")
        expected = {partner.id: partner.address_get(["invoice"])["invoice"] for partner in partners}
        self.env.invalidate_all()
        found = self.run_model._proposal_invoice_addresses(partners)
        self.assertEqual(found, expected)
        names = {partner.name: found[partner.id] for partner in partners}
        by_id = self.env["res.partner"].browse
        self.assertEqual(by_id(names["Tief AG"]).name, "Fritz")
        self.assertEqual(by_id(names["Grenze AG"]).name, "Grenze AG")
        self.assertEqual(by_id(names["Liefer AG"]).name, "Ida")
        self.assertEqual(by_id(names["Mitte"]).name, "Buchhaltung")
        gleich = partners.filtered(lambda partner: partner.name == "Gleich AG")
        self.assertEqual(names["Gleich AG"], max(gleich.child_ids.ids))

    def test_queries_do_not_grow_with_the_customers(self):
        trees = [
            self._tree(f"Kunde {i}", [("Kontakt", "contact", [("Rechnung", "invoice", (), {})], {})])
            for i in range(10)
        ]
        partners = self.env["res.partner"].concat(*trees)

        def count(customers):
            self.env.invalidate_all()
            result = {}
            queries = self._count_queries(
                lambda: result.update(self.run_model._proposal_invoice_addresses(customers))
            )
            self.assertEqual(
                result, {partner.id: partner.address_get(["invoice"])["invoice"] for partner in customers}
            )
            return queries

        self.assertEqual(count(partners[:1]), count(partners))


@tagged("post_install", "-at_install")
class TestDunningCandidates(DunningCommon):
    """The proposal reads the open receivable items with an index-only scan of the partial index
    credit_control_aml_dunning_idx; every open item counts, whatever the index holds."""

    def test_open_items_from_the_index(self):
        paid = self._invoice(100.0, days_ago=40)
        self._pay(paid)
        partial = self._invoice(300.0, days_ago=35)
        self._pay(partial, amount=100.0)
        open_invoice = self._invoice(50.0, days_ago=30)
        credit = self._invoice(20.0, days_ago=3, move_type="out_refund")
        draft = self._invoice(70.0, days_ago=30, post=False)
        rows = self.run_model._get_dunning_candidates(self.company, self.today)
        by_move = {row["move_id"]: row for row in rows}
        self.assertNotIn(paid.id, by_move)
        self.assertNotIn(draft.id, by_move)
        self.assertEqual(by_move[partial.id]["residual"], 200.0)
        self.assertEqual(by_move[open_invoice.id]["residual"], 50.0)
        self.assertEqual(by_move[credit.id]["residual"], -20.0)
        # the same documents and amounts as the ORM's open receivable items
        expected = {
            move.id: (residual, date_due)
            for move, residual, date_due in self.env["account.move.line"]._read_group(
                [
                    ("company_id", "=", self.company.id),
                    ("parent_state", "=", "posted"),
                    ("account_id.account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                    ("partner_id", "!=", False),
                ],
                ["move_id"],
                ["amount_residual:sum", "date_maturity:min"],
            )
            if residual
        }
        self.assertEqual({row["move_id"]: (row["residual"], row["date_due"]) for row in rows}, expected)
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'credit_control_aml_dunning_idx'"
        )
        [[definition]] = self.env.cr.fetchall()
        self.assertIn("reconciled IS NOT TRUE", definition)
