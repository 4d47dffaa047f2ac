import io
from datetime import timedelta

import openpyxl

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.credit_control.reports.credit_aging_report import BUCKETS

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditAging(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(1000.0, days_ago=100)  # due at once: 100 days ago
        cls._pay(cls.invoice, amount=400.0, days_after_invoice=50)  # 50 days ago
        cls._pay(cls.invoice, amount=600.0, days_after_invoice=90)  # 10 days ago: paid
        cls.refund = cls._invoice(100.0, move_type="out_refund", days_ago=30)
        cls.recent = cls._invoice(250.0, days_ago=5, term=cls.term_30)  # not due
        other = cls.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        cls.foreign = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.contact.id,
                "invoice_date": cls.today - timedelta(days=200),
                "currency_id": other.id,
                "invoice_payment_term_id": cls.immediate.id,
                "invoice_line_ids": [
                    Command.create({"name": "x", "price_unit": 500.0, "tax_ids": [Command.clear()]})
                ],
            }
        )
        cls.foreign.action_post()

    def _aging(self, days_ago):
        as_of = self.today - timedelta(days=days_ago)
        return self.env["credit.aging.report"]._get_aging(as_of, [("partner_id", "=", self.customer.id)])

    def _receivable_balance(self, days_ago):
        as_of = self.today - timedelta(days=days_ago)
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", self.customer.id),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("date", "<=", as_of),
            ]
        )
        return sum(lines.mapped("balance"))

    def test_as_of_dates_count_only_earlier_reconciliations(self):
        at_60 = self._aging(60)  # before any payment: the whole invoice is open, 40 days overdue
        invoice_row = at_60.filtered(lambda r: r.move_id == self.invoice)
        self.assertEqual(invoice_row.amount_open, 1000.0)
        self.assertEqual(invoice_row.days_overdue, 40)
        self.assertEqual(invoice_row.bucket, "31_60")
        self.assertEqual(invoice_row.amount_31_60, 1000.0)
        at_20 = self._aging(20)  # after the partial payment
        self.assertEqual(at_20.filtered(lambda r: r.move_id == self.invoice).amount_open, 600.0)
        self.assertEqual(at_20.filtered(lambda r: r.move_id == self.refund).amount_open, -100.0)
        today = self._aging(0)
        self.assertFalse(today.filtered(lambda r: r.move_id == self.invoice), "paid in full since")
        recent = today.filtered(lambda r: r.move_id == self.recent)
        self.assertEqual(recent.bucket, "not_due")
        self.assertEqual(recent.amount_not_due, 250.0)
        foreign = today.filtered(lambda r: r.move_id == self.foreign)
        self.assertEqual(foreign.partner_id, self.customer, "contacts roll up")
        self.assertEqual(foreign.bucket, "180_plus")
        self.assertEqual(foreign.amount_open, 250.0, "company currency at the booking rate")

    def test_totals_agree_with_the_receivable_balance(self):
        for days_ago in (0, 20, 60, 95, 150, 250):
            rows = self._aging(days_ago)
            buckets = sum(
                rows.mapped(name)[i]
                for name in (
                    "amount_not_due",
                    "amount_1_30",
                    "amount_31_60",
                    "amount_61_90",
                    "amount_91_180",
                    "amount_180_plus",
                )
                for i in range(len(rows))
            )
            balance = self._receivable_balance(days_ago)
            self.assertAlmostEqual(sum(rows.mapped("amount_open")), balance, msg=f"{days_ago} days ago")
            # buckets net of the open credits + the credits the invoices do not absorb
            self.assertAlmostEqual(buckets + sum(rows.mapped("amount_credit")), balance)

    def test_read_group_by_bucket(self):
        groups = self.env["credit.aging.report"]._read_group(
            [("partner_id", "=", self.customer.id)], ["bucket"], ["amount_open:sum"]
        )
        self.assertEqual(dict(groups), {"not_due": 250.0, "180_plus": 250.0, "1_30": -100.0})

    def test_bad_dates(self):
        with self.assertRaises(UserError) as caught:
            self.env["credit.aging.report"].action_open(self.today + timedelta(days=1))
        self.assertRegex(str(caught.exception), r"The aging cannot be computed for a future date")
        with self.assertRaises(UserError) as caught:
            self.env["credit.aging.report"].action_open("1990-01-01")
        self.assertRegex(
            str(caught.exception), r"There are no journal entries on or before.*choose a later date\."
        )
        action = self.env["credit.aging.open"].create({"aging_date": self.today}).action_open()
        self.assertEqual(action["context"]["aging_date"], fields.Date.to_string(self.today))


