from odoo.tests import new_test_user, tagged

from odoo.addons.credit_control.lib.responsible import responsible_credit_manager

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestResponsibleCreditManager(CreditControlCommon):
    """One helper decides who acts on a customer's credit: the order's release request uses the
    same one as checks, limit requests, disputes and tasks."""

    def test_order_release_goes_to_the_same_manager(self):
        order = self.env["sale.order"].create({"partner_id": self.contact.id})
        self.customer.credit_manager_id = self.credit_manager
        self.assertEqual(order._credit_responsible_manager(), self.credit_manager)
        # an archived credit manager of the customer is skipped, as everywhere else
        gone = new_test_user(
            self.env,
            "cc_manager_gone",
            groups="account.group_account_invoice,credit_control.credit_control_group_manager",
            company_id=self.company.id,
        )
        self.customer.credit_manager_id = gone
        gone.active = False
        manager = order._credit_responsible_manager()
        self.assertNotEqual(manager, gone)
        self.assertEqual(manager, responsible_credit_manager(self.env, self.customer, self.company))
        self.assertTrue(manager.active)
        self.assertTrue(manager.has_group("credit_control.credit_control_group_manager"))
        self.assertIn(self.company, manager.company_ids)
