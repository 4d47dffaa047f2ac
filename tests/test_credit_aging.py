import io
from datetime import timedelta

import openpyxl

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

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
            self.assertAlmostEqual(buckets, balance)

    def test_read_group_by_bucket(self):
        groups = self.env["credit.aging.report"]._read_group(
            [("partner_id", "=", self.customer.id)], ["bucket"], ["amount_open:sum"]
        )
        self.assertEqual(dict(groups), {"not_due": 250.0, "180_plus": 250.0, "1_30": -100.0})

    def test_bad_dates(self):
        with self.assertRaises(UserError):
            self.env["credit.aging.report"].action_open(self.today + timedelta(days=1))
        with self.assertRaises(UserError):
            self.env["credit.aging.report"].action_open("1990-01-01")
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
        with self.assertRaises(UserError):
            self.env["credit.aging.xlsx"]._generate(self.today + timedelta(days=3))