@tagged("post_install", "-at_install")
class TestCreditAgingXlsx(CreditControlCommon):
    def test_xlsx_values_and_formats(self):
        self._invoice(1000.0, days_ago=45)
        self._invoice(200.0, days_ago=5, term=self.term_30)
        other = self.env["res.partner"].create({"name": "Zeta KG", "is_company": True})
        self._invoice(300.0, partner=other, days_ago=200)
        content = self.env["credit.aging.xlsx"]._generate(self.today)
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        self.assertEqual(sheet.freeze_panes, "B4")
        self.assertEqual(sheet["A3"].value, "Customer")
        self.assertEqual(sheet["C3"].value, "1-30 Days")
        rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in range(2, 9)] for r in range(4, 6)}
        self.assertEqual(rows["Muster GmbH"], [200.0, 0, 1000.0, 0, 0, 0, 1200.0])
        self.assertEqual(rows["Zeta KG"], [0, 0, 0, 0, 0, 300.0, 300.0])
        self.assertEqual(sheet["A6"].value, "Total")
        self.assertEqual(sheet["H6"].value, 1500.0)
        self.assertIn("#,##0.00", sheet["D4"].number_format)
        self.assertTrue(sheet.auto_filter.ref.startswith("A3"))
        action = self.env["credit.aging.open"].create({"aging_date": self.today}).action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_xlsx_bad_date(self):
        with self.assertRaises(UserError) as caught:
            self.env["credit.aging.xlsx"]._generate(self.today + timedelta(days=3))
        self.assertRegex(str(caught.exception), r"The aging cannot be computed for a future date")


