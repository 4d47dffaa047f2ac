"""Attack cases on the order credit check that the guards of issue #12 left open: a plain
salesperson (no credit group) tries to get an order through, by the ORM (``with_user``) and over
JSON-RPC (``/web/dataset/call_kw`` and ``/jsonrpc`` ``execute_kw``) as an external client would.
Each refused call changes nothing."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import ManifestsReadMixin
from .test_sale_credit_guard import SaleCreditGuardCommon

INVOICE_ADDRESS_MESSAGE = "invoice address .* belongs to another customer"


class AttackOrdersCommon(SaleCreditGuardCommon):
    """A done online payment of 5,000 of another customer (its order), a prepayment term, a
    customer without any limit problem for the invoice-address cases."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        method = cls.env.ref("payment.payment_method_unknown")
        provider = cls.env["payment.provider"].create(
            {
                "name": "Dummy",
                "code": "none",
                "state": "test",
                "payment_method_ids": [Command.set(method.ids)],
            }
        )
        method.active = True
        cls.foreign_order = cls._order(5000.0, partner=cls.other_customer)
        cls.foreign_tx = cls.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "amount": 5000.0,
                "currency_id": cls.currency.id,
                "partner_id": cls.other_customer.id,
                "reference": "CC-ATTACK-1",
                "sale_order_ids": [Command.set(cls.foreign_order.ids)],
            }
        )
        cls.foreign_tx.state = "done"
        cls.prepayment = cls.env["account.payment.term"].create({"name": "Prepayment"})
        cls.company.credit_prepayment_term_id = cls.prepayment
        cls.straw_man = cls.env["res.partner"].create({"name": "Strohmann KG", "is_company": True})
        cls.straw_man.with_company(cls.company).write({"credit_limit": 1e6, "credit_limit_set": True})


