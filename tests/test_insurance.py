import csv
import io
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import format_date

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestInsuranceCommon(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.insurer = cls.env["res.partner"].create({"name": "Kreditversicherung AG", "is_company": True})
        cls.policy = cls.env["credit.insurance.policy"].create(
            {
                "name": "KV-1",
                "insurer_id": cls.insurer.id,
                "reporting_days": 30,
                "claim_days": 20,
                "max_payment_term_days": 90,
            }
        )
        cls.company.credit_insurance_watch_days = 10
        cls.customer.write(
            {
                "credit_insurance_policy_id": cls.policy.id,
                "credit_insurer_id": cls.insurer.id,
                "credit_insured_limit": 1000.0,
            }
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Fremd KG", "is_company": True})
        cls.Notification = cls.env["credit.insurance.notification"]
        cls.Watch = cls.env["credit.insurance.watch"]


@tagged("post_install", "-at_install")
class TestInsurancePolicy(TestInsuranceCommon):
    def test_policy_without_insurer_refused(self):
        Policy = self.env["credit.insurance.policy"].with_user(self.credit_manager)
        count = Policy.search_count([])
        with self.assertRaises(ValidationError) as cm:
            Policy.create({"name": "KV-NO-INSURER"})
        self.assertIn("KV-NO-INSURER needs an insurer", str(cm.exception))
        self.assertEqual(Policy.search_count([]), count)
        with self.assertRaises(ValidationError) as cm:
            self.policy.with_user(self.credit_manager).write({"insurer_id": False})
        self.assertIn("needs an insurer", str(cm.exception))
        self.assertEqual(self.policy.insurer_id, self.insurer)

    def test_new_customer_in_a_form(self):
        """A customer not saved yet (created from an invoice's customer field, a form's
        onchange): the insurance flag is computed from the form's values, no query error."""
        partner = self.env["res.partner"].new({"name": "Neukunde GmbH", "is_company": True})
        self.assertFalse(partner.credit_insurance_exceeded)
        existing = self.env["res.partner"].new(origin=self.customer)
        self.assertFalse(existing.credit_insurance_exceeded)

    def test_onchange_policy_sets_insurer(self):
        partner = self.env["res.partner"].new({"name": "New", "is_company": True})
        partner.credit_insurance_policy_id = self.policy
        partner._onchange_credit_insurance_policy_id()
        self.assertEqual(partner.credit_insurer_id, self.insurer)

    def test_sales_user_cannot_set_policy_or_insured_limit(self):
        Partner = self.env["res.partner"].with_user(self.sales_user)
        for vals in ({"credit_insurance_policy_id": self.policy.id}, {"credit_insured_limit": 1e9}):
            with self.subTest(vals=vals):
                with self.assertRaisesRegex(AccessError, "Only Credit Managers"):
                    Partner.create({"name": "Versichert GmbH", "is_company": True, **vals})
                with self.assertRaisesRegex(AccessError, "Only Credit Managers"):
                    self.customer.with_user(self.sales_user).write(vals)
        self.assertFalse(Partner.sudo().search([("name", "=", "Versichert GmbH")]))
        self.assertEqual(self.customer.credit_insurance_policy_id, self.policy)
        self.assertEqual(self.customer.credit_insured_limit, 1000.0)
        partner = (
            Partner.with_context(
                default_credit_insurance_policy_id=self.policy.id, default_credit_insured_limit=1e9
            )
            .create({"name": "Defaults GmbH", "is_company": True})
            .sudo()
        )
        self.assertFalse(partner.credit_insurance_policy_id)
        self.assertEqual(partner.credit_insured_limit, 0.0)
        # a Credit Manager may
        managed = (
            self.env["res.partner"]
            .with_user(self.credit_manager)
            .create(
                {"name": "Managed GmbH", "is_company": True, "credit_insurance_policy_id": self.policy.id}
            )
        )
        self.assertEqual(managed.credit_insurance_policy_id, self.policy)


@tagged("post_install", "-at_install")
class TestInsuranceWatch(TestInsuranceCommon):
    def _watched(self, today):
        self.env.flush_all()
        return self.Watch.search([("partner_id", "=", self.customer.id), *self.Watch._due_domain(today)])

    def _tasks(self):
        return self.env["credit.task"].search(
            [("partner_id", "=", self.customer.id), ("origin", "=", "insurance_deadline")]
        )

    def test_reporting_deadline_task_and_watch_list(self):
        # due 25 days ago: reporting deadline in 5 days, on the watch list since 5 days (10 days lead)
        late = self._invoice(400.0, days_ago=25)
        # due 10 days ago: deadline in 20 days, on the watch list in 10 days
        recent = self._invoice(300.0, days_ago=10)
        self._invoice(999.0, partner=self.other_customer, days_ago=40)  # not insured
        deadline = self.today + timedelta(days=5)
        self.assertEqual(self._watched(self.today).move_id, late)
        self.assertEqual(self._watched(self.today).date_deadline, deadline)
        self.assertFalse(self.Watch.search([("partner_id", "=", self.other_customer.id)]))
        # the day before the lead time starts: no task; on its first day: one task, deadline set
        Cron = self.Watch
        Cron._cron_insurance_deadlines(today=deadline - timedelta(days=11))
        self.assertFalse(self._tasks())
        Cron._cron_insurance_deadlines(today=deadline - timedelta(days=10))
        task = self._tasks()
        self.assertEqual(len(task), 1)
        self.assertEqual(task.task_type, "insurance")
        self.assertEqual(task.date_deadline, deadline)
        self.assertEqual(task.move_ids, late)
        # the deadline in the task's title as the user's language writes dates, not ISO
        self.assertIn(format_date(self.env, deadline), task.name)
        self.assertNotIn(fields.Date.to_string(deadline), task.name)
        # re-run: no second task
        Cron._cron_insurance_deadlines(today=self.today)
        self.assertEqual(self._tasks(), task)
        # the later invoice joins the list when its own lead time has come
        self.assertEqual(self._watched(self.today + timedelta(days=10)).move_id, late | recent)
        # reported: off the watch list
        action = self._watched(self.today).action_create_notification()
        notification = self.Notification.browse(action["res_id"])
        self.assertEqual(notification.move_ids, late)
        self.assertEqual(notification.amount, 400.0)
        self.assertEqual(notification.date_deadline, deadline)
        self.assertFalse(self._watched(self.today))

    def test_paid_item_leaves_watch_list(self):
        invoice = self._invoice(400.0, days_ago=25)
        self.assertTrue(self._watched(self.today))
        self._pay(invoice, days_after_invoice=25)
        self.assertFalse(self._watched(self.today))

    def test_watch_list_query_count(self):
        Task = self.env["credit.task"]

        def run_and_close():
            queries = self._count_queries(lambda: self.Watch._cron_insurance_deadlines(today=self.today))
            tasks = Task.search([("origin", "=", "insurance_deadline"), ("is_open", "=", True)])
            tasks.write({"stage": "done"})
            return queries, len(tasks)

        for days in (25, 26, 27):
            self._invoice(100.0, days_ago=days)
        run_and_close()  # warm-up (caches of the first task)
        queries, count = run_and_close()
        self.assertEqual(count, 1)
        # a second customer: no more queries (one statement for the items, one batch of tasks)
        second = self.env["res.partner"].create(
            {"name": "Zweit GmbH", "is_company": True, "credit_insurance_policy_id": self.policy.id}
        )
        self._invoice(100.0, partner=second, days_ago=25)
        self.assertEqual(run_and_close(), (queries, 2))


@tagged("post_install", "-at_install")
class TestInsuranceNotification(TestInsuranceCommon):
    def _notification(self, moves, **vals):
        return self.Notification.with_user(self.credit_manager).create(
            {
                "partner_id": self.customer.id,
                "policy_id": self.policy.id,
                "move_ids": [Command.set(moves.ids)],
                **vals,
            }
        )

    def test_notification_for_invoice_of_other_customer_refused(self):
        foreign = self._invoice(200.0, partner=self.other_customer, days_ago=40)
        count = self.Notification.search_count([])
        with self.assertRaises(ValidationError) as cm:
            self._notification(foreign)
        self.assertIn("not an invoice of Muster GmbH", str(cm.exception))
        self.assertEqual(self.Notification.search_count([]), count)

    def test_claim_within_and_after_period(self):
        invoice = self._invoice(500.0, days_ago=40)
        notification = self._notification(invoice)
        notification.action_file()
        self.assertEqual(notification.state, "filed")
        self.assertEqual(notification.date_filed, self.today)
        action = notification.action_create_claim()
        claim = self.Notification.browse(action["res_id"])
        self.assertEqual(claim.kind, "claim")
        self.assertEqual(claim.move_ids, invoice)
        self.assertEqual(claim.date_deadline, self.today + timedelta(days=20))
        # filed 21 days ago: the claim period (20 days) is over
        late = self._notification(invoice)
        late.write({"state": "filed", "date_filed": self.today - timedelta(days=21)})
        count = self.Notification.search_count([])
        with self.assertRaises(ValidationError) as cm:
            late.action_create_claim()
        self.assertIn("claim period of policy KV-1 ended", str(cm.exception))
        self.assertEqual(self.Notification.search_count([]), count)
        self.assertFalse(late.claim_ids)

    def test_export_csv_and_xlsx(self):
        notification = self._notification(self._invoice(500.0, days_ago=40))
        notification = notification.with_user(self.collector)
        content = notification._export_csv().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content), delimiter=";"))
        self.assertEqual(len(rows), 2)
        self.assertIn("Muster GmbH", rows[1])
        self.assertIn("KV-1", rows[1])
        self.assertTrue(notification._export_xlsx().startswith(b"PK"))
        self.assertEqual(notification.action_export_xlsx()["type"], "ir.actions.act_url")