@tagged("post_install", "-at_install")
class TestCreditAgingLedger(CreditControlCommon):
    """A crafted ledger: partial payments, a credit note matched later, a foreign-currency invoice
    partly paid at another rate (exchange difference), a second customer. At every date the aging
    totals (and the XLSX totals) equal the balance of the receivable accounts on that date."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls.today
        cls.chf = cls.setup_other_currency("CHF", rates=[("2016-01-01", 2.0), (t - timedelta(days=60), 1.6)])
        cls.other = cls.env["res.partner"].create({"name": "Zeta KG", "is_company": True})
        cls.inv_1 = cls._invoice(1000.0, days_ago=150, term=cls.term_30)  # due 120 days ago
        cls._pay(cls.inv_1, amount=300.0, days_after_invoice=40)  # 110 days ago
        cls._pay(cls.inv_1, amount=200.0, days_after_invoice=100)  # 50 days ago
        cls.inv_2 = cls._invoice(400.0, days_ago=80)
        cls.refund = cls._invoice(150.0, move_type="out_refund", days_ago=70)
        cls.inv_fx = cls._invoice(800.0, days_ago=90, currency=cls.chf)  # 400.00 at rate 2
        cls._pay(cls.inv_fx, amount=400.0, days_after_invoice=45)  # 45 days ago: 250.00 at 1.6
        cls.inv_other = cls._invoice(700.0, partner=cls.other, days_ago=10)
        # the credit note is matched with the second invoice (today): as in Odoo's aged
        # receivable, a match counts from the later of the two documents' dates (max_date)
        lines = (cls.inv_2 | cls.refund).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        lines.reconcile()
        cls.receivables = cls.env["account.account"].search(
            [("account_type", "=", "asset_receivable"), ("company_ids", "in", cls.company.ids)]
        )

    def _balance(self, as_of):
        groups = self.env["account.move.line"]._read_group(
            [
                ("account_id", "in", self.receivables.ids),
                ("parent_state", "=", "posted"),
                ("date", "<=", as_of),
                ("company_id", "=", self.company.id),
            ],
            [],
            ["balance:sum"],
        )
        return groups[0][0] or 0.0

    def test_buckets_and_totals_at_every_date(self):
        report = self.env["credit.aging.report"]
        for days_ago in (0, 15, 30, 46, 60, 75, 85, 105, 130, 149):
            as_of = self.today - timedelta(days=days_ago)
            totals = report._get_aging_totals(as_of)
            balance = self._balance(as_of)
            self.assertAlmostEqual(totals["amount_open"], balance, msg="%s days ago" % days_ago)
            buckets = sum(totals["amount_%s" % key] for key, _label in BUCKETS)
            self.assertAlmostEqual(buckets, balance, msg="buckets %s days ago" % days_ago)
            content = self.env["credit.aging.xlsx"]._generate(as_of)
            sheet = openpyxl.load_workbook(io.BytesIO(content)).active
            self.assertAlmostEqual(
                sheet.cell(sheet.max_row, 8).value, balance, msg="xlsx %s days ago" % days_ago
            )

    def test_open_amounts_per_document(self):
        def rows(days_ago):
            return {
                row.move_id: row
                for row in self.env["credit.aging.report"]._get_aging(self.today - timedelta(days=days_ago))
            }

        at_75 = rows(75)  # after the first payment, before the refund's match
        self.assertEqual(at_75[self.inv_1].amount_open, 700.0)
        self.assertEqual(at_75[self.inv_1].bucket, "31_60")  # due 120 days ago: 45 days at 75 days ago
        self.assertEqual(at_75[self.inv_2].amount_open, 400.0)
        self.assertEqual(at_75[self.inv_2].amount_1_30, 400.0)
        self.assertEqual(at_75[self.inv_fx].amount_open, 400.0, "CHF 800 at rate 2")
        self.assertNotIn(self.refund, rows(80), "not yet issued")
        at_30 = rows(30)
        self.assertEqual(at_30[self.inv_1].amount_open, 500.0)
        self.assertEqual(at_30[self.inv_2].amount_open, 250.0, "the credit note counts from its own date")
        self.assertNotIn(self.refund, at_30)
        # the CHF payment at rate 1.6 settles CHF 400 = 200.00 of the invoice's booked value
        self.assertAlmostEqual(at_30[self.inv_fx].amount_open, 200.0)
        self.assertEqual(at_30[self.inv_fx].bucket, "31_60")
        today = rows(0)
        self.assertEqual(today[self.inv_2].amount_open, 250.0)
        self.assertNotIn(self.refund, today, "fully matched")
        self.assertEqual(today[self.inv_other].partner_id, self.other)
        self.assertEqual(today[self.inv_1].amount_180_plus, 0.0)
        self.assertEqual(today[self.inv_1].amount_91_180, 500.0)
        # (rows of another date share the ids: read one date's values before asking for the next)
        self.assertEqual(rows(72)[self.inv_2].amount_open, 400.0, "before the credit note")


@tagged("post_install", "-at_install")
class TestCreditAgingOpenCredits(CreditControlCommon):
    """Open credits netted per customer, oldest invoices first: no negative bucket, never more
    overdue than the total; buckets + unapplied credits = the receivable balance."""

    def test_crafted_ledger_with_open_credits(self):
        # customer: 1,000 overdue 60 days, 500 not due; credit note 1,200 and a payment of 100
        # -> the 1,000 is offset, 200 of the 500 is left
        self._invoice(1000.0, days_ago=60)
        self._invoice(500.0, days_ago=0, term=self.term_30)
        self._invoice(1200.0, move_type="out_refund", days_ago=5)
        self._unreconciled_payment(100.0)
        # other: 300 overdue, 500 paid without allocation -> nothing open, 200 unapplied credit
        other = self.env["res.partner"].create({"name": "Guthaben GmbH", "is_company": True})
        self._invoice(300.0, partner=other, days_ago=20)
        self._unreconciled_payment(500.0, partner=other)
        partners = self.customer | other
        report = self.env["credit.aging.report"]
        rows = report._get_aging(self.today, [("partner_id", "in", partners.ids)])
        bucket_names = ["amount_%s" % key for key, _label in BUCKETS]
        for row in rows:
            for name in bucket_names:
                self.assertGreaterEqual(row[name], 0.0, f"{row.move_name} {name}")
        mine = rows.filtered(lambda r: r.partner_id == self.customer)
        self.assertEqual(sum(mine.mapped("amount_31_60")), 0.0)
        self.assertEqual(sum(mine.mapped("amount_not_due")), 200.0)
        self.assertEqual(sum(mine.mapped("amount_credit")), 0.0)
        theirs = rows.filtered(lambda r: r.partner_id == other)
        details = [(r.move_name, r.date_maturity, r.amount_open, r.amount_net, r.amount_credit) for r in rows]
        self.assertEqual(sum(theirs.mapped("amount_1_30")), 0.0, details)
        self.assertEqual(sum(theirs.mapped("amount_credit")), -200.0)
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "in", partners.ids),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
            ]
        )
        balance = sum(lines.mapped("balance"))
        self.assertEqual(balance, 0.0)
        buckets = sum(sum(rows.mapped(name)) for name in bucket_names)
        self.assertEqual(buckets, 200.0)
        self.assertEqual(buckets + sum(rows.mapped("amount_credit")), balance)
        self.assertEqual(sum(rows.mapped("amount_open")), balance)
        # the dashboard's bars (one aggregate query) agree, and the totals of the company
        bars = self.env["credit.kpi"]._aging_buckets(self.today)
        totals = report._get_aging_totals(self.today)
        for key, _label in BUCKETS:
            self.assertAlmostEqual(bars[key], totals["amount_%s" % key], msg=key)
        self.assertAlmostEqual(bars["credit"], totals["amount_credit"])
        self.assertAlmostEqual(bars["open"], totals["amount_open"])
        # the overdue share counts the overdue invoices net of credits: none here
        receivables = self.env["credit.kpi"]._receivables(self.today)
        self.assertEqual(receivables["overdue"], 0.0)
        self.assertEqual(receivables["current"], 200.0)
        self.assertEqual(receivables["total"], balance)

    def test_title_in_the_users_date_format(self):
        self._invoice(100.0, days_ago=3)
        self.env["res.lang"]._activate_lang("de_DE")
        action = self.env["credit.aging.report"].with_context(lang="de_DE").action_open(self.today)
        self.assertIn(self.today.strftime("%d.%m.%Y"), action["display_name"])
