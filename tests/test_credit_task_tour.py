from odoo.tests import HttpCase, new_test_user, tagged

from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestCreditTaskTour(ManifestsReadMixin, HttpCase):
    def test_salesperson_works_a_task_in_the_browser(self):
        company = self.env.ref("base.main_company")
        sales = new_test_user(
            self.env, "cc_task_sales", groups="sales_team.group_sale_salesman", company_id=company.id
        )
        customer = self.env["res.partner"].create(
            {"name": "Tour Task GmbH", "is_company": True, "user_id": sales.id}
        )
        task = self.env["credit.task"]._create_auto(
            "documents", "manual", customer, "Get the signed delivery note", company=company, team="sales"
        )
        hidden = self.env["credit.task"]._create_auto(
            "call", "manual", customer, "Credit team call", company=company, team="credit"
        )
        self.assertEqual(task.user_id, sales)
        self.start_tour(
            "/odoo/action-credit_control.credit_task_action_my",
            "credit_task_sales_tour",
            login="cc_task_sales",
        )
        self.assertEqual(task.stage, "done")
        self.assertTrue(hidden.is_open)
