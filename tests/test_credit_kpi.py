from datetime import date

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged

from .common import CreditControlCommon


class KpiCommon(CreditControlCommon):
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


@tagged("post_install", "-at_install")
class TestCreditKpi(KpiCommon):
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

    def test_current_month_to_date(self):
        """The current month counts up to today (2025-03-20): receivables 2,000 (Jan) + 2,000 (Feb,
        the 2025-03-25 payment is still to come) + 1,500 (Mar) = 5,500, not due 1,500 (Mar).
        DSO: 5,500 - 1,500 (March, 20 days so far) = 4,000; - 2,000 (Feb, 28) = 2,000;
        2,000 / 3,000 x 31 = 20.667 -> 68.667. Best possible DSO 1,500 / 1,500 x 20 = 20."""
        kpi = self.env["credit.kpi"]._compute_month(date(2025, 3, 31), today=date(2025, 3, 20))
        self.assertEqual((kpi["receivables"], kpi["current"], kpi["overdue"]), (5500.0, 1500.0, 4000.0))
        self.assertAlmostEqual(kpi["dso"], 68.667, places=3)
        self.assertAlmostEqual(kpi["best_dso"], 20.0)

    def test_open_credit_is_never_overdue(self):
        """An unallocated credit note of 500 dated 2025-03-05 (due at once): total 4,500 - 500 = 4,000;
        the credit is money received: it offsets the customer's oldest invoices, the overdue ones:
        overdue 3,000 - 500 = 2,500, current 1,500 (a credit is neither). March credit sales
        1,500 - 500 = 1,000; best possible DSO 1,500 / 1,000 x 31 = 46.5; overdue share
        2,500 / (1,500 + 2,500) = 62.5 %."""
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": date(2025, 3, 5),
                "invoice_payment_term_id": self.immediate.id,
                "invoice_line_ids": [
                    Command.create({"name": "Goodwill", "price_unit": 500.0, "tax_ids": [Command.clear()]})
                ],
            }
        )
        refund.action_post()
        kpi = self.env["credit.kpi"]._compute_month(date(2025, 3, 31))
        self.assertEqual((kpi["receivables"], kpi["overdue"], kpi["current"]), (4000.0, 2500.0, 1500.0))
        self.assertAlmostEqual(kpi["best_dso"], 46.5)
        self.assertAlmostEqual(kpi["overdue_share"], 62.5, places=3)

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
        # the month in words in the user's language, a click opens the aging as of its last day
        self.env["res.lang"]._activate_lang("de_DE")
        march = months.filtered(lambda m: m.month == date(2025, 3, 1)) or months[-1]
        label = march.with_context(lang="de_DE").month_label
        self.assertRegex(label, r"^[A-ZÄÖÜ][a-zäöü]+ \d{4}$")
        self.assertNotIn(".", label)
        opened = march.with_user(self.collector).action_open_month()
        self.assertEqual(opened["res_model"], "credit.aging.report")
        self.assertLessEqual(opened["context"]["aging_date"], fields.Date.to_string(fields.Date.today()))
        action = self.env["credit.forecast.period"].with_user(self.collector).action_open()
        periods = self.env["credit.forecast.period"].search(action["domain"])
        self.assertEqual(len(periods), 19)


