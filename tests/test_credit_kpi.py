from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditKpi(CreditControlCommon):
    """A small ledger computed by hand (company currency, no taxes):

    - 2025-01-10 invoice 3,000, due at once; 1,000 paid on 2025-02-15
    - 2025-02-10 invoice 2,000, due 2025-03-12; 1,000 paid on 2025-03-25
    - 2025-03-20 invoice 1,500, due 2025-04-19

    End of March: receivables 2,000 + 1,000 + 1,500 = 4,500; current (not due) 1,500; overdue 3,000.
    DSO countback: 4,500 - 1,500 (March, 31 days) = 3,000; - 2,000 (February, 28 days) = 1,000;
    January: 1,000 / 3,000 x 31 = 10.333 -> DSO = 31 + 28 + 10.333 = 69.333 days.
    Best possible DSO: 1,500 / 1,500 x 31 = 31. ADD = 38.333.
    CEI (March): opening 2,000 + 2,000 = 4,000; (4,000 + 1,500 - 4,500) / (4,000 + 1,500 - 1,500)
    = 1,000 / 4,000 = 25 %. Overdue share 3,000 / 4,500 = 66.67 %.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jan = cls._dated_invoice(3000.0, date(2025, 1, 10), cls.immediate)
        cls._pay(cls.jan, amount=1000.0, days_after_invoice=36)  # 2025-02-15
        cls.feb = cls._dated_invoice(2000.0, date(2025, 2, 10), cls.term_30)
        cls._pay(cls.feb, amount=1000.0, days_after_invoice=43)  # 2025-03-25
        cls.mar = cls._dated_invoice(1500.0, date(2025, 3, 20), cls.term_30)

    @classmethod
    def _dated_invoice(cls, amount, invoice_date, term):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create({"name": "Goods", "price_unit": amount, "tax_ids": [Command.clear()]})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_march_kpis_by_hand(self):
        kpi = self.env["credit.kpi"]._compute_month(date(2025, 3, 31))
        self.assertEqual(kpi["credit_sales"], 1500.0)
        self.assertEqual(kpi["receivables"], 4500.0)
        self.assertEqual(kpi["current"], 1500.0)
        self.assertEqual(kpi["overdue"], 3000.0)
        self.assertAlmostEqual(kpi["dso"], 69.333, places=3)
        self.assertAlmostEqual(kpi["best_dso"], 31.0)
        self.assertAlmostEqual(kpi["add"], 38.333, places=3)
        self.assertAlmostEqual(kpi["cei"], 25.0)
        self.assertAlmostEqual(kpi["overdue_share"], 66.667, places=3)

    def test_month_without_sales_no_division_by_zero(self):
        kpi = self.env["credit.kpi"]._compute_month(date(2025, 4, 30))
        self.assertEqual(kpi["credit_sales"], 0.0)
        self.assertEqual(kpi["best_dso"], 0.0)
        self.assertEqual(kpi["receivables"], 4500.0)
        # April has no sales: its 30 days count, then as in March: 30 + 69.333
        self.assertAlmostEqual(kpi["dso"], 99.333, places=3)
        empty = self.env["credit.kpi"]._compute_month(date(2024, 6, 30))
        self.assertEqual((empty["dso"], empty["cei"], empty["overdue_share"]), (0.0, 0.0, 0.0))

    def test_last_months(self):
        months = self.env["credit.kpi"]._compute_last_months(3, today=date(2025, 3, 15))
        self.assertEqual([m["month"] for m in months], [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)])
        self.assertEqual(months[0]["credit_sales"], 3000.0)
        # end of January: 3,000 open, all overdue, DSO = 3,000 / 3,000 x 31
        self.assertAlmostEqual(months[0]["dso"], 31.0)
        self.assertAlmostEqual(months[0]["overdue_share"], 100.0)

    def test_screens(self):
        action = self.env["credit.kpi.month"].with_user(self.collector).action_open()
        months = self.env["credit.kpi.month"].search(action["domain"])
        self.assertEqual(len(months), 12)
        action = self.env["credit.forecast.period"].with_user(self.collector).action_open()
        periods = self.env["credit.forecast.period"].search(action["domain"])
        self.assertEqual(len(periods), 19)
