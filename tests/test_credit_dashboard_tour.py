from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestCreditDashboardTour(ManifestsReadMixin, HttpCase):
    def setUp(self):
        super().setUp()
        self.collector = new_test_user(
            self.env,
            "cc_dash_collector",
            groups="account.group_account_invoice,credit_control.credit_control_group_user",
        )
        partners = self.env["res.partner"].create(
            [
                {"name": "Tour Overlimit GmbH", "is_company": True},
                {"name": "Tour Pünktlich AG", "is_company": True},
            ]
        )
        today = fields.Date.today()
        for partner, amount, days_ago in ((partners[0], 900.0, 45), (partners[1], 200.0, 0)):
            invoice = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=days_ago),
                    "invoice_payment_term_id": self.env.ref("account.account_payment_term_immediate").id,
                    "invoice_line_ids": [
                        Command.create({"name": "Goods", "price_unit": amount, "tax_ids": [Command.clear()]})
                    ],
                }
            )
            invoice.action_post()
        partners[0].write({"credit_limit_set": True, "credit_limit": 500.0})
        partners[1].write({"credit_limit_set": True, "credit_limit": 5000.0})

    def test_dashboard_drill_down(self):
        self.start_tour("/odoo", "credit_dashboard_tour", login="cc_dash_collector")
