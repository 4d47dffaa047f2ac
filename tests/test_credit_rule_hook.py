from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditControlCommon

TEST_RULE_MESSAGE = "Single orders above 5,000.00 need the signature of the managing director."


def _credit_rule_test_single_order(partner, facts):
    """The test-only rule, written as another module would write it (see README, "Extension
    points"): documents above 5,000 in company currency fail, with their figures."""
    if facts["currency"].compare_amounts(facts["amount"], 5000.0) <= 0:
        return None
    return {
        "rule": "test_single_order",
        "message": TEST_RULE_MESSAGE,
        "figures": {"amount": facts["amount"], "document": facts["document"]},
    }


@tagged("post_install", "-at_install")
class TestCreditRuleHook(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_a.invoice_policy = "order"
        cls.customer.user_id = cls.sales_user

    @contextmanager
    def _test_rule(self, drop=()):
        """Add the test-only rule to the list (and drop the rules named in ``drop``), as an
        ``_inherit = "res.partner"`` class of another module would."""
        partner_class = type(self.env["res.partner"])
        original = partner_class._credit_rules

        def _credit_rules(partner):
            rules = [name for name in original(partner) if name not in drop]
            return rules + ["_credit_rule_test_single_order"]

        with (
            patch.object(partner_class, "_credit_rules", _credit_rules),
            patch.object(
                partner_class, "_credit_rule_test_single_order", _credit_rule_test_single_order, create=True
            ),
        ):
            yield

    def test_rule_list_names_methods(self):
        partner = self.env["res.partner"]
        rules = partner._credit_rules()
        self.assertEqual(
            rules,
            [
                "_credit_rule_hold",
                "_credit_rule_limit",
                "_credit_rule_overdue",
                "_credit_rule_payment_term",
                "_credit_rule_new_customer",
                "_credit_rule_dunning",
            ],
        )
        for name in rules:
            self.assertTrue(callable(getattr(partner, name)), name)

    def test_added_rule_blocks_order_confirmation(self):
        order = self._order(6000.0)
        small = self._order(4000.0)
        # no limit set: without the test rule the order confirms
        self.assertFalse(order._credit_check()["failures"])
        with self._test_rule():
            with self.assertRaises(UserError) as error:
                order.with_user(self.sales_user).action_confirm()
            self.assertIn(TEST_RULE_MESSAGE, str(error.exception))
            self.assertIn(order.name, str(error.exception))
            self.assertEqual(order.state, "draft")
            # the failure carries its rule key and figures
            failure = order._credit_check()["failures"][0]
            self.assertEqual(failure["rule"], "test_single_order")
            self.assertEqual(failure["figures"]["amount"], 6000.0)
            self.assertEqual(failure["figures"]["document"], order)
            # below the rule's amount: confirms
            small.with_user(self.sales_user).action_confirm()
            self.assertEqual(small.state, "sale")

    def test_added_rule_in_web_path_banner_and_decision(self):
        order = self._order(6000.0)
        with self._test_rule():
            order.invalidate_recordset(["credit_banner_html", "credit_banner_level"])
            self.assertEqual(order.credit_banner_level, "danger")
            self.assertIn(TEST_RULE_MESSAGE, order.credit_banner_html)
            action = order.with_user(self.sales_user).action_credit_confirm()
        self.assertEqual(action["res_model"], "credit.order.block")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.credit_block_state, "blocked")
        self.assertIn(TEST_RULE_MESSAGE, order.credit_block_message)
        decision = order.credit_decision_ids
        self.assertEqual(decision.decision_type, "block")
        self.assertIn(TEST_RULE_MESSAGE, decision.rules_text)
        # the key is not in the decision's selection (the other module did not add it): no rule
        self.assertFalse(decision.rule)

    def test_added_rule_recorded_after_a_known_rule(self):
        self.customer.write({"credit_hold": True, "credit_hold_reason": "Insolvency filed"})
        order = self._order(6000.0)
        with self._test_rule():
            check = order._credit_check()
        self.assertEqual([f["rule"] for f in check["failures"]], ["hold", "test_single_order"])
        vals = self.env["credit.decision"]._prepare_vals("block", check, order)
        self.assertEqual(vals["rule"], "hold")
        self.assertIn(TEST_RULE_MESSAGE, vals["rules_text"])

    def test_added_rule_on_invoice_posting(self):
        self.company.credit_check_invoice = True
        invoice = self._invoice(6000.0, post=False)
        with self._test_rule():
            with self.assertRaises(UserError) as error:
                invoice.action_post()
        self.assertIn(TEST_RULE_MESSAGE, str(error.exception))
        self.assertEqual(invoice.state, "draft")
        invoice.action_post()  # without the rule: posts
        self.assertEqual(invoice.state, "posted")

    def test_rule_removed_from_the_list(self):
        self.customer.write({"credit_hold": True, "credit_hold_reason": "Insolvency filed"})
        order = self._order(100.0)
        with self.assertRaises(UserError) as error:
            order.action_confirm()
        self.assertIn("Insolvency filed", str(error.exception))
        with self._test_rule(drop=("_credit_rule_hold",)):
            order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_failures_carry_figures(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(700.0, term=self.term_30)
        order = self._order(400.0)
        failure = order._credit_check()["failures"][0]
        self.assertEqual(failure["rule"], "limit")
        self.assertEqual(failure["figures"]["exposure"], 700.0)
        self.assertEqual(failure["figures"]["amount"], 400.0)
        self.assertEqual(failure["figures"]["limit"], 1000.0)
