from datetime import date, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditForecast(CreditControlCommon):
    def test_predicted_dates_and_band(self):
        # a customer who pays 10 days late on average, at worst 30 days late
        self.customer.sudo().write({"credit_avg_days_late": 10.0, "credit_max_days_late": 30})
        today = self.today
        monday = today - timedelta(days=today.weekday())
        self._invoice(700.0, days_ago=0, term=self.term_30)  # due in 30 days
        self._invoice(200.0, days_ago=60)  # overdue: predicted today at best
        forecast = self.env["credit.forecast"]._compute(today)
        weeks = forecast["weeks"]

        def week_of(day):
            return (day - monday).days // 7

        due = today + timedelta(days=30)
        self.assertEqual(weeks[0]["best"], 200.0, "overdue items are expected at once at best")
        self.assertEqual(weeks[week_of(due)]["best"], 700.0)
        self.assertEqual(weeks[week_of(due + timedelta(days=10))]["expected"], 700.0)
        self.assertEqual(weeks[week_of(due + timedelta(days=30))]["worst"], 700.0)
        for key in ("best", "expected", "worst"):
            self.assertEqual(sum(w[key] for w in weeks), 900.0, key)
            self.assertEqual(sum(m[key] for m in forecast["months"]), 900.0, key)
        self.assertEqual(forecast["months"][0]["start"], date(today.year, today.month, 1))
        self.assertEqual(len(weeks), 13)
        self.assertEqual(len(forecast["months"]), 6)

    def test_promise_and_payment_plan_dates(self):
        """Customer paying 10 days late on average, at worst 30 (today = T, weeks from T's Monday):

        - invoice X 1,000 due T+30 with an open promise of 400 on T+7 (grace 3 days): 400 at T+7
          (best, expected), T+10 (worst); the other 600 at T+30 / T+40 / T+60
        - invoice Y 900 (overdue) in an active payment plan of three instalments of 300 due T-16
          (paid), T+14 and T+44: 300 at T+14 (best, expected; worst T+44) and 300 at T+44 (worst
          T+74) -> Y itself is not forecast, its instalments are
        - a broken promise and a cancelled plan change nothing
        Totals: 600 + 400 + 300 + 300 = 1,600 in every scenario (all within 13 weeks).
        """
        self.customer.sudo().write({"credit_avg_days_late": 10.0, "credit_max_days_late": 30})
        today = self.today
        monday = today - timedelta(days=today.weekday())
        invoice_x = self._invoice(1000.0, days_ago=0, term=self.term_30)
        invoice_y = self._invoice(900.0, days_ago=40)
        self.env["credit.promise"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice_x.ids)],
                    "amount": 400.0,
                    "date_promised": today + timedelta(days=7),
                    "grace_days": 3,
                },
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice_x.ids)],
                    "amount": 1000.0,
                    "date_promised": today - timedelta(days=20),
                    "state": "broken",
                },
            ]
        )
        plan_vals = {
            "partner_id": self.customer.id,
            "move_ids": [Command.set(invoice_y.ids)],
            "amount_total": 900.0,
            "instalment_count": 3,
            "date_first": today - timedelta(days=16),
            "line_ids": [
                Command.create(
                    {
                        "date_due": today - timedelta(days=16),
                        "amount": 300.0,
                        "amount_paid": 300.0,
                        "state": "paid",
                    }
                ),
                Command.create({"date_due": today + timedelta(days=14), "amount": 300.0}),
                Command.create({"date_due": today + timedelta(days=44), "amount": 300.0}),
            ],
        }
        active, cancelled = self.env["credit.payment.plan"].create([plan_vals, plan_vals])
        # the states the plan workflow would reach (it also checks amounts, dunning, tasks)
        active.sudo().state = "active"
        cancelled.sudo().state = "cancel"
        weeks = self.env["credit.forecast"]._compute(today)["weeks"]

        def week(days):
            return weeks[(today + timedelta(days=days) - monday).days // 7]

        def amounts(key):
            return {i: w[key] for i, w in enumerate(weeks) if w[key]}

        def expect(pairs):
            result = {}
            for days, amount in pairs:
                index = weeks.index(week(days))
                result[index] = result.get(index, 0.0) + amount
            return result

        self.assertEqual(amounts("best"), expect([(7, 400.0), (30, 600.0), (14, 300.0), (44, 300.0)]))
        self.assertEqual(amounts("expected"), expect([(7, 400.0), (40, 600.0), (14, 300.0), (44, 300.0)]))
        self.assertEqual(amounts("worst"), expect([(10, 400.0), (60, 600.0), (44, 300.0), (74, 300.0)]))
        for key in ("best", "expected", "worst"):
            self.assertEqual(sum(w[key] for w in weeks), 1600.0, key)


@tagged("post_install", "-at_install")
class TestCreditForecastOpenCredits(CreditControlCommon):
    """Open credits are money already received: per customer they reduce the expected receipts,
    oldest items first; a customer with a net balance of 0 or less is not forecast."""

    def _receivable_balance(self, partners):
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "in", partners.ids),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
            ]
        )
        return sum(lines.mapped("balance"))

    def test_credits_netted_per_customer(self):
        today = self.today
        monday = today - timedelta(days=today.weekday())
        zero = self.env["res.partner"].create({"name": "Null Saldo GmbH", "is_company": True})
        self._invoice(5000.0, partner=zero, days_ago=0, term=self.term_30)
        self._unreconciled_payment(5000.0, partner=zero)
        # customer: 1,000 overdue (oldest), 700 due in 30 days, a credit note of 1,200 -> 500 left
        # of the 700 at its due date, nothing of the overdue invoice
        self._invoice(1000.0, days_ago=40)
        self._invoice(700.0, days_ago=0, term=self.term_30)
        self._invoice(1200.0, move_type="out_refund", days_ago=2)
        # a customer whose credit exceeds its invoice: not forecast, no negative receipts
        minus = self.env["res.partner"].create({"name": "Guthaben GmbH", "is_company": True})
        self._invoice(300.0, partner=minus, days_ago=10)
        self._unreconciled_payment(800.0, partner=minus)
        forecast = self.env["credit.forecast"]._compute(today)
        weeks = forecast["weeks"]
        due = today + timedelta(days=30)
        self.assertEqual(weeks[0]["best"], 0.0, "the overdue invoice is paid by the credit note")
        self.assertEqual(weeks[(due - monday).days // 7]["best"], 500.0)
        for key in ("best", "expected", "worst"):
            self.assertTrue(all(w[key] >= 0 for w in weeks), key)
            # reconciles with the receivable balance: the sum of the positive net balances
            positive = sum(
                max(self._receivable_balance(partner), 0.0) for partner in (zero, self.customer, minus)
            )
            self.assertEqual(positive, 500.0)
            self.assertEqual(sum(m[key] for m in forecast["months"]), positive, key)
            self.assertEqual(sum(w[key] for w in weeks), positive, key)
        self.assertEqual(self._receivable_balance(zero | self.customer | minus), 0.0)
