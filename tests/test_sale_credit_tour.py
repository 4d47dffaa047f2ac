from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestSaleCreditTour(ManifestsReadMixin, HttpCase):
    def test_release_path_in_the_browser(self):
        company = self.env.ref("base.main_company")
        sales = new_test_user(
            self.env, "cc_tour_sales", groups="sales_team.group_sale_salesman", company_id=company.id
        )
        manager = new_test_user(
            self.env,
            "cc_tour_manager",
            groups="sales_team.group_sale_salesman_all_leads,credit_control.credit_control_group_manager",
            company_id=company.id,
        )
        customer = self.env["res.partner"].create(
            {
                "name": "Tour Limit GmbH",
                "is_company": True,
                "user_id": sales.id,
                "credit_manager_id": manager.id,
            }
        )
        customer.write({"credit_limit": 100.0, "credit_limit_set": True})
        product = self.env["product.product"].create(
            {"name": "Tour goods", "type": "consu", "list_price": 500.0, "invoice_policy": "order"}
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "user_id": sales.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "price_unit": 500.0, "tax_id": [Command.clear()]}
                    )
                ],
            }
        )
        url = f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}"
        self.start_tour(url, "credit_release_sales_request_tour", login="cc_tour_sales")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.credit_block_state, "requested")
        task = self.env["credit.task"].search([("order_id", "=", order.id)])
        self.assertEqual(task.task_type, "release_request")
        self.assertTrue(task.activity_ids.filtered(lambda a: a.user_id == manager))
        self.start_tour(url, "credit_release_manager_tour", login="cc_tour_manager")
        self.assertEqual(order.credit_block_state, "released")
        self.assertEqual(task.stage, "done")
        self.start_tour(url, "credit_release_sales_confirm_tour", login="cc_tour_sales")
        self.assertEqual(order.state, "sale")
        self.assertEqual(
            sorted(order.credit_decision_ids.mapped("decision_type")), ["block", "release", "request"]
        )