@tagged("post_install", "-at_install")
class TestAttackOrders(AttackOrdersCommon):
    def test_foreign_payment_transaction_does_not_pay_an_order(self):
        """The paid-online exception holds only for Odoo's own (superuser) confirmation and only
        for the customer's own transactions: a linked transaction of another customer pays
        nothing."""
        self._hold()
        order = self._order(500.0)
        order.with_user(self.sales_user).write({"transaction_ids": [Command.set(self.foreign_tx.ids)]})
        self.assertEqual(order.amount_paid, 5000.0, "core counts any linked transaction")
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user).action_confirm()
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.sudo().action_confirm()
        self.assertEqual(order.state, "draft")
        # the web client's button shows the block dialog instead of confirming
        action = order.with_user(self.sales_user).action_credit_confirm()
        self.assertEqual(action["res_model"], "credit.order.block")
        self.assertEqual(order.state, "draft")

    def test_computed_amounts_cannot_be_written(self):
        """Totals and invoiced quantities are computed: set by a client, an order of 5,000 would
        be checked as 1, a confirmed order would leave the exposure."""
        order = self._order(5000.0)
        as_sales = order.with_user(self.sales_user)
        with self.assertRaisesRegex(AccessError, "Total.* computed and cannot be written"):
            as_sales.write({"amount_total": 1.0, "amount_untaxed": 1.0})
        with self.assertRaisesRegex(AccessError, "Total.* computed and cannot be written"):
            as_sales.order_line.write({"price_total": 1.0, "price_subtotal": 1.0})
        with self.assertRaisesRegex(AccessError, "Total.* computed and cannot be written"):
            self.Order.with_user(self.sales_user).create(
                {
                    "partner_id": self.customer.id,
                    "amount_total": 1.0,
                    "order_line": [Command.create({"product_id": self.product_a.id, "price_unit": 5000.0})],
                }
            )
        self.assertEqual(order.amount_total, 5000.0)
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            as_sales.action_confirm()
        small = self._order(900.0)
        small.with_user(self.sales_user).action_confirm()
        with self.assertRaisesRegex(AccessError, "Invoiced Quantity.* computed and cannot be written"):
            small.order_line.with_user(self.sales_user).write({"qty_invoiced": 1.0})
        self.assertEqual(self.customer._get_credit_exposure()["uninvoiced_orders"], 900.0)

    def test_other_computed_fields_stay_writable_as_in_core(self):
        """Only the amounts and quantities the check reads are refused: core Odoo's own code and
        tests write an order's currency, a line's delivery method and quantity to invoice (a
        paid order invoiced automatically), and the check then sees the order as it is invoiced."""
        order = self._order(500.0)
        as_sales = order.with_user(self.sales_user)
        as_sales.order_line.write({"qty_delivered_method": "manual"})
        self.assertEqual(order.order_line.qty_delivered_method, "manual")
        other = self.setup_other_currency("EUR", rates=[(str(self.today.replace(day=1, month=1)), 2.0)])
        as_sales.write({"currency_id": other.id})
        self.assertEqual(order.currency_id, other)
        # 500.00 in a currency worth half the company's: 250.00 counted, as it will be invoiced
        self.assertAlmostEqual(order._credit_check()["amount"], 250.0)
        as_sales.action_confirm()
        order.order_line.with_user(self.sales_user).write({"qty_to_invoice": 0.0})
        with self.assertRaisesRegex(AccessError, "Invoiced Quantity.* computed and cannot be written"):
            order.order_line.with_user(self.sales_user).write({"qty_invoiced": 1.0})

    def test_order_valued_at_todays_rate_not_its_date(self):
        """The salesperson sets the order date: a date back when the order's currency was worth
        a tenth does not make an order of 5,000 (company currency today) look like 500."""
        other = self.setup_other_currency(
            "EUR", rates=[("2016-01-01", 10.0), (str(self.today.replace(day=1, month=1)), 1.0)]
        )
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": other.id})
        order = self._order(5000.0, pricelist_id=pricelist.id)
        order.with_user(self.sales_user).write({"date_order": "2016-06-01 10:00:00"})
        self.assertAlmostEqual(order._credit_check()["amount"], 5000.0)
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_invoice_cannot_pose_as_dunning_charges(self):
        """With "Check Invoices on Posting", the charge invoices of dunning letters skip the
        check: an accountant cannot mark an ordinary invoice as one (create, default_* key,
        write), so posting it for a customer on hold stays refused."""
        self.company.credit_check_invoice = True
        self._hold()
        Move = self.env["account.move"].with_user(self.collector)
        vals = {
            "move_type": "out_invoice",
            "partner_id": self.customer.id,
            "invoice_line_ids": [Command.create({"name": "Goods", "price_unit": 500.0, "tax_ids": []})],
        }
        with self.assertRaisesRegex(AccessError, "Only a dunning run invoices the charges"):
            Move.create({**vals, "credit_dunning_charge_letter_id": 1})
        invoice = Move.with_context(default_credit_dunning_charge_letter_id=1).create(vals)
        self.assertFalse(invoice.credit_dunning_charge_letter_id)
        with self.assertRaisesRegex(AccessError, "Only a dunning run invoices the charges"):
            invoice.write({"credit_dunning_charge_letter_id": 1})
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")

    def test_payment_term_switched_after_confirmation(self):
        """Confirmed on the prepayment term (the limit rule lets a prepaid order through), then
        switched to 30 days: the change is checked like a new order."""
        order = self._order(5000.0, payment_term_id=self.prepayment.id)
        order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "sale")
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            order.with_user(self.sales_user).write({"payment_term_id": self.term_30.id})
        self.assertEqual(order.payment_term_id, self.prepayment)
        # within the limit the switch passes
        small = self._order(100.0, partner=self.other_customer, payment_term_id=self.prepayment.id)
        small.with_user(self.sales_user).action_confirm()
        small.with_user(self.sales_user).write({"payment_term_id": self.term_30.id})
        self.assertEqual(small.payment_term_id, self.term_30)

    def test_invoice_address_of_another_customer(self):
        """An order of a customer in good standing invoiced to a customer on hold: refused at
        confirmation (all paths) and when a confirmed order's invoice address moves."""
        self._hold()
        Order = self.Order.with_user(self.sales_user)
        vals = {
            "partner_id": self.straw_man.id,
            "partner_invoice_id": self.customer.id,
            "order_line": [self._line(500.0)],
        }
        order = Order.create(vals)
        with self.assertRaisesRegex(UserError, INVOICE_ADDRESS_MESSAGE):
            order.action_confirm()
        with self.assertRaisesRegex(UserError, INVOICE_ADDRESS_MESSAGE):
            order.action_credit_confirm()
        with self.assertRaisesRegex(UserError, INVOICE_ADDRESS_MESSAGE):
            order.write({"state": "sale"})
        with self.assertRaisesRegex(UserError, INVOICE_ADDRESS_MESSAGE):
            Order.create({**vals, "state": "sale"})
        self.assertEqual(order.state, "draft")
        # a contact of the customer itself is fine
        own = Order.create({**vals, "partner_invoice_id": self.straw_man.id})
        own.action_confirm()
        with self.assertRaisesRegex(UserError, INVOICE_ADDRESS_MESSAGE):
            own.write({"partner_invoice_id": self.contact.id})
        self.assertEqual(own.partner_invoice_id, self.straw_man)
        # a Credit Manager confirms it with an override
        order.with_user(self.credit_manager)._credit_override_confirm("Group pays for its subsidiary")
        self.assertEqual(order.state, "sale")

    def test_negative_order_frees_no_credit(self):
        """A confirmed order of a negative total (or a draft credit note) does not reduce the
        exposure that other orders are checked against."""
        Order = self.Order.with_user(self.sales_user)
        negative = Order.create({"partner_id": self.customer.id, "order_line": [self._line(-100000.0)]})
        negative.action_confirm()
        self.assertEqual(self.customer._get_credit_exposure()["uninvoiced_orders"], 0.0)
        self._invoice(100000.0, move_type="out_refund", post=False)
        self.assertEqual(self.customer._get_credit_exposure()["draft_invoices"], 0.0)
        big = Order.create({"partner_id": self.customer.id, "order_line": [self._line(5000.0)]})
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            big.action_confirm()
        self.assertEqual(big.state, "draft")
        # a discount line inside an order still lowers that order's own amount
        discounted = Order.create(
            {"partner_id": self.customer.id, "order_line": [self._line(1500.0), self._line(-600.0)]}
        )
        discounted.action_confirm()
        self.assertEqual(self.customer._get_credit_exposure()["uninvoiced_orders"], 900.0)


