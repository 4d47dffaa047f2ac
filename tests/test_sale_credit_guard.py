from contextlib import contextmanager
from datetime import timedelta

from lxml import etree

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import CreditControlCommon, ManifestsReadMixin

PROTECTED_MESSAGE = "credit status of an order is set by the credit check and the credit team only"


class RolledBackRaisesMixin:
    """``assertRaisesRegex`` as Odoo's ``assertRaises``: the call runs in a savepoint that is
    rolled back with the error, as the transaction of an RPC call would be; what the test reads
    afterwards is what is left."""

    @contextmanager
    def assertRaisesRegex(self, exception, regex):
        with self.assertRaises(exception) as error:
            yield error
        self.assertRegex(str(error.exception), regex)


class SaleCreditGuardCommon(RolledBackRaisesMixin, CreditControlCommon):
    """A customer with a limit of 1,000, a second customer, orders made by the superuser and
    touched by a plain salesperson (no credit group)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_a.invoice_policy = "order"
        cls.customer.user_id = cls.sales_user
        cls.other_customer = cls.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        cls.company.credit_check_sale = True
        cls.customer.with_company(cls.company).write({"credit_limit": 1000.0, "credit_limit_set": True})
        cls.other_customer.with_company(cls.company).write({"credit_limit": 1000.0, "credit_limit_set": True})
        cls.Order = cls.env["sale.order"]
        cls.Decision = cls.env["credit.decision"]

    @classmethod
    def _line(cls, amount, qty=1):
        return Command.create(
            {
                "product_id": cls.product_a.id,
                "product_uom_qty": qty,
                "price_unit": amount,
                "tax_id": [Command.clear()],
            }
        )

    @classmethod
    def _order(cls, amount, partner=None, **vals):
        return cls.Order.create(
            {
                "partner_id": (partner or cls.customer).id,
                "user_id": cls.sales_user.id,
                "order_line": [cls._line(amount)],
                **vals,
            }
        )

    def _decisions(self, orders=None):
        domain = [("partner_id", "in", (self.customer | self.other_customer).ids)]
        if orders is not None:
            domain.append(("order_id", "in", orders.ids))
        return self.Decision.search(domain)

    def _hold(self, partner=None):
        (partner or self.customer).write({"credit_hold": True, "credit_hold_reason": "Insolvency filed"})


@tagged("post_install", "-at_install")
class TestSaleCreditGuard(SaleCreditGuardCommon):
    # --- rule 4: protected values at creation --- #
    def test_create_with_protected_values_refused(self):
        Order = self.Order.with_user(self.sales_user)
        for vals in (
            {"credit_block_state": "released"},
            {"credit_release_amount": 1e9},
            {"credit_release_partner_id": self.customer.id},
            {"credit_released_by_id": self.credit_manager.id},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, PROTECTED_MESSAGE):
                Order.create({"partner_id": self.customer.id, "order_line": [self._line(10.0)], **vals})
        self.assertFalse(self.Order.search([("partner_id", "=", self.customer.id)]))
        # a false value (what a client sends for an empty field) is harmless
        order = Order.create(
            {"partner_id": self.customer.id, "order_line": [self._line(10.0)], "credit_block_state": False}
        )
        self.assertFalse(order.credit_block_state)

    def test_default_context_keys_ignored(self):
        self._hold()
        Order = self.Order.with_user(self.sales_user).with_context(
            default_credit_block_state="released",
            default_credit_release_amount=1e9,
            default_credit_release_partner_id=self.customer.id,
            default_credit_release_company_id=self.company.id,
            default_credit_release_currency_id=self.currency.id,
            default_state="sale",
        )
        self.assertFalse(
            {"credit_block_state", "credit_release_amount", "state"}
            & {k for k, v in Order.default_get(["credit_block_state", "credit_release_amount"]).items() if v}
        )
        self.assertEqual(Order.default_get(["state"]).get("state"), "draft")
        order = Order.create({"partner_id": self.customer.id, "order_line": [self._line(10.0)]})
        self.assertEqual(
            (order.state, order.credit_block_state, order.credit_release_amount), ("draft", False, 0)
        )
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "draft")

    # --- rule 1: every path to a confirmed order --- #
    def test_write_state_checked(self):
        self._hold()
        order = self._order(10.0)
        with self.assertRaisesRegex(UserError, "cannot be confirmed.*\n.*Insolvency filed"):
            order.with_user(self.sales_user).write({"state": "sale"})
        self.assertEqual(order.state, "draft")
        # a write that also grows the order is checked with the grown amount
        self.customer.credit_hold = False
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            order.with_user(self.sales_user).write({"state": "sale", "order_line": [self._line(5000.0)]})
        self.assertEqual(order.state, "draft")
        order.with_user(self.sales_user).write({"state": "sale"})
        self.assertEqual(order.state, "sale")

    def test_create_confirmed_checked(self):
        self._hold()
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            self.Order.with_user(self.sales_user).create(
                {"partner_id": self.customer.id, "order_line": [self._line(10.0)], "state": "sale"}
            )
        self.assertFalse(self.Order.search([("partner_id", "=", self.customer.id)]))

    def test_private_action_confirm_checked(self):
        self._hold()
        order = self._order(10.0)
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user)._action_confirm()
        self.assertEqual(order.state, "draft")

    def test_context_cannot_forge_override(self):
        self._hold()
        order = self._order(10.0)
        for key in ("credit_override", "credit_order_write", "credit_growth_scope"):
            with self.subTest(key=key), self.assertRaisesRegex(UserError, "Insolvency filed"):
                order.with_user(self.sales_user).with_context(**{key: True}).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_batch_confirmation_is_cumulative(self):
        first, second, third = self._order(600.0), self._order(600.0), self._order(100.0)
        with self.assertRaises(UserError) as error:
            (first | second | third).with_user(self.sales_user).action_confirm()
        message = str(error.exception)
        self.assertIn("%s cannot be confirmed" % second.name, message)
        self.assertIn("Checked together with %s" % first.name, message)
        self.assertIn("exceeds the credit limit", message)
        # the first fits; the third fits after the first (the refused second does not count)
        self.assertNotIn("%s cannot be confirmed" % first.name, message)
        self.assertNotIn("%s cannot be confirmed" % third.name, message)
        self.assertEqual((first | second | third).mapped("state"), ["draft", "draft", "draft"])
        # the same through a direct state write
        with self.assertRaisesRegex(UserError, "Checked together with"):
            (first | second).with_user(self.sales_user).write({"state": "sale"})
        self.assertEqual((first | second).mapped("state"), ["draft", "draft"])
        # each alone fits; then the second sees the first
        first.with_user(self.sales_user).action_confirm()
        self.assertEqual(first.state, "sale")
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            second.with_user(self.sales_user).action_confirm()

    def test_batch_of_different_customers_checked_apart(self):
        orders = self._order(600.0) | self._order(600.0, partner=self.other_customer)
        orders.with_user(self.sales_user).action_confirm()
        self.assertEqual(orders.mapped("state"), ["sale", "sale"])

    def test_paid_order_confirmed_by_superuser(self):
        """Odoo confirms an order paid online as superuser: a paid order gives no credit."""
        self._hold()
        order = self._order(500.0)
        method = self.env.ref("payment.payment_method_unknown")
        provider = self.env["payment.provider"].create(
            {
                "name": "Dummy",
                "code": "none",
                "state": "test",
                "payment_method_ids": [Command.set(method.ids)],
            }
        )
        method.active = True
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": method.id,
                "amount": 400.0,
                "currency_id": order.currency_id.id,
                "partner_id": self.customer.id,
                "reference": "CC-GUARD-1",
                "sale_order_ids": [Command.set(order.ids)],
            }
        )
        tx.state = "done"
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.sudo().action_confirm()  # partly paid: still credit
        tx.amount = 500.0
        order.invalidate_recordset(["amount_paid"])
        order.sudo().action_confirm()
        self.assertEqual(order.state, "sale")

    # --- rule 2: a confirmed order does not grow past the rules --- #
    def test_growth_of_confirmed_order(self):
        order = self._order(600.0)
        order.action_confirm()
        line = order.order_line
        as_sales = order.with_user(self.sales_user)
        attempts = {
            "new line on the order": lambda: as_sales.write({"order_line": [self._line(600.0)]}),
            "new line": lambda: self.env["sale.order.line"]
            .with_user(self.sales_user)
            .create(
                {
                    "order_id": order.id,
                    "product_id": self.product_a.id,
                    "price_unit": 600.0,
                    "tax_id": [Command.clear()],
                }
            ),
            "quantity": lambda: line.with_user(self.sales_user).write({"product_uom_qty": 3}),
            "price": lambda: as_sales.write(
                {"order_line": [Command.update(line.id, {"price_unit": 2000.0})]}
            ),
        }
        for name, attempt in attempts.items():
            with self.subTest(name), self.assertRaisesRegex(UserError, "is confirmed; it cannot grow"):
                attempt()
            self.assertEqual(order.amount_total, 600.0)
            self.assertEqual(order.order_line, line)
        # decreases pass; growth within the free credit passes
        line.with_user(self.sales_user).write({"discount": 50.0})
        self.assertEqual(order.amount_total, 300.0)
        as_sales.write({"order_line": [self._line(500.0)]})
        self.assertEqual(order.amount_total, 800.0)
        with self.assertRaisesRegex(UserError, r"Exposure \D*0\.00\D* plus this document \D*1,400\.00"):
            line.with_user(self.sales_user).write({"discount": 0.0, "price_unit": 900.0})

    def test_growth_covered_by_release(self):
        order = self._order(600.0)
        order.action_confirm()
        with self.assertRaises(AccessError) as caught:
            order.with_user(self.sales_user)._credit_release("me", amount=5000.0)
        self.assertRegex(
            str(caught.exception), r"Only a Credit Manager can release or override a credit block\."
        )
        manager_order = order.with_user(self.credit_manager)
        with self.assertRaisesRegex(UserError, "cannot be below the order total"):
            manager_order._credit_release("Bank guarantee", amount=100.0)
        self.env["credit.order.release"].with_user(self.credit_manager).create(
            {"order_id": order.id, "mode": "release", "reason": "Bank guarantee", "amount": 1500.0}
        ).action_apply()
        self.assertEqual(order.credit_release_amount, 1500.0)
        # (a new quantity reprices the line from the pricelist: the price is given as well)
        order.order_line.with_user(self.sales_user).write({"product_uom_qty": 2, "price_unit": 600.0})
        self.assertEqual(order.amount_total, 1200.0)
        with self.assertRaisesRegex(UserError, "cannot grow"):
            order.order_line.with_user(self.sales_user).write({"product_uom_qty": 3, "price_unit": 600.0})
        self.assertEqual(order.amount_total, 1200.0)

    def test_confirmed_order_moved_to_held_customer(self):
        self._hold(self.other_customer)
        order = self._order(100.0)
        order.action_confirm()
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user).write({"partner_id": self.other_customer.id})
        self.assertEqual(order.partner_id, self.customer)

    # --- rule 3: a release is bound to what was released --- #
    def test_release_bound_to_customer(self):
        self._set_limit(self.customer, 100.0)
        self._hold(self.other_customer)
        order = self._order(500.0)
        order.with_user(self.credit_manager)._credit_release("Bank guarantee")
        self.assertEqual(
            (
                order.credit_release_partner_id,
                order.credit_release_company_id,
                order.credit_release_currency_id,
            ),
            (self.customer, self.company, order.currency_id),
        )
        # to a contact of the same customer: still released
        order.with_user(self.sales_user).write({"partner_id": self.contact.id})
        self.assertTrue(order._credit_release_valid())
        # to another customer: void, recorded as an expiry
        order.with_user(self.sales_user).write({"partner_id": self.other_customer.id})
        self.assertFalse(order.credit_block_state)
        self.assertFalse(order.credit_release_amount)
        expiry = order.credit_decision_ids.filtered(lambda d: d.decision_type == "expiry")
        self.assertEqual(len(expiry), 1)
        self.assertIn("another customer", expiry.reason)
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_release_void_when_commercial_partner_changes(self):
        """The contact moves to another company after the release: void, and the banner says so."""
        self._set_limit(self.customer, 100.0)
        self._set_limit(self.other_customer, 100.0)
        order = self._order(500.0, partner=self.contact)
        order.with_user(self.credit_manager)._credit_release("Bank guarantee", self.today + timedelta(days=3))
        self.assertTrue(order._credit_release_valid())
        self.contact.parent_id = self.other_customer
        order.invalidate_recordset()
        self.assertFalse(order._credit_release_valid())
        self.assertEqual(order.credit_banner_level, "danger")
        self.assertIn("no longer applies", order.credit_banner_html)
        self.assertIn("another customer", order.credit_banner_html)
        with self.assertRaisesRegex(UserError, "no longer applies: it was given for another customer"):
            order.with_user(self.sales_user).action_confirm()

    def test_release_void_other_currency_or_amount(self):
        self._set_limit(self.customer, 100.0)
        other = self.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        pricelist = self.env["product.pricelist"].create({"name": "EUR", "currency_id": other.id})
        order = self._order(500.0)
        order.with_user(self.credit_manager)._credit_release("Bank guarantee")
        order.order_line.price_unit = 600.0
        self.assertIn("above the released", order.credit_banner_html)
        order.order_line.price_unit = 500.0
        self.assertTrue(order._credit_release_valid())
        order.with_user(self.sales_user).write({"pricelist_id": pricelist.id})
        self.assertEqual(order.currency_id, other)
        self.assertFalse(order.credit_block_state, "moved to another currency: the release is void")
        self.assertIn(
            "another currency",
            order.credit_decision_ids.filtered(lambda d: d.decision_type == "expiry").reason,
        )

    # --- rule 5: the audit trail survives --- #
    def test_decision_survives_order_deletion(self):
        self._hold()
        order = self._order(250.0)
        order.with_user(self.sales_user).action_credit_confirm()
        decision = order.credit_decision_ids
        self.assertEqual(decision.decision_type, "block")
        name = order.name
        order.unlink()
        self.assertTrue(decision.exists())
        self.assertFalse(decision.order_id)
        self.assertEqual(
            (decision.document_ref, decision.partner_id, decision.amount, decision.document_amount),
            (name, self.customer, 250.0, 250.0),
        )
        self.assertIn(name, decision.display_name)

    def test_block_recorded_after_rollback(self):
        """The UserError of action_confirm leaves a hook that writes the decision once the
        transaction is rolled back (here: run by hand; over RPC see the HTTP tests)."""
        self._hold()
        order = self._order(250.0)
        with self.assertRaisesRegex(UserError, "Insolvency filed"):
            order.with_user(self.sales_user).action_confirm()
        self.assertFalse(order.credit_decision_ids, "nothing in the failing transaction itself")
        # the hook's own cursor runs on the test transaction
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.env.cr.postrollback.run()
        self.env.invalidate_all()
        decision = order.credit_decision_ids
        self.assertEqual(
            (decision.decision_type, decision.rule, decision.user_id, decision.document_ref),
            ("block", "hold", self.sales_user, order.name),
        )
        self.assertEqual(order.credit_block_state, "blocked")
        self.assertEqual(order.state, "draft")

    # --- rule 7: one banner --- #
    def test_odoo_credit_warning_hidden(self):
        self.company.account_use_credit_limit = True
        arch = etree.fromstring(self.Order.get_view(self.env.ref("sale.view_order_form").id, "form")["arch"])
        warnings = arch.xpath("//div[field[@name='partner_credit_warning']]")
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0].get("invisible"), "True")
        self.assertTrue(arch.xpath("//field[@name='credit_banner_html']"))


@tagged("post_install", "-at_install")
class TestInvoiceCreditGuard(RolledBackRaisesMixin, CreditControlCommon):
    """The invoice credit fields: protected at creation, in the context and on write; a release
    bound to the amount, customer and currency it was given for."""

    def setUp(self):
        super().setUp()
        self.company.credit_check_invoice = True
        self._set_limit(self.customer, 1000.0)
        self.Move = self.env["account.move"].with_user(self.collector)

    def _vals(self, amount=300.0, partner=None):
        return {
            "move_type": "out_invoice",
            "partner_id": (partner or self.customer).id,
            "invoice_date": self.today,
            "invoice_line_ids": [
                Command.create(
                    {"name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                )
            ],
        }

    def test_protected_at_create_context_and_write(self):
        for vals in ({"credit_block_state": "released"}, {"credit_release_amount": 1e9}):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "set by the credit team only"):
                self.Move.create({**self._vals(), **vals})
        invoice = self.Move.with_context(
            default_credit_block_state="released", default_credit_release_amount=1e9
        ).create(self._vals(5000.0))
        self.assertFalse(invoice.credit_block_state)
        with self.assertRaisesRegex(AccessError, "set by the credit team only"):
            invoice.write({"credit_block_state": "released"})
        with self.assertRaisesRegex(UserError, "exceeds the credit limit"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")

    def test_release_bound_to_amount_and_customer(self):
        self._set_limit(self.customer, 100.0)
        invoice = self.Move.create(self._vals(300.0))
        invoice.with_user(self.credit_manager)._credit_release("Cheque received")
        self.assertEqual(
            (invoice.credit_release_amount, invoice.credit_release_partner_id), (300.0, self.customer)
        )
        invoice.write(
            {"invoice_line_ids": [Command.create({"name": "More", "price_unit": 5000.0, "tax_ids": []})]}
        )
        with self.assertRaisesRegex(UserError, "no longer applies: the invoice total is above the released"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        invoice.invoice_line_ids.filtered(lambda line: line.name == "More").unlink()
        other = self.env["res.partner"].create({"name": "Other GmbH", "is_company": True})
        self._set_limit(other, 0.0)
        invoice.partner_id = other
        with self.assertRaisesRegex(UserError, "it was given for another customer"):
            invoice.action_post()
        invoice.partner_id = self.customer
        invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.credit_decision_ids.document_ref, invoice.name)

    def test_grown_release_voided_after_rollback(self):
        self._set_limit(self.customer, 100.0)
        invoice = self.Move.create(self._vals(300.0))
        invoice.with_user(self.credit_manager)._credit_release("Cheque received")
        invoice.write(
            {"invoice_line_ids": [Command.create({"name": "More", "price_unit": 50.0, "tax_ids": []})]}
        )
        with self.assertRaisesRegex(UserError, "above the released"):
            invoice.action_post()
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)
        self.env.cr.postrollback.run()
        self.env.invalidate_all()
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.credit_block_state, "the release no longer applies: void")
        self.assertEqual(
            sorted(invoice.credit_decision_ids.mapped("decision_type")), ["block", "expiry", "release"]
        )
        block = invoice.credit_decision_ids.filtered(lambda d: d.decision_type == "block")
        self.assertEqual((block.amount, block.user_id, block.rule), (350.0, self.collector, "limit"))


@tagged("post_install", "-at_install")
class TestSaleCreditGuardRpc(ManifestsReadMixin, SaleCreditGuardCommon, HttpCase):
    """The same rules over JSON-RPC (``/web/dataset/call_kw``), as a plain salesperson: each
    refused call changes nothing but the block decision written after its rollback."""

    def setUp(self):
        super().setUp()
        self.authenticate("cc_sales", "cc_sales")

    def _call(self, model, method, args, kwargs=None):
        response = self._call_kw_response(model, method, args, kwargs)
        result = response.json()
        self.env.invalidate_all()
        return result

    def _assert_error(self, response, error, pattern):
        self.assertIn("error", response, response)
        self.assertEqual(response["error"]["data"]["name"], error)
        self.assertRegex(response["error"]["data"]["message"], pattern)

    def _order_vals(self, amount, partner=None):
        return {
            "partner_id": (partner or self.customer).id,
            "order_line": [
                [0, 0, {"product_id": self.product_a.id, "price_unit": amount, "tax_id": [[5, 0, 0]]}]
            ],
        }

    def test_rpc_create_released(self):
        self._hold()
        response = self._call(
            "sale.order", "create", [{**self._order_vals(10.0), "credit_block_state": "released"}]
        )
        self._assert_error(response, "odoo.exceptions.AccessError", PROTECTED_MESSAGE)
        self.assertFalse(self.Order.search([("partner_id", "=", self.customer.id)]))
        response = self._call("sale.order", "create", [{**self._order_vals(10.0), "state": "sale"}])
        self._assert_error(response, "odoo.exceptions.UserError", "Insolvency filed")
        self.assertFalse(self.Order.search([("partner_id", "=", self.customer.id)]))
        # the attempt is on record, with the customer and amount (the order itself is gone)
        decision = self._decisions()
        self.assertEqual(
            (decision.decision_type, decision.order_id.id, decision.amount), ("block", False, 10.0)
        )
        self.assertEqual(decision.user_id, self.sales_user)

    def test_rpc_default_context_key_and_confirm_records_block(self):
        self._hold()
        response = self._call(
            "sale.order",
            "create",
            [self._order_vals(10.0)],
            {"context": {"default_credit_block_state": "released", "default_credit_release_amount": 1e9}},
        )
        order = self.Order.browse(response["result"])
        self.assertEqual((order.credit_block_state, order.credit_release_amount), (False, 0.0))
        response = self._call("sale.order", "action_confirm", [order.ids])
        self._assert_error(response, "odoo.exceptions.UserError", "Insolvency filed")
        self.assertEqual(order.state, "draft")
        decision = self._decisions()
        self.assertEqual(decision.mapped("decision_type"), ["block"])
        self.assertEqual(
            (decision.order_id, decision.user_id, decision.rule), (order, self.sales_user, "hold")
        )
        self.assertEqual(order.credit_block_state, "blocked")

    def test_rpc_write_state(self):
        self._hold()
        order = self._order(10.0)
        response = self._call("sale.order", "write", [order.ids, {"state": "sale"}])
        self._assert_error(response, "odoo.exceptions.UserError", "cannot be confirmed")
        self.assertEqual(order.state, "draft")
        self.assertEqual(self._decisions().mapped("decision_type"), ["block"])
        response = self._call("sale.order", "write", [order.ids, {"credit_block_state": "released"}])
        self._assert_error(response, "odoo.exceptions.AccessError", PROTECTED_MESSAGE)
        self.assertEqual(order.credit_block_state, "blocked")

    def test_rpc_batch_confirm(self):
        first, second = self._order(600.0), self._order(600.0)
        response = self._call("sale.order", "action_confirm", [(first | second).ids])
        self._assert_error(response, "odoo.exceptions.UserError", "Checked together with %s" % first.name)
        self.assertEqual((first | second).mapped("state"), ["draft", "draft"])
        decision = self._decisions()
        self.assertEqual((decision.decision_type, decision.order_id), ("block", second))
        self.assertEqual(decision.exposure, 600.0, "the first order of the call counts as exposure")

    def test_rpc_grow_confirmed_order(self):
        order = self._order(600.0)
        order.action_confirm()
        line = order.order_line
        response = self._call(
            "sale.order",
            "write",
            [order.ids, {"order_line": [[0, 0, {"product_id": self.product_a.id, "price_unit": 600.0}]]}],
        )
        self._assert_error(response, "odoo.exceptions.UserError", "it cannot grow")
        response = self._call("sale.order.line", "write", [line.ids, {"product_uom_qty": 5}])
        self._assert_error(response, "odoo.exceptions.UserError", "it cannot grow")
        self.assertEqual((order.order_line, line.product_uom_qty, order.amount_total), (line, 1.0, 600.0))
        self.assertEqual(self._decisions().mapped("decision_type"), ["block", "block"])
        self.assertEqual(order.state, "sale")

    def test_rpc_move_released_order(self):
        self._set_limit(self.customer, 100.0)
        self._hold(self.other_customer)
        order = self._order(500.0)
        order.with_user(self.credit_manager)._credit_release("Bank guarantee")
        response = self._call("sale.order", "write", [order.ids, {"partner_id": self.other_customer.id}])
        self.assertIn("result", response, response)
        self.assertFalse(order.credit_block_state)
        response = self._call("sale.order", "action_confirm", [order.ids])
        self._assert_error(response, "odoo.exceptions.UserError", "Insolvency filed")
        self.assertEqual(order.state, "draft")
        self.assertEqual(
            sorted(self._decisions(order).mapped("decision_type")), ["block", "expiry", "release"]
        )
