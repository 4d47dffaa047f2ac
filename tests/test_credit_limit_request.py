from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditLimitRequest(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")
        cls.second_manager = new_test_user(
            cls.env,
            "cc_manager_2",
            groups="account.group_account_invoice,credit_control.credit_control_group_manager",
            company_id=cls.company.id,
        )
        cls.customer.with_company(cls.company).credit_manager_id = cls.credit_manager
        cls.customer.with_company(cls.company).write({"credit_limit": 1000, "credit_limit_set": True})

    def _request(self, user=None, **vals):
        values = {"partner_id": self.contact.id, "amount_requested": 5000, "reason": "Framework contract"}
        values.update(vals)
        return self.env["credit.limit.request"].with_user(user or self.sales_user).create(values)

    def _open_activities(self, request, user):
        return request.activity_ids.filtered(lambda activity: activity.user_id == user)

    def _task(self, request):
        return self.env["credit.task"].search([("limit_request_id", "=", request.id)])

    def test_lifecycle_approve(self):
        request = self._request()
        self.assertEqual(request.partner_id, self.customer, "contacts are replaced by their company")
        self.assertEqual(request.requested_by_id, self.sales_user)
        self.assertEqual(request.current_limit, 1000)
        self.assertTrue(request.current_limit_set)
        self.assertEqual(request.amount_approved, 5000, "defaults to the requested amount")
        self.assertTrue(request.name.startswith("CLR/"))

        request.with_user(self.sales_user).action_submit()
        self.assertEqual(request.state, "submitted")
        self.assertFalse(request.with_user(self.sales_user).can_decide)
        self.assertTrue(request.with_user(self.credit_manager).can_decide)
        task = self._task(request)
        self.assertEqual(len(task), 1, "the customer's credit manager is asked to decide")
        self.assertEqual((task.task_type, task.team, task.stage), ("limit_request", "credit", "new"))
        self.assertEqual(task.user_id, self.credit_manager)
        self.assertEqual(task.partner_id, self.customer)
        review = task.activity_ids
        self.assertEqual(review.user_id, self.credit_manager)
        self.assertEqual(review.activity_type_id, self.todo)
        self.assertFalse(request.activity_ids, "no second mechanism: the task is the request's to-do")
        with self.assertRaisesRegex(UserError, "still waits for a decision"):
            task.with_user(self.credit_manager).action_done()

        request.with_user(self.credit_manager).write({"amount_approved": 4000})
        request.with_user(self.credit_manager).action_approve()

        self.assertEqual(request.state, "approved")
        self.assertEqual(request.decided_by_id, self.credit_manager)
        self.assertEqual(request.decision_date, self.today)
        profile = self.customer.with_company(self.company)
        self.assertEqual(profile.credit_limit, 4000)
        self.assertTrue(profile.credit_limit_set)
        self.assertFalse(self._open_activities(request, self.credit_manager), "the review is closed")
        self.assertEqual(task.stage, "done", "the decision closes the task")
        self.assertFalse(task.activity_ids)
        self.assertIn("approved", str(task.message_ids.mapped("body")))
        outcome = self._open_activities(request, self.sales_user)
        self.assertEqual(len(outcome), 1)
        self.assertIn("approved", outcome.summary)
        self.assertEqual(request.current_limit, 1000, "the snapshot keeps the limit at request time")

    def test_limit_end_date_and_fallback_manager(self):
        other = self.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        request = self._request(partner_id=other.id, limit_date_end=self.today)
        self.assertFalse(request.current_limit_set)
        request.with_user(self.sales_user).action_submit()
        self.assertEqual(len(self._task(request)), 1)
        manager = self._task(request).user_id
        self.assertEqual(self._task(request).activity_ids.user_id, manager)
        self.assertTrue(manager.has_group("credit_control.credit_control_group_manager"))
        request.with_user(self.second_manager).action_approve()
        profile = other.with_company(self.company)
        self.assertEqual(profile.credit_limit, 5000)
        self.assertEqual(profile.credit_limit_date_end, self.today)

    def test_salesperson_cannot_decide(self):
        request = self._request(amount_approved=99999)
        self.assertEqual(request.amount_approved, 5000, "salespeople do not set the approved amount")
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.sales_user).write({"state": "submitted"})
        self.assertRegex(
            str(caught.exception), r"Limit requests are submitted and decided only through their buttons\."
        )
        request.with_user(self.sales_user).action_submit()
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.sales_user).action_approve()
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may approve or reject credit limit requests\."
        )
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.sales_user).write({"rejection_reason": "no", "state": "rejected"})
        self.assertRegex(
            str(caught.exception), r"Limit requests are submitted and decided only through their buttons\."
        )
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.sales_user).write({"amount_requested": 50000})
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may change a limit request once it was submitted"
        )
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.collector).action_approve()
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may approve or reject credit limit requests\."
        )
        with self.assertRaises(AccessError) as caught:
            self.customer.with_user(self.sales_user).with_company(self.company).credit_limit = 5000
        self.assertRegex(
            str(caught.exception),
            r"Only Credit Managers may change the credit profile of a customer \(Credit Limit\)\.",
        )
        self.assertEqual(request.state, "submitted")
        self.assertEqual(self.customer.with_company(self.company).credit_limit, 1000)

    def test_self_approval_refused(self):
        request = self._request(user=self.credit_manager)
        request.with_user(self.credit_manager).action_submit()
        with self.assertRaisesRegex(UserError, "own limit request"):
            request.with_user(self.credit_manager).action_approve()
        request.with_user(self.credit_manager).rejection_reason = "changed my mind"
        with self.assertRaisesRegex(UserError, "own limit request"):
            request.with_user(self.credit_manager).action_reject()
        request.with_user(self.second_manager).action_approve()
        self.assertEqual(self.customer.with_company(self.company).credit_limit, 5000)

    def test_reject_needs_reason(self):
        request = self._request()
        request.with_user(self.sales_user).action_submit()
        with self.assertRaisesRegex(UserError, "rejection reason"):
            request.with_user(self.credit_manager).action_reject()
        request.with_user(self.credit_manager).rejection_reason = "  "
        with self.assertRaisesRegex(UserError, "rejection reason"):
            request.with_user(self.credit_manager).action_reject()
        request.with_user(self.credit_manager).rejection_reason = "Two invoices 60 days overdue"
        request.with_user(self.credit_manager).action_reject()
        self.assertEqual(request.state, "rejected")
        self.assertEqual(self.customer.with_company(self.company).credit_limit, 1000)
        self.assertFalse(self._open_activities(request, self.credit_manager))
        self.assertEqual(self._task(request).stage, "done")
        outcome = self._open_activities(request, self.sales_user)
        self.assertIn("Two invoices 60 days overdue", outcome.summary)
        with self.assertRaises(UserError) as caught:
            request.with_user(self.credit_manager).action_approve()
        self.assertRegex(str(caught.exception), r"Limit request.*is not waiting for a decision\.")
        with self.assertRaises(AccessError) as caught:
            request.unlink()  # a salesperson deletes no request at all
        self.assertRegex(str(caught.exception), r"You are not allowed to delete 'Credit Limit Request'")
        with self.assertRaises(UserError) as caught:
            request.with_user(self.credit_manager).unlink()
        self.assertRegex(
            str(caught.exception), r"Decided limit requests document a credit decision and cannot be deleted"
        )

    def test_cancel_and_reset(self):
        request = self._request()
        request.with_user(self.sales_user).action_submit()
        request.with_user(self.sales_user).action_cancel()
        self.assertEqual(request.state, "cancel")
        self.assertFalse(request.activity_ids)
        self.assertEqual(self._task(request).stage, "cancel")
        self.assertFalse(self._task(request).activity_ids)
        request.with_user(self.sales_user).action_draft()
        self.assertEqual(request.state, "draft")
        with self.assertRaises(AccessError) as caught:
            request.with_user(self.sales_user).unlink()
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to delete 'Credit Limit Request'",
        )
        request.with_user(self.credit_manager).unlink()

    def test_visibility(self):
        own = self._request()
        other_sales = new_test_user(
            self.env, "cc_sales_2", groups="sales_team.group_sale_salesman", company_id=self.company.id
        )
        others = self._request(user=other_sales)
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        self.credit_manager.company_ids |= company_2
        foreign = (
            self.env["credit.limit.request"]
            .with_company(company_2)
            .create({"partner_id": self.customer.id, "amount_requested": 1, "reason": "x"})
        )
        self.assertEqual(foreign.company_id, company_2)
        Request = self.env["credit.limit.request"]
        self.assertEqual(Request.with_user(self.sales_user).search([]), own)
        self.assertEqual(Request.with_user(self.collector).search([]), own | others)
        self.assertEqual(
            Request.with_user(self.credit_manager)
            .with_context(allowed_company_ids=self.company.ids)
            .search([]),
            own | others,
        )
        with self.assertRaises(AccessError) as caught:
            others.with_user(self.sales_user).read(["amount_requested"])
        self.assertRegex(
            str(caught.exception),
            r"doesn't have 'read' access to:\n- Credit Limit Request \(credit\.limit\.request\)",
        )
        with self.assertRaises(AccessError) as caught:
            foreign.with_user(self.collector).read(["amount_requested"])
        self.assertRegex(str(caught.exception), r"Access to unauthorized or invalid companies\.")

    def test_action_new_for_partner(self):
        action = (
            self.env["credit.limit.request"].with_user(self.sales_user).action_new_for_partner(self.contact)
        )
        self.assertEqual(action["res_model"], "credit.limit.request")
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)
        request = (
            self.env["credit.limit.request"]
            .with_user(self.sales_user)
            .with_context(**action["context"])
            .create({"amount_requested": 2000, "reason": "Season"})
        )
        self.assertEqual(request.partner_id, self.customer)
