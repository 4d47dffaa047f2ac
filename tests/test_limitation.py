from datetime import date

from odoo.tests import tagged

from odoo.addons.credit_control.lib.limitation import limitation_end

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestLimitation(CreditControlCommon):
    def _invoice_on(self, invoice_date, amount=100.0):
        days = (self.today - invoice_date).days
        return self._invoice(amount, days_ago=days)

    def _watch(self, **kwargs):
        items = self.env["account.move.line"]._credit_limitation_items(self.company, **kwargs)
        return {item["move_id"]: item for item in items}

    def test_limitation_end_by_hand(self):
        # §§195, 199 BGB: three years from the end of the year the claim arose
        self.assertEqual(limitation_end(date(2023, 6, 15)), date(2026, 12, 31))
        self.assertEqual(limitation_end(date(2023, 1, 1)), date(2026, 12, 31))
        self.assertEqual(limitation_end(date(2023, 12, 31)), date(2026, 12, 31))
        self.assertEqual(limitation_end(date(2024, 1, 1)), date(2027, 12, 31))

    def test_items_within_the_horizon(self):
        june_2023 = self._invoice_on(date(2023, 6, 15))
        dec_2023 = self._invoice_on(date(2023, 12, 31), amount=250.0)
        jan_2024 = self._invoice_on(date(2024, 1, 2))
        old_2022 = self._invoice_on(date(2022, 3, 1))
        paid_2023 = self._invoice_on(date(2023, 5, 1))
        self._pay(paid_2023)
        line = june_2023.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        self.assertEqual(line.credit_limitation_date, date(2026, 12, 31))

        # 2026-09-10 + 120 days = 2027-01-08: the 2023 claims lapse on 2026-12-31 (112 days left)
        watch = self._watch(date=date(2026, 9, 10))
        self.assertEqual(
            set(watch), {june_2023.id, dec_2023.id}, "not the 2024 one, the lapsed or the paid one"
        )
        item = watch[june_2023.id]
        self.assertEqual(item["date_limitation"], date(2026, 12, 31))
        self.assertEqual(item["days_left"], 112)
        self.assertEqual(item["date_origin"], date(2023, 6, 15))
        self.assertEqual(item["partner_id"], self.customer.id)
        self.assertEqual(watch[dec_2023.id]["amount_residual"], 250.0)
        # the horizon: a day short of the end of the year, nothing
        self.assertFalse(self._watch(date=date(2026, 9, 10), horizon_days=111))
        self.assertEqual(len(self._watch(date=date(2026, 9, 10), horizon_days=112)), 2)
        # the company setting is the default horizon
        self.company.credit_limitation_horizon_days = 30
        self.assertFalse(self._watch(date=date(2026, 9, 10)))
        # across the turn of the year: the 2024 claims come next
        self.company.credit_limitation_horizon_days = 400
        watch = self._watch(date=date(2027, 1, 1))
        self.assertEqual(set(watch), {jan_2024.id}, "the 2023 claims lapsed yesterday")
        self.assertNotIn(old_2022.id, watch)
        # a partial payment leaves the rest to watch
        self._pay(jan_2024, amount=40.0)
        self.assertEqual(self._watch(date=date(2027, 1, 1))[jan_2024.id]["amount_residual"], 60.0)

    def test_other_company_not_listed(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        self._invoice_on(date(2023, 6, 15))
        items = self.env["account.move.line"]._credit_limitation_items(company_2, date=date(2026, 12, 1))
        self.assertEqual(items, [])

    def test_watch_action(self):
        invoice = self._invoice_on(date(2023, 6, 15))
        action = self.env["account.move.line"].with_user(self.collector).action_credit_limitation_watch()
        lines = self.env["account.move.line"].search(action["domain"])
        # "today" decides: the invoice is listed only when its end falls within 120 days
        expected = (date(2026, 12, 31) - self.today).days
        if 0 <= expected <= 120:
            self.assertIn(invoice, lines.move_id)
        else:
            self.assertNotIn(invoice, lines.move_id)