@tagged("post_install", "-at_install")
class TestAttackOrdersRpc(ManifestsReadMixin, AttackOrdersCommon, HttpCase):
    """The same attacks as an external client: ``/web/dataset/call_kw`` with the salesperson's
    session and ``/jsonrpc`` ``execute_kw`` with login and password, contexts included."""

    def setUp(self):
        super().setUp()
        self.authenticate("cc_sales", "cc_sales")

    def _call(self, model, method, args, kwargs=None):
        result = self._call_kw_response(model, method, args, kwargs).json()
        self.env.invalidate_all()
        return result

    def _assert_error(self, response, error, pattern):
        self.assertIn("error", response, response)
        self.assertEqual(response["error"]["data"]["name"], error)
        self.assertRegex(response["error"]["data"]["message"], pattern)

    def test_rpc_foreign_transaction_and_context_keys(self):
        self._hold()
        order = self._order(500.0)
        response = self._call(
            "sale.order", "write", [order.ids, {"transaction_ids": [[6, 0, self.foreign_tx.ids]]}]
        )
        self.assertIn("result", response, response)
        for context in ({}, {"credit_checked": True, "credit_override": True, "credit_order_write": 1}):
            response = self._execute_kw("sale.order", "action_confirm", [order.ids], {"context": context})
            self._assert_error(response, "odoo.exceptions.UserError", "Insolvency filed")
        self.assertEqual(order.state, "draft")
        response = self._execute_kw("sale.order", "write", [order.ids, {"amount_total": 1.0}])
        self._assert_error(response, "odoo.exceptions.AccessError", "computed and cannot be written")
        response = self._execute_kw(
            "sale.order", "write", [order.ids, {"credit_block_state": "released"}], {"context": {"su": True}}
        )
        self._assert_error(response, "odoo.exceptions.AccessError", "credit status of an order")
        self.assertEqual(order.credit_block_state, "blocked", "the refused confirmations marked it")

    def test_rpc_payment_term_switch_and_negative_order(self):
        order = self._order(5000.0, payment_term_id=self.prepayment.id)
        response = self._call("sale.order", "action_confirm", [order.ids])
        self.assertIn("result", response, response)
        response = self._execute_kw("sale.order", "write", [order.ids, {"payment_term_id": self.term_30.id}])
        self._assert_error(response, "odoo.exceptions.UserError", "exceeds the credit limit")
        self.assertEqual(order.payment_term_id, self.prepayment)
        response = self._call(
            "sale.order",
            "create",
            [
                {
                    "partner_id": self.other_customer.id,
                    "state": "sale",
                    "order_line": [[0, 0, {"product_id": self.product_a.id, "price_unit": -1e6}]],
                }
            ],
        )
        self.assertIn("result", response, response)
        big = self._order(1500.0, partner=self.other_customer)
        response = self._call("sale.order", "action_confirm", [big.ids])
        self._assert_error(response, "odoo.exceptions.UserError", "exceeds the credit limit")
        self.assertEqual(big.state, "draft")

    def test_rpc_invoice_address_of_held_customer(self):
        self._hold()
        vals = {
            "partner_id": self.straw_man.id,
            "partner_invoice_id": self.customer.id,
            "order_line": [[0, 0, {"product_id": self.product_a.id, "price_unit": 500.0}]],
        }
        response = self._execute_kw("sale.order", "create", [{**vals, "state": "sale"}])
        self._assert_error(response, "odoo.exceptions.UserError", INVOICE_ADDRESS_MESSAGE)
        self.assertFalse(self.Order.search([("partner_id", "=", self.straw_man.id)]))
        response = self._call("sale.order", "create", [vals])
        order = self.Order.browse(response["result"])
        response = self._call("sale.order", "action_credit_confirm", [order.ids])
        self._assert_error(response, "odoo.exceptions.UserError", INVOICE_ADDRESS_MESSAGE)
        self.assertEqual(order.state, "draft")
