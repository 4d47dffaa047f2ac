from dateutil.relativedelta import relativedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .collections_common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCreditPaymentPlan(CollectionsCommon):
    def _plan(self, total=900.0, count=3, user=None, moves=None, **vals):
        return self.Plan.with_user(user or self.collector).create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set((moves or self.invoice).ids)],
                "amount_total": total,
                "instalment_count": count,
                "frequency": "monthly",
                "date_first": self._days(10),
                **vals,
            }
        )

    # --- instalments --- #
    def test_generates_instalments_with_down_payment(self):
        plan = self._plan(total=1000.0, count=4, down_payment=200.0)
        self.assertTrue(plan.name.startswith("PLAN/"))
        self.assertEqual(plan.line_ids.mapped("amount"), [200.0, 200.0, 200.0, 200.0, 200.0])
        self.assertEqual(plan.line_ids.mapped("is_down_payment"), [True, False, False, False, False])
        first = self._days(10)
        self.assertEqual(
            plan.line_ids.mapped("date_due"), [first + relativedelta(months=n) for n in range(5)]
        )
        self.assertEqual(plan.amount_interest, 0.0)

    def test_rounding_goes_to_the_last_instalment(self):
        plan = self._plan(total=1000.0, count=3)
        self.assertEqual(plan.line_ids.mapped("amount"), [333.33, 333.33, 333.34])
        self.assertEqual(plan.amount_scheduled, 1000.0)

    def test_simple_interest_on_declining_balance(self):
        plan = self._plan(total=900.0, count=3, interest_rate=12.0)
        # 1 % a month on 900, 600, 300
        self.assertEqual(plan.line_ids.mapped("amount_interest"), [9.0, 6.0, 3.0])
        self.assertEqual(plan.line_ids.mapped("amount"), [309.0, 306.0, 303.0])
        self.assertEqual(plan.amount_interest, 18.0)
        weekly = self._plan(total=520.0, count=2, interest_rate=10.0, frequency="weekly")
        self.assertEqual(weekly.line_ids.mapped("amount_interest"), [1.0, 0.5])
        self.assertEqual(weekly.line_ids[1].date_due, self._days(17))

    # --- bad input --- #
    def test_lines_that_do_not_add_up_cannot_be_activated(self):
        plan = self._plan()
        plan.line_ids[0].amount = 250.0
        with self.assertRaises(UserError) as caught:
            plan.action_activate()
        self.assertIn("add up", str(caught.exception))
        self.assertEqual(plan.state, "draft")
        plan.action_generate_lines()
        plan.action_activate()
        self.assertEqual(plan.state, "active")
        with self.assertRaises(UserError) as caught:
            plan.line_ids[0].amount = 1.0
        self.assertRegex(
            str(caught.exception), r"The instalments of an agreed payment plan cannot be changed\."
        )

    def test_bad_input_writes_nothing(self):
        count = self.Plan.search_count([])
        line_count = self.env["credit.payment.plan.line"].search_count([])
        with self.assertRaises(ValidationError) as caught:
            self._plan(moves=self.invoice | self._invoice(100.0, partner=self.other_customer))
        self.assertIn("another customer", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._plan(total=1000.01)
        self.assertIn("more than the open amount", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._plan(total=0.0)
        self.assertIn("positive", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._plan(count=0)
        self.assertIn("at least one instalment", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._plan(down_payment=900.0)
        self.assertIn("down payment", str(caught.exception))
        paid = self._invoice(100.0)
        self._pay(paid)
        with self.assertRaises(ValidationError) as caught:
            self._plan(total=50.0, moves=paid)
        self.assertIn("already paid", str(caught.exception))
        self.assertEqual(self.Plan.search_count([]), count)
        self.assertEqual(self.env["credit.payment.plan.line"].search_count([]), line_count)

    def test_other_company_invoice_refused(self):
        foreign = self._other_company_invoice()
        count = self.Plan.sudo().search_count([])
        with self.assertRaises(UserError) as caught:
            self._plan(total=10.0, moves=self.invoice | foreign, user=self.env.user)
        self.assertRegex(str(caught.exception), r"The invoices.*belong to another company than")
        self.assertEqual(self.Plan.sudo().search_count([]), count)

    # --- allocation, shielding, missed instalment, completion --- #
    def test_allocation_oldest_first_and_missed_instalment(self):
        plan = self._plan()
        plan.action_activate()
        first, second, third = plan.line_ids
        self.assertIn(self.invoice.id, self._blocked(self.invoice))
        self.assertNotIn(self.invoice.id, self._dunned_moves(), "the plan, not the due date, decides")
        self._pay(self.invoice, amount=450.0, days_after_invoice=30)  # today
        plan.action_refresh()
        self.assertEqual(first.mapped("amount_paid") + second.mapped("amount_paid"), [300.0, 150.0])
        self.assertEqual((first.state, second.state, third.state), ("paid", "partial", "due"))
        self.assertEqual(plan.amount_residual, 450.0)
        # the second instalment falls due: overdue at once, missed after the grace days (3)
        overdue_day = second.date_due + relativedelta(days=1)
        plan._refresh_instalments(overdue_day)
        self.assertEqual(second.state, "overdue")
        self.assertFalse(plan.has_missed)
        self.assertIn(self.invoice.id, self._blocked(self.invoice, overdue_day), "within the grace days")
        missed_day = second.date_due + relativedelta(days=4)
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice, missed_day))
        self.assertIn(self.invoice.id, self._dunned_moves(missed_day), "dunned by its own due date again")
        plan._refresh_instalments(missed_day)
        self.assertTrue(plan.has_missed)
        task = self.Task.search([("payment_plan_id", "=", plan.id)])
        self.assertEqual(
            (task.task_type, task.origin, task.move_ids), ("call", "instalment_missed", self.invoice)
        )
        self.assertTrue(plan.activity_ids.filtered(lambda a: a.user_id == self.collector))
        self.assertTrue(second.missed_notified)
        plan._refresh_instalments(missed_day + relativedelta(days=1))
        self.assertEqual(self.Task.search_count([("payment_plan_id", "=", plan.id)]), 1, "escalated once")
        # caught up: the plan shields again; all paid: completed, task closed
        self._pay(self.invoice, amount=450.0, days_after_invoice=31)
        plan._refresh_instalments(missed_day)
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "paid", "paid"])
        self.assertEqual(plan.state, "done")
        self.assertFalse(plan.has_missed)
        self.assertFalse(task.is_open)

    def test_payments_before_the_plan_do_not_count(self):
        self._pay(self.invoice, amount=100.0, days_after_invoice=29)  # yesterday
        plan = self._plan(total=900.0)
        plan.action_activate()
        self.assertEqual(plan.line_ids.mapped("amount_paid"), [0.0, 0.0, 0.0])

    def test_cron_refreshes_every_active_plan_in_one_query(self):
        plan = self._plan()
        plan.action_activate()
        other_invoice = self._invoice(600.0, days_ago=10)
        plan_2 = self._plan(total=600.0, count=2, moves=other_invoice)
        plan_2.action_activate()
        self._pay(self.invoice, amount=300.0, days_after_invoice=30)
        self._pay(other_invoice, amount=600.0, days_after_invoice=10)
        self.Plan._cron_check_payment_plans()
        self.assertEqual(plan.line_ids.mapped("state"), ["paid", "due", "due"])
        self.assertEqual(plan_2.state, "done")

    def test_broken_plan_stops_shielding(self):
        plan = self._plan()
        plan.action_activate()
        plan.action_break()
        self.assertEqual(plan.state, "broken")
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))

    # --- access --- #
    def test_only_credit_users_manage_plans(self):
        with self.assertRaises(AccessError) as caught:
            self._plan(user=self.sales_user)
        self.assertRegex(str(caught.exception), r"Only the credit team agrees and changes payment plans\.")
        plan = self._plan()
        self.assertEqual(plan.with_user(self.sales_user).read(["amount_total"])[0]["amount_total"], 900.0)
        with self.assertRaises(AccessError) as caught:
            plan.with_user(self.sales_user).action_activate()
        self.assertRegex(str(caught.exception), r"Only the credit team agrees and changes payment plans\.")
        with self.assertRaises(AccessError) as caught:
            plan.line_ids[0].with_user(self.sales_user).write({"amount": 1.0})
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to modify 'Payment Plan Instalment'",
        )
        self.assertEqual(plan.state, "draft")

    # --- agreement --- #
    def test_agreement_report(self):
        self.customer.lang = "en_US"
        plan = self._plan(down_payment=100.0, interest_rate=6.0)
        html, _format = self.env["ir.actions.report"]._render_qweb_html(
            "credit_control.report_payment_plan", plan.ids
        )
        html = html.decode()
        self.assertIn("Payment Plan Agreement", html)
        self.assertIn(plan.name, html)
        self.assertIn(self.invoice.name, html)
        self.assertIn("signature", html)
        self.assertEqual(html.count("(down payment)"), 1)
        self.assertIn("Muster GmbH", html)

    def test_plan_form(self):
        form = Form(self.Plan.with_user(self.collector))
        form.move_ids.add(self.invoice)
        self.assertEqual(form.partner_id, self.customer)
        self.assertEqual(form.amount_total, 1000.0)
        form.instalment_count = 4
        form.date_first = self._days(5)
        plan = form.save()
        self.assertEqual(len(plan.line_ids), 4)
        self.assertEqual(plan.amount_scheduled, 1000.0)
        plan.action_activate()
        self.assertEqual(plan.state, "active")
        action = plan.action_print_agreement()
        self.assertEqual(action["report_name"], "credit_control.report_payment_plan")

    def test_plan_created_with_its_instalments(self):
        """Instalments given with a new plan belong to its creation (imports, other modules)."""
        plan = self.Plan.create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(self.invoice.ids)],
                "amount_total": 600.0,
                "date_first": self._days(5),
                "state": "active",
                "line_ids": [
                    Command.create({"date_due": self._days(5), "amount": 300.0}),
                    Command.create({"date_due": self._days(35), "amount": 300.0}),
                ],
            }
        )
        self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 300.0])
        with self.assertRaises(UserError) as caught:
            plan.line_ids[0].with_user(self.collector).amount = 1.0
        self.assertRegex(
            str(caught.exception), r"The instalments of an agreed payment plan cannot be changed\."
        )
