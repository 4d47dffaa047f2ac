import psycopg2.errors

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSaleCreditConcurrency(TransactionCase):
    """Two transactions confirming orders of one customer at the same moment must not both
    pass when together they exceed the limit. Needs committed data and real cursors."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            partner = env["res.partner"].create({"name": "Concurrent GmbH", "is_company": True})
            partner.with_company(company).write({"credit_limit": 1000.0, "credit_limit_set": True})
            product = env["product.product"].create(
                {"name": "Concurrent service", "type": "service", "invoice_policy": "order"}
            )
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "order_line": [
                            Command.create(
                                {"product_id": product.id, "price_unit": 600.0, "tax_id": [Command.clear()]}
                            )
                        ],
                    }
                    for _i in range(2)
                ]
                + [
                    {
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "order_line": [
                            Command.create(
                                {"product_id": product.id, "price_unit": 100.0, "tax_id": [Command.clear()]}
                            )
                        ],
                    }
                ]
            )
            self.ids = {"partner": partner.id, "product": product.id, "orders": orders.ids}
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].browse(self.ids["orders"])
            cr.execute("DELETE FROM credit_decision WHERE order_id IN %s", [tuple(orders.ids)])
            orders._action_cancel()
            orders.unlink()
            env["product.product"].browse(self.ids["product"]).product_tmpl_id.unlink()
            env["res.partner"].browse(self.ids["partner"]).unlink()

    def test_two_transactions_are_serialised(self):
        order_1, order_2, _order_3 = self.ids["orders"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            # both transactions take their snapshot before either confirms
            cr1.execute("SELECT 1")
            cr2.execute("SELECT 1")
            self.assertFalse(
                env2["sale.order"].browse(order_2)._credit_check()["failures"],
                "alone, the second order fits the limit",
            )
            env1["sale.order"].browse(order_1).action_confirm()
            cr1.commit()
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                env2["sale.order"].browse(order_2).action_confirm()
            cr2.rollback()
            # Odoo retries a request that failed on a serialization error: now it is blocked
            env2.invalidate_all()
            with self.assertRaises(UserError) as caught:
                env2["sale.order"].browse(order_2).action_confirm()
            self.assertRegex(str(caught.exception), r"exceeds the credit limit")
            cr2.rollback()
        with self.registry.cursor() as cr:
            states = (
                api.Environment(cr, SUPERUSER_ID, {})["sale.order"].browse(self.ids["orders"]).mapped("state")
            )
        self.assertEqual(states, ["sale", "draft", "draft"])

    def test_batch_confirmation_is_serialised(self):
        """A batch locks the customer as a single confirmation does; the retried batch sees
        the order the other transaction confirmed, and the refusal is on record (the small
        third order would fit after the first: only the second is refused)."""
        order_1, order_2, order_3 = self.ids["orders"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            cr1.execute("SELECT 1")
            cr2.execute("SELECT 1")
            env1["sale.order"].browse(order_1).action_confirm()
            cr1.commit()
            with self.assertRaises(psycopg2.errors.SerializationFailure):
                env2["sale.order"].browse([order_2, order_3]).action_confirm()
            cr2.rollback()
            env2.invalidate_all()
            with self.assertRaises(UserError) as error:
                env2["sale.order"].browse([order_2, order_3]).action_confirm()
            cr2.rollback()  # writes the block decision in a transaction of its own
            self.assertIn("exceeds the credit limit", str(error.exception))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(
                env["sale.order"].browse(self.ids["orders"]).mapped("state"), ["sale", "draft", "draft"]
            )
            decisions = env["credit.decision"].search([("order_id", "in", self.ids["orders"])])
            self.assertEqual(decisions.mapped("decision_type"), ["block"])
            self.assertEqual(decisions.order_id.id, order_2)
            self.assertEqual(decisions.exposure, 600.0)
