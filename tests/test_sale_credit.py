from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestSaleCreditCheck(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_a.invoice_policy = "order"
        cls.customer.user_id = cls.sales_user

    def test_limit_blocks_with_figures(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(700.0, term=self.term_30)
        order = self._order(400.0)
        with self.assertRaises(UserError) as error:
            order.with_user(self.sales_user).action_confirm()
        self.assertIn("credit limit", str(error.exception))
        self.assertIn("1,000.00", str(error.exception))
        self.assertIn("1,100.00", str(error.exception))
        self.assertEqual(order.state, "draft")
        # within the limit: confirms
        small = self._order(300.0)
        small.with_user(self.sales_user).action_confirm()
        self.assertEqual(small.state, "sale")

    def test_order_not_counted_twice_and_other_orders_count(self):
        self._set_limit(self.customer, 1000.0)
        first = self._order(600.0)
        first.action_confirm()
        second = self._order(500.0)
        with self.assertRaises(UserError) as caught:
            second.action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")
        # the first order alone, re-checked, is within the limit (its own amount not twice)
        self.assertFalse(first._credit_check()["failures"])

    def test_no_limit_policy(self):
        order = self._order(5000.0)
        self.assertFalse(order._credit_check()["failures"], "no limit set means unlimited by default")
        self.company.credit_no_limit_policy = "no_credit"
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")

    def test_credit_hold_blocks(self):
        self.customer.write({"credit_hold": True, "credit_hold_reason": "Insolvency filed"})
        order = self._order(10.0, partner=self.contact)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        self.assertIn("Insolvency filed", str(error.exception))

    def test_overdue_beyond_rating_tolerance(self):
        rating_b = self.env.ref("credit_control.credit_rating_b")  # 30 days / 5,000 tolerated
        self.customer.write({"credit_rating_id": rating_b.id})
        self._invoice(100.0, days_ago=20)
        self._order(10.0).action_confirm()
        self._invoice(100.0, days_ago=45)
        with self.assertRaises(UserError) as error:
            self._order(10.0).action_confirm()
        self.assertIn("45 days", str(error.exception))

    def test_overdue_without_rating_uses_company_tolerance(self):
        self._invoice(100.0, days_ago=400)
        self._order(10.0).action_confirm()  # by default unrated customers are not blocked
        self.company.credit_overdue_tolerance_days = 60
        with self.assertRaises(UserError) as caught:
            self._order(10.0).action_confirm()
        self.assertRegex(str(caught.exception), r"are beyond the tolerance of 60 days")
        self.company.credit_overdue_tolerance_days = 500
        self._order(10.0).action_confirm()
        self.company.write({"credit_overdue_tolerance_days": 0, "credit_overdue_tolerance_amount": 50.0})
        with self.assertRaises(UserError) as error:
            self._order(10.0).action_confirm()
        self.assertIn("100.00", str(error.exception))

    def test_rating_requires_payment_term(self):
        rating_e = self.env.ref("credit_control.credit_rating_e")
        self.customer.write({"credit_rating_id": rating_e.id})
        order = self._order(10.0, payment_term_id=self.term_30.id)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        self.assertIn(rating_e.payment_term_id.name, str(error.exception))
        order.payment_term_id = rating_e.payment_term_id
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_prepayment_passes_limit(self):
        self._set_limit(self.customer, 0.0)
        self.company.credit_prepayment_term_id = self.immediate
        order = self._order(900.0, payment_term_id=self.immediate.id)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_new_customer_without_check(self):
        self.company.write({"credit_new_customer_check": True, "credit_new_customer_amount": 500.0})
        self._order(400.0).action_confirm()
        with self.assertRaises(UserError) as error:
            self._order(600.0).action_confirm()
        self.assertIn("credit check", str(error.exception))

    def test_multi_currency_order(self):
        other = self.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": other.id})
        self._set_limit(self.customer, 1000.0)
        order = self._order(1800.0, pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, other)
        self.assertAlmostEqual(order._credit_check()["amount"], 900.0)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        with self.assertRaises(UserError) as caught:
            self._order(400.0, pricelist_id=pricelist.id).action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")

    def test_other_company_limits_apply(self):
        company_2 = self.setup_other_company()["company"]
        self._set_limit(self.customer, 10000.0)
        self._set_limit(self.customer, 100.0, company=company_2)
        order_2 = (
            self.env["sale.order"]
            .with_company(company_2)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": company_2.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product_a.id,
                                "price_unit": 500.0,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        with self.assertRaises(UserError) as caught:
            order_2.action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")
        self._order(500.0).action_confirm()

    def test_check_disabled(self):
        self._set_limit(self.customer, 0.0)
        self.company.credit_check_sale = False
        order = self._order(100.0)
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    # --- the web client path, the release and the audit trail --- #
    def test_web_path_block_request_release_confirm(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0, user=self.sales_user)
        order_as_sales = order.with_user(self.sales_user)
        action = order_as_sales.action_credit_confirm()
        self.assertEqual(action["res_model"], "credit.order.block")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.credit_block_state, "blocked")
        block = order.credit_decision_ids.filtered(lambda d: d.decision_type == "block")
        self.assertEqual(len(block), 1)
        self.assertEqual(block.rule, "limit")
        self.assertEqual(block.amount, 500.0)
        self.assertEqual(block.credit_limit, 100.0)
        self.assertEqual(block.user_id, self.sales_user)
        # the salesperson asks for a release; the credit manager gets a release task
        self.customer.credit_manager_id = self.credit_manager
        wizard = (
            self.env["credit.order.block"]
            .with_user(self.sales_user)
            .create({"order_id": order.id, "note": "Big customer, pays reliably"})
        )
        wizard.action_request_release()
        self.assertEqual(order.credit_block_state, "requested")
        task = self.env["credit.task"].search([("order_id", "=", order.id)])
        self.assertEqual(len(task), 1)
        self.assertEqual(
            (task.task_type, task.origin, task.team), ("release_request", "release_request", "credit")
        )
        self.assertEqual(task.user_id, self.credit_manager)
        self.assertIn(self.credit_manager, task.activity_ids.user_id)
        self.assertTrue(task.is_open)
        # sales users cannot release, override or write the block fields
        with self.assertRaises(AccessError) as caught:
            order_as_sales._credit_release("I say so")
        self.assertRegex(
            str(caught.exception), r"Only a Credit Manager can release or override a credit block\."
        )
        with self.assertRaises(AccessError) as caught:
            order_as_sales._credit_override_confirm("I say so")
        self.assertRegex(
            str(caught.exception), r"Only a Credit Manager can release or override a credit block\."
        )
        with self.assertRaises(AccessError) as caught:
            order_as_sales.write({"credit_block_state": "released", "credit_release_amount": 1e9})
        self.assertRegex(
            str(caught.exception),
            r"The credit status of an order is set by the credit check and the credit team only\.",
        )
        # still refused through action_confirm with any context trick
        with self.assertRaises(UserError) as caught:
            order_as_sales.with_context(credit_override=True).action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")
        # the manager releases with a reason; the salesperson confirms
        self.env["credit.order.release"].with_user(self.credit_manager).create(
            {"order_id": order.id, "mode": "release", "reason": "Bank guarantee received"}
        ).action_apply()
        self.assertEqual(order.credit_block_state, "released")
        self.assertEqual(task.stage, "done", "the release closes the release task")
        self.assertIn("Bank guarantee received", str(task.message_ids.mapped("body")))
        self.assertFalse(task.activity_ids)
        order_as_sales.action_credit_confirm()
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.credit_block_state)
        types = order.credit_decision_ids.mapped("decision_type")
        self.assertEqual(sorted(types), ["block", "release", "request"])
        release = order.credit_decision_ids.filtered(lambda d: d.decision_type == "release")
        self.assertEqual(release.reason, "Bank guarantee received")
        self.assertEqual(release.user_id, self.credit_manager)
        # the customer links to its decisions
        self.assertEqual(self.contact.credit_decision_count, 3)
        action = self.customer.action_view_credit_decisions()
        self.assertEqual(self.env["credit.decision"].search(action["domain"]), order.credit_decision_ids)

    def test_release_needs_reason_and_does_not_cover_growth(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0)
        with self.assertRaises(UserError) as caught:
            order.with_user(self.credit_manager)._credit_release("  ")
        self.assertRegex(str(caught.exception), r"A release needs a reason\.")
        order.with_user(self.credit_manager)._credit_release("ok", self.today + timedelta(days=5))
        order.order_line.price_unit = 800.0
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertRegex(
            str(caught.exception),
            r"The credit release no longer applies: the order total is above the released",
        )
        # through the web path the grown order is blocked again, with an expiry decision
        order.action_credit_confirm()
        self.assertEqual(order.credit_block_state, "blocked")
        self.assertIn("expiry", order.credit_decision_ids.mapped("decision_type"))

    def test_expired_release(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0)
        order.with_user(self.credit_manager)._credit_release("ok", self.today)
        self.assertTrue(order._credit_check()["released"])
        order.sudo().credit_release_date_end = self.today - timedelta(days=1)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertRegex(str(caught.exception), r"The credit release no longer applies: it expired")

    def test_manager_override(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0)
        with self.assertRaises(UserError) as caught:
            order.with_user(self.credit_manager)._credit_override_confirm("")
        self.assertRegex(str(caught.exception), r"An override needs a reason\.")
        self.env["credit.order.release"].with_user(self.credit_manager).create(
            {"order_id": order.id, "mode": "override", "reason": "CEO decision"}
        ).action_apply()
        self.assertEqual(order.state, "sale")
        override = order.credit_decision_ids.filtered(lambda d: d.decision_type == "override")
        self.assertEqual(override.reason, "CEO decision")

    def test_decisions_are_read_only(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0)
        order.action_credit_confirm()
        decision = order.credit_decision_ids
        with self.assertRaises(UserError) as caught:
            decision.write({"reason": "changed"})
        self.assertRegex(
            str(caught.exception), r"Credit decisions are an audit trail and cannot be changed\."
        )
        with self.assertRaises(AccessError) as caught:
            decision.unlink()  # no group may delete decisions
        self.assertRegex(str(caught.exception), r"You are not allowed to delete 'Credit Decision'")
        with self.assertRaises(UserError) as caught:
            decision.sudo().unlink()
        self.assertRegex(
            str(caught.exception), r"Credit decisions are an audit trail and cannot be deleted\."
        )

    def test_cancel_and_reconfirm_is_checked_again(self):
        self._set_limit(self.customer, 1000.0)
        order = self._order(800.0)
        order.action_confirm()
        order._action_cancel()
        order.action_draft()
        self._invoice(500.0, term=self.term_30)
        with self.assertRaises(UserError) as caught:
            order.action_confirm()
        self.assertRegex(str(caught.exception), r"exceeds the credit limit")

    def test_banner(self):
        self._set_limit(self.customer, 100.0)
        order = self._order(500.0)
        self.assertEqual(order.credit_banner_level, "danger")
        self.assertIn("credit limit", order.credit_banner_html)
        fine = self._order(50.0)
        self.assertEqual(fine.credit_banner_level, "ok")
        self.assertIn("Available", fine.credit_banner_html)

    def test_confirm_query_budget(self):
        """What the check adds to a confirmation, once the order itself is read (as
        action_confirm does anyway): the same count for 3 or 30 open items."""
        self._set_limit(self.customer, 100000.0)
        counts = []
        for items in (3, 30):
            for _i in range(items):
                self._invoice(100.0, term=self.term_30)
            for _warm in range(2):  # warm ACL, rule and default caches, then measure
                order = self._order(10.0)
                self.env.invalidate_all()
                order.read(
                    [
                        "amount_total",
                        "currency_id",
                        "date_order",
                        "payment_term_id",
                        "partner_id",
                        "company_id",
                        "state",
                        "credit_block_state",
                    ]
                )
                order.partner_id.commercial_partner_id.read(["name"])
                self.env.user.read(["lang", "company_id"])  # loaded by any request already
                count = self._count_queries(lambda order=order: order._credit_check(lock=True))
            counts.append(count)
        # the exposure statement (the customer's lock, the aggregates, today's rates, the limits
        # in force), the rules' customer fields, dunning level
        self.assertLessEqual(counts[0], 3)
        self.assertEqual(counts[0], counts[1])

    def test_confirm_button_checks_once(self):
        """The web client's Confirm button checks the order once (with the customer locked); the
        confirmation inside it does not check the unchanged order again. A context value from a
        client cannot skip the check."""
        self._set_limit(self.customer, 1000.0)
        order = self._order(100.0)
        partner_class = type(self.env["res.partner"])
        with patch.object(
            partner_class,
            "_get_credit_exposures",
            autospec=True,
            side_effect=partner_class._get_credit_exposures,
        ) as exposures:
            order.with_user(self.sales_user).action_credit_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(exposures.call_count, 1)
        big = self._order(5000.0)
        with self.assertRaises(UserError) as error:
            big.with_user(self.sales_user).with_context(credit_checked=True).action_confirm()
        self.assertIn("credit limit", str(error.exception))
        self.assertEqual(big.state, "draft")

    def test_batch_confirmation_check_query_count(self):
        """The confirmation check of 1 or of 5 orders of one customer in one call: the same
        queries (one lock and one exposure per customer and company; what the rules read about
        the customer, read once), whatever the number of orders."""
        self._set_limit(self.customer, 100000.0)
        self._invoice(100.0, term=self.term_30)
        fields_read = ["amount_total", "currency_id", "date_order", "payment_term_id", "partner_id"]
        fields_read += ["company_id", "state", "credit_block_state", "amount_paid"]
        for count in (1, 5, 1, 5):  # the first two warm the caches (ACLs, rules, ormcache)
            orders = self.env["sale.order"].browse([self._order(10.0).id for _i in range(count)])
            self.env.invalidate_all()
            orders.read(fields_read)
            orders.partner_id.commercial_partner_id.read(["name"])
            # the exposure statement (lock, aggregates, rates, limits), the rules' customer fields,
            # the dunning level and one record read the check needs (the budget was 8 while the
            # lock, the rates and the limits were queries of their own)
            with self.assertQueryCount(4):
                blocked = orders._credit_check_grouped(exclude_group=False)
            self.assertFalse(blocked)


@tagged("post_install", "-at_install")
class TestInvoiceCreditCheck(CreditControlCommon):
    def test_invoice_posting_check_and_release(self):
        self.company.credit_check_invoice = True
        self._set_limit(self.customer, 1000.0)
        self._invoice(800.0, term=self.term_30)
        invoice = self._invoice(300.0, term=self.term_30, post=False)
        with self.assertRaises(UserError) as error:
            invoice.action_post()
        self.assertIn("exceeds the credit limit", str(error.exception))
        self.assertEqual(invoice.state, "draft")
        with self.assertRaises(AccessError) as caught:
            invoice.with_user(self.collector)._credit_release("please")
        self.assertRegex(str(caught.exception), r"Only a Credit Manager can release a credit block\.")
        with self.assertRaises(UserError) as caught:
            invoice.with_user(self.credit_manager)._credit_release("")
        self.assertRegex(str(caught.exception), r"A release needs a reason\.")
        self.env["credit.order.release"].with_user(self.credit_manager).create(
            {"move_id": invoice.id, "reason": "Paid by cheque on delivery"}
        ).action_apply()
        invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        decision = invoice.credit_decision_ids
        self.assertEqual(decision.decision_type, "release")
        self.assertEqual(decision.amount, 300.0)
        self.assertEqual(decision.exposure, 800.0, "the invoice itself is not counted twice")

    def test_invoice_check_off_by_default_and_within_limit(self):
        self._set_limit(self.customer, 100.0)
        self._invoice(500.0, term=self.term_30)  # the setting is off: posts
        self.company.credit_check_invoice = True
        self._set_limit(self.customer, 10000.0)
        self._invoice(500.0, term=self.term_30)
        self.assertEqual(self.customer._get_credit_exposure()["receivable"], 1000.0)