@tagged("post_install", "-at_install")
class TestCreditKpiCollections(KpiCommon):
    """Write-offs, dunning effectiveness, blocked orders and customers over limit, by hand
    (company currency, no taxes, immediate payment terms):

    May 2025 — credit sales 1,200 + 800 + 2,000 = 4,000:
    - A 2025-05-05 1,200: paid 1,000 on 2025-05-20, the 200 difference "marked as fully paid" to an
      expense account -> write-off 200
    - B 2025-05-10 800: 300 written off on 2025-05-25 by a journal entry receivable / expense
      -> write-off 300
    - C 2025-05-12 2,000
    Write-offs May = 500; write-off ratio = 500 / 4,000 = 12.5 %. June (no sales, one credit note
    of -200): write-offs 0, ratio 0 (no division by zero on non-positive sales).

    June 2025 — dunning (validated letters only; the draft letter of 2025-06-21 does not count):
    - letter 2025-06-02, Payment Reminder: B open 500, C open 2,000 (dunned 2,500).
      B paid 500 on 2025-06-10 (within 06-03..06-16); C paid 500 on 2025-06-20 (too late)
      -> paid 500; share 500 / 2,500 = 20 %
    - letter 2025-06-21, First Dunning Letter: C open 1,500 (dunned 1,500).
      Credit note 200 reconciled with C on 2025-06-25 (not a payment: does not count);
      C paid 1,300 on 2025-07-05 (day 14, counts) -> paid 1,300; share 1,300 / 1,500 = 86.667 %
    - June overall: (500 + 1,300) / (2,500 + 1,500) = 1,800 / 4,000 = 45 %

    Credit decisions: order 1 blocked twice in June (1,000 and 1,200, rule limit), order 2 blocked
    once in June (800, limit), order 3 blocked in June for its hold (300) and in May (500, limit),
    a release of order 1 in June (no block).
    Blocked orders June: 3 orders, 1,200 + 800 + 300 = 2,300; May: 1 order, 500.
    Decisions whose rule is the limit: June the customer (twice) and customer 2, customer 3 was
    blocked for its hold -> customers over limit June = 2; May (order 3, limit) = 1.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expense = cls.company_data["default_account_expense"]
        cls.receivable = cls.company_data["default_account_receivable"]
        cls.inv_a = cls._dated_invoice(1200.0, date(2025, 5, 5), cls.immediate)
        cls.inv_b = cls._dated_invoice(800.0, date(2025, 5, 10), cls.immediate)
        cls.inv_c = cls._dated_invoice(2000.0, date(2025, 5, 12), cls.immediate)
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.inv_a.ids
        ).create(
            {
                "payment_date": date(2025, 5, 20),
                "amount": 1000.0,
                "payment_difference_handling": "reconcile",
                "writeoff_account_id": cls.expense.id,
                "writeoff_label": "Bad debt",
            }
        )._create_payments()
        write_off = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "date": date(2025, 5, 25),
                "journal_id": cls.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create(
                        {"account_id": cls.receivable.id, "partner_id": cls.customer.id, "credit": 300.0}
                    ),
                    Command.create({"account_id": cls.expense.id, "debit": 300.0}),
                ],
            }
        )
        write_off.action_post()
        (write_off | cls.inv_b).line_ids.filtered(lambda line: line.account_id == cls.receivable).reconcile()
        # dunning
        # the test levels replace the default scale a new company gets
        cls.env["credit.dunning.level"].with_context(active_test=False).search(
            [("company_id", "=", cls.company.id)]
        ).unlink()
        cls.level_reminder, cls.level_first, cls.level_final = cls.env["credit.dunning.level"].create(
            [
                {"company_id": cls.company.id, "sequence": 10, "name": "Payment Reminder", "days": 7},
                {"company_id": cls.company.id, "sequence": 20, "name": "First Dunning Letter", "days": 21},
                {"company_id": cls.company.id, "sequence": 40, "name": "Final Dunning Letter", "days": 49},
            ]
        )
        cls._letter(
            date(2025, 6, 2),
            "done",
            [(cls.inv_b, 500.0, cls.level_reminder), (cls.inv_c, 2000.0, cls.level_reminder)],
        )
        cls._pay(cls.inv_b, amount=500.0, days_after_invoice=31)  # 2025-06-10
        cls._pay(cls.inv_c, amount=500.0, days_after_invoice=39)  # 2025-06-20
        cls._letter(date(2025, 6, 21), "done", [(cls.inv_c, 1500.0, cls.level_first)])
        cls._letter(date(2025, 6, 21), "draft", [(cls.inv_c, 1500.0, cls.level_final)])
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": cls.customer.id,
                "invoice_date": date(2025, 6, 25),
                "invoice_line_ids": [
                    Command.create({"name": "Goodwill", "price_unit": 200.0, "tax_ids": [Command.clear()]})
                ],
            }
        )
        refund.action_post()
        (refund | cls.inv_c).line_ids.filtered(lambda line: line.account_id == cls.receivable).reconcile()
        cls._pay(cls.inv_c, amount=1300.0, days_after_invoice=54)  # 2025-07-05
        # credit decisions
        cls.customer2, cls.customer3 = cls.env["res.partner"].create(
            [{"name": "Beispiel AG", "is_company": True}, {"name": "Probe KG", "is_company": True}]
        )
        orders = cls.env["sale.order"].create(
            [
                {
                    "partner_id": partner.id,
                    "order_line": [Command.create({"product_id": cls.product_a.id, "price_unit": 100.0})],
                }
                for partner in (cls.customer, cls.customer2, cls.customer3)
            ]
        )
        for order, decision_type, rule, amount, when in (
            (orders[0], "block", "limit", 1000.0, "2025-06-03 12:00"),
            (orders[0], "block", "limit", 1200.0, "2025-06-05 12:00"),
            (orders[0], "release", "limit", 1200.0, "2025-06-06 12:00"),
            (orders[1], "block", "limit", 800.0, "2025-06-10 12:00"),
            (orders[2], "block", "hold", 300.0, "2025-06-11 12:00"),
            (orders[2], "block", "limit", 500.0, "2025-05-20 12:00"),
        ):
            decision = (
                cls.env["credit.decision"]
                .sudo()
                .create(
                    {
                        "decision_type": decision_type,
                        "order_id": order.id,
                        "partner_id": order.partner_id.id,
                        "company_id": cls.company.id,
                        "rule": rule,
                        "amount": amount,
                    }
                )
            )
            cls.env.cr.execute(
                "UPDATE credit_decision SET create_date = %s WHERE id = %s", [when, decision.id]
            )
        cls.env["credit.decision"].invalidate_model(["create_date"])

    @classmethod
    def _letter(cls, day, state, lines):
        run = cls.env["credit.dunning.run"].create({"date": day, "company_id": cls.company.id})
        return cls.env["credit.dunning.letter"].create(
            {
                "run_id": run.id,
                "state": state,
                "partner_id": cls.customer.id,
                "recipient_id": cls.customer.id,
                "currency_id": cls.currency.id,
                "line_ids": [
                    Command.create(
                        {
                            "move_id": move.id,
                            "level_id": level.id,
                            "currency_id": cls.currency.id,
                            "amount_residual": amount,
                            "amount_residual_company": amount,
                        }
                    )
                    for move, amount, level in lines
                ],
            }
        )

    def _months(self, today=date(2025, 8, 15)):
        months = self.env["credit.kpi"]._compute_months([date(2025, 5, 1), date(2025, 6, 1)], today=today)
        return months[0], months[1]

    def test_write_off_ratio(self):
        may, june = self._months()
        self.assertEqual(may["credit_sales"], 4000.0)
        self.assertEqual(may["write_off"], 500.0)
        self.assertAlmostEqual(may["write_off_ratio"], 12.5)
        self.assertEqual(june["credit_sales"], -200.0)
        self.assertEqual((june["write_off"], june["write_off_ratio"]), (0.0, 0.0))

    def test_dunning_effectiveness_per_level(self):
        may, june = self._months()
        self.assertEqual(may["dunning_levels"], [])
        self.assertEqual(may["dunning_effectiveness"], 0.0)
        levels = {level["level_id"]: level for level in june["dunning_levels"]}
        self.assertEqual(list(levels), [self.level_reminder.id, self.level_first.id])
        self.assertEqual(
            (levels[self.level_reminder.id]["dunned"], levels[self.level_reminder.id]["paid"]),
            (2500.0, 500.0),
        )
        self.assertAlmostEqual(levels[self.level_reminder.id]["share"], 20.0)
        self.assertEqual(
            (levels[self.level_first.id]["dunned"], levels[self.level_first.id]["paid"]), (1500.0, 1300.0)
        )
        self.assertAlmostEqual(levels[self.level_first.id]["share"], 86.667, places=3)
        self.assertAlmostEqual(june["dunning_effectiveness"], 45.0)

    def test_blocked_orders_and_customers_over_limit(self):
        may, june = self._months()
        self.assertEqual((june["blocked_order_count"], june["blocked_order_amount"]), (3, 2300.0))
        self.assertEqual((may["blocked_order_count"], may["blocked_order_amount"]), (1, 500.0))
        self.assertEqual(june["customers_over_limit"], 2)
        self.assertEqual(may["customers_over_limit"], 1)

    def test_customers_over_limit_current_month_is_live(self):
        # open at the end: A 0, B 0, C 0, credit note reconciled: nothing open -> nobody over a limit
        _may, june = self._months(today=date(2025, 6, 15))
        self.assertEqual(june["customers_over_limit"], 0)
        self._invoice(900.0, partner=self.customer2)
        self.customer2.write({"credit_limit_set": True, "credit_limit": 500.0})
        _may, june = self._months(today=date(2025, 6, 15))
        self.assertEqual(june["customers_over_limit"], 1)

    def test_promise_kept_rate(self):
        """Promises due in June 2025: 3 kept, 1 broken, 1 still open and 1 cancelled (neither
        counts) -> 3 / (3 + 1) = 75 %. One kept promise due in July does not count for June.
        May: no promise due -> 0 (no division by zero)."""
        states = ["kept", "kept", "kept", "broken", "open", "cancel"]
        with freeze_time("2025-06-01"):  # an open promise cannot be dated in the past
            self._promises(states)
        may, june = self._months()
        self.assertEqual((june["promises_kept"], june["promises_broken"]), (3, 1))
        self.assertAlmostEqual(june["promise_kept_rate"], 75.0)
        self.assertEqual(may["promise_kept_rate"], 0.0)

    def _promises(self, states):
        # an open invoice to promise on (July: no effect on the May and June figures)
        invoice = self._dated_invoice(1000.0, date(2025, 7, 15), self.immediate)
        self.env["credit.promise"].create(
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": 100.0,
                    "date_promised": date(2025, 6, 5 + index),
                    "state": state,
                }
                for index, state in enumerate(states)
            ]
            + [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set(invoice.ids)],
                    "amount": 100.0,
                    "date_promised": date(2025, 7, 1),
                    "state": "kept",
                }
            ]
        )

    def test_receivables_agree_with_aging(self):
        kpi = self.env["credit.kpi"]
        for day in (date(2025, 5, 31), date(2025, 6, 15), date(2025, 6, 30), date(2025, 7, 31)):
            aging = self.env["credit.aging.report"]._get_aging_totals(day)
            mine = kpi._receivables(day)
            self.assertAlmostEqual(mine["total"], aging["amount_open"], msg=day)
            self.assertAlmostEqual(mine["current"], aging["amount_not_due"], msg=day)

    def test_other_company_sees_nothing(self):
        other = self.setup_other_company()["company"]
        may, june = (
            self.env["credit.kpi"]
            .with_company(other)
            ._compute_months([date(2025, 5, 1), date(2025, 6, 1)], today=date(2025, 8, 15))
        )
        for month in (may, june):
            self.assertEqual(
                (
                    month["credit_sales"],
                    month["write_off"],
                    month["dunned_amount"],
                    month["blocked_order_count"],
                ),
                (0.0, 0.0, 0.0, 0),
            )
