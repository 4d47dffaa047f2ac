from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import ManifestsReadMixin
from .test_sale_credit_guard import SaleCreditGuardCommon

DOWN_PAYMENT_MESSAGE = "cannot get a down payment invoice"


class SecurityReleaseCommon(SaleCreditGuardCommon):
    """Holes found by the RPC attack of a plain salesperson (session 2026-12-04): a down
    payment invoice of a blocked quotation, a release kept after its payment term changed or
    after it was used, a confirmed order moved in from a company without the credit check."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term_30.company_id = False
        cls.immediate.company_id = False

    def _down_payment(self, order, user=None, method="percentage"):
        env = self.env(user=user or self.sales_user)
        vals = {"advance_payment_method": method, "sale_order_ids": [Command.set(order.ids)]}
        vals.update(amount=50.0) if method == "percentage" else vals.update(fixed_amount=100.0)
        wizard = (
            env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids, active_id=order.id)
            .create(vals)
        )
        return wizard.create_invoices()

    def _invoices(self, order):
        return self.env["account.move"].search([("line_ids.sale_line_ids.order_id", "=", order.id)])


@tagged("post_install", "-at_install")
class TestSecurityRelease(SecurityReleaseCommon):
    # --- a down payment invoice is credit given before the confirmation --- #
    def test_down_payment_of_blocked_quotation_refused(self):
        self._hold()
        order = self._order(100.0)
        for method in ("percentage", "fixed"):
            with self.assertRaisesRegex(UserError, DOWN_PAYMENT_MESSAGE + r"(.|\n)*Insolvency filed"):
                self._down_payment(order, method=method)
        self.assertFalse(self._invoices(order))
        self.assertFalse(order.order_line.filtered("is_downpayment"))
        self.assertEqual(order.state, "draft")

    def test_down_payment_over_limit_refused_released_or_passing_allowed(self):
        over = self._order(1500.0)
        with self.assertRaisesRegex(UserError, DOWN_PAYMENT_MESSAGE + r"(.|\n)*exceeds the credit limit"):
            self._down_payment(over)
        self.assertFalse(self._invoices(over))
        # within the limit, or released by the credit team: as in core Odoo
        within = self._order(400.0)
        self._down_payment(within)
        self.assertEqual(len(self._invoices(within)), 1)
        over.with_user(self.credit_manager)._credit_release("Bank guarantee")
        self._down_payment(over)
        self.assertEqual(len(self._invoices(over)), 1)
        self.assertEqual(over.credit_block_state, "released", "a down payment does not use up the release")

    def test_down_payment_of_confirmed_order_unchanged(self):
        order = self._order(600.0)
        order.action_confirm()
        self._hold()
        # the customer went on hold after the confirmation: invoicing the order is not a new credit
        self._down_payment(order)
        self.assertEqual(len(self._invoices(order)), 1)

    # --- a release is bound to the payment term it was given for --- #
    def test_release_void_when_payment_term_changes(self):
        order = self._order(1500.0, payment_term_id=self.immediate.id)
        order.with_user(self.credit_manager)._credit_release("Pays immediately")
        as_sales = order.with_user(self.sales_user)
        as_sales.write({"payment_term_id": self.immediate.id, "note": "same term"})
        self.assertEqual(order.credit_block_state, "released", "the same term keeps the release")
        as_sales.write({"payment_term_id": self.term_30.id})
        self.assertFalse(order.credit_block_state)
        self.assertFalse(order.credit_release_amount)
        expiry = self._decisions(order).filtered(lambda d: d.decision_type == "expiry")
        self.assertRegex(expiry.reason, "another payment term")
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            as_sales.action_confirm()
        self.assertEqual(order.state, "draft")

    # --- a release lets one confirmation through, whatever the path --- #
    def test_release_used_by_a_confirmation_written(self):
        order = self._order(1500.0)
        order.with_user(self.credit_manager)._credit_release("Bank guarantee")
        as_sales = order.with_user(self.sales_user)
        as_sales.write({"state": "sale"})
        self.assertEqual(order.state, "sale")
        self.assertFalse(order.credit_block_state, "the release was used by this confirmation")
        as_sales.write({"state": "cancel"})
        as_sales.write({"state": "draft"})
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            as_sales.write({"state": "sale"})
        self.assertEqual(order.state, "draft")

    # --- delivered beyond the order, invoiced as delivered --- #
    def test_delivered_beyond_the_order_is_growth(self):
        self.product_a.invoice_policy = "delivery"
        order = self._order(600.0)
        order.action_confirm()
        line = order.order_line.with_user(self.sales_user)
        with self.assertRaisesRegex(
            UserError, r"it cannot grow to \D*1[.,]?200(.|\n)*exceeds the credit limit"
        ):
            line.write({"qty_delivered": 2})
        self.assertEqual(line.qty_delivered, 0.0)
        # within the limit (900 of 1,000), and back: as in core Odoo
        line.write({"qty_delivered": 1.5})
        self.assertEqual(line.qty_to_invoice, 1.5)
        line.write({"qty_delivered": 1})
        # what is delivered beyond the order and not invoiced counts against the limit
        self.assertEqual(order._credit_open_amount_company(), 600.0)
        line.write({"qty_delivered": 1.5})
        self.assertEqual(order._credit_open_amount_company(), 900.0)
        self._hold()
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            line.write({"qty_delivered": 1.6})
        # a release of the confirmed order covers what it names, delivered beyond or not
        line.write({"qty_delivered": 1})
        order.with_user(self.credit_manager)._credit_release("Guarantee", amount=1200.0)
        line.write({"qty_delivered": 2})
        with self.assertRaisesRegex(UserError, r"it cannot grow to \D*1[.,]?500(.|\n)*Insolvency filed"):
            line.write({"qty_delivered": 2.5})
        self.assertEqual(line.qty_delivered, 2.0)
        # the ordered quantity only (as for products invoiced as ordered): never growth
        line.write({"qty_delivered": 1})
        self.product_a.invoice_policy = "order"
        line.write({"qty_delivered": 10})
        self.assertEqual(line.qty_to_invoice, 1.0)

    def test_delivered_beyond_a_quotation_is_checked_at_confirmation(self):
        self.product_a.invoice_policy = "delivery"
        order = self._order(600.0)
        as_sales = order.with_user(self.sales_user)
        as_sales.order_line.write({"qty_delivered": 2})
        with self.assertRaisesRegex(UserError, r"plus this document \D*1[.,]?200"):
            as_sales.action_confirm()
        self.assertEqual(order.state, "draft")
        # the web client's Confirm button: the block dialog
        self.assertEqual(as_sales.action_credit_confirm()["res_model"], "credit.order.block")
        self.assertEqual((order.state, order.credit_block_state), ("draft", "blocked"))
        as_sales.order_line.write({"qty_delivered": 1})
        as_sales.action_confirm()
        self.assertEqual(order.state, "sale")

    # --- the rating: the credit team's button only --- #
    def test_salesperson_cannot_refresh_the_rating(self):
        self._invoice(900.0, days_ago=200)
        before = (self.customer.credit_rating_id, self.customer.credit_score)
        with self.assertRaisesRegex(AccessError, "Only the credit team refreshes"):
            self.customer.with_user(self.sales_user).action_refresh_credit_profile()
        self.assertEqual((self.customer.credit_rating_id, self.customer.credit_score), before)
        self.customer.with_user(self.credit_manager).action_refresh_credit_profile()
        self.assertTrue(self.customer.credit_rating_id, "the credit team's refresh rates the customer")

    # --- a confirmed order moved in from a company without the credit check --- #
    def test_confirmed_order_moved_from_unchecked_company(self):
        other = self.setup_other_company(name="Muster Austria GmbH")["company"]
        other.credit_check_sale = False
        self.sales_user.company_ids |= other
        self._hold()
        order = self._order(100.0, company_id=other.id, pricelist_id=False)
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        as_sales = order.with_user(self.sales_user).with_context(
            allowed_company_ids=[self.company.id, other.id]
        )
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            as_sales.write({"company_id": self.company.id})
        self.assertEqual(order.company_id, other)


@tagged("post_install", "-at_install")
class TestSecurityReleaseRpc(ManifestsReadMixin, SecurityReleaseCommon, HttpCase):
    """The same over ``/jsonrpc`` ``execute_kw`` as the salesperson (login and password)."""

    def _assert_error(self, response, pattern):
        self.assertIn("error", response, response)
        self.assertEqual(response["error"]["data"]["name"], "odoo.exceptions.UserError")
        self.assertRegex(response["error"]["data"]["message"], pattern)

    def test_rpc_down_payment_and_payment_term(self):
        self._hold(self.other_customer)
        blocked = self._order(100.0, partner=self.other_customer)
        context = {"active_model": "sale.order", "active_ids": blocked.ids, "active_id": blocked.id}
        response = self._execute_kw(
            "sale.advance.payment.inv",
            "create",
            [{"advance_payment_method": "percentage", "amount": 50, "sale_order_ids": [[6, 0, blocked.ids]]}],
            {"context": context},
        )
        response = self._execute_kw(
            "sale.advance.payment.inv", "create_invoices", [[response["result"]]], {"context": context}
        )
        self._assert_error(response, DOWN_PAYMENT_MESSAGE)
        self.assertFalse(self._invoices(blocked))
        # the attempt is on record (written after the rollback)
        self.assertEqual(self._decisions(blocked).mapped("decision_type"), ["block"])

        order = self._order(1500.0, payment_term_id=self.immediate.id)
        order.with_user(self.credit_manager)._credit_release("Pays immediately")
        response = self._execute_kw("sale.order", "write", [order.ids, {"payment_term_id": self.term_30.id}])
        self.assertIn("result", response, response)
        response = self._execute_kw("sale.order", "action_confirm", [order.ids])
        self._assert_error(response, "exceeds the credit limit")
        self.assertEqual((order.state, order.credit_block_state), ("draft", "blocked"))