@tagged("post_install", "-at_install")
class TestInsuranceExposure(TestInsuranceCommon):
    def test_order_above_insured_limit_flagged(self):
        self._invoice(200.0, days_ago=5)
        order = self._order(1500.0)
        # exposure 200 + order 1500 - insured 1000
        self.assertEqual(order.credit_uninsured_amount, 700.0)
        self.assertEqual(order.credit_insured_limit, 1000.0)
        self.assertEqual(order.with_user(self.sales_user).credit_uninsured_amount, 700.0)
        self.assertEqual(self._order(500.0).credit_uninsured_amount, 0.0)
        # a customer without credit insurance: nothing uninsured to show
        self.assertEqual(self._order(5000.0, partner=self.other_customer).credit_uninsured_amount, 0.0)
        # the decision records the uninsured part
        check = order._credit_check()
        vals = self.env["credit.decision"]._prepare_vals("block", check, order)
        self.assertEqual(vals["uninsured_amount"], 700.0)

    def test_limit_request_shows_insured_limit(self):
        request = (
            self.env["credit.limit.request"]
            .with_user(self.sales_user)
            .create({"partner_id": self.customer.id, "amount_requested": 5000.0, "reason": "Big order"})
        )
        self.assertEqual(request.insured_limit, 1000.0)

    def test_dashboard_uninsured_exposure(self):
        self._invoice(1600.0, days_ago=5)
        self._invoice(5000.0, partner=self.other_customer, days_ago=5)  # not insured: not counted
        dashboard = self.env["credit.dashboard"].with_user(self.collector)
        exposures = dashboard._exposures()
        result = dashboard._uninsured_exposure(exposures)
        self.assertEqual(result["count"], 1)
        self.assertAlmostEqual(result["amount"], 600.0)
        action = result["action"]
        self.assertEqual(
            self.env[action["res_model"]].with_user(self.collector).search(action["domain"]), self.customer
        )
        self.assertEqual(dashboard.get_data()["uninsured"]["count"], 1)
        queries = self._count_queries(lambda: dashboard._uninsured_exposure(exposures))
        self.assertLessEqual(queries, 1)


@tagged("post_install", "-at_install")
class TestInsuranceFromCustomer(TestInsuranceCommon):
    def test_notification_from_customer(self):
        late = self._invoice(400.0, days_ago=25)
        self._invoice(300.0, term=self.term_30)  # not due yet
        action = self.customer.with_user(self.collector).action_new_credit_insurance_notification()
        notification = (
            self.env["credit.insurance.notification"]
            .with_user(self.collector)
            .with_context(**action["context"])
            .create({})
        )
        self.assertEqual(notification.policy_id, self.policy)
        self.assertEqual(notification.move_ids, late)
        with self.assertRaisesRegex(UserError, "not insured"):
            self.other_customer.with_user(self.collector).action_new_credit_insurance_notification()
