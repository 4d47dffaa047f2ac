from datetime import timedelta

from odoo import Command
from odoo.tests import new_test_user

from .dunning_common import DunningCommon


class CollectionsCommon(DunningCommon):
    """Dunning levels, a customer with a salesperson and a collector, an overdue invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"user_id": cls.sales_user.id, "credit_manager_id": cls.collector.id})
        cls.other_sales_user = new_test_user(
            cls.env,
            "cc_sales_other",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        cls.invoice = cls._invoice(1000.0, days_ago=30)
        cls.invoice.invoice_user_id = cls.sales_user
        cls.Promise = cls.env["credit.promise"]
        cls.Dispute = cls.env["credit.dispute"]
        cls.Plan = cls.env["credit.payment.plan"]
        cls.Task = cls.env["credit.task"]

    def _blocked(self, moves, date=None):
        return self.env["account.move"]._credit_dunning_blocked_move_ids(moves.ids, date or self.today)

    def _dunned_moves(self, date=None):
        """Invoices a dunning proposal on ``date`` would escalate or list."""
        proposals = self.run_model._prepare_proposal(self.company, date or self.today, partners=self.customer)
        return {line["move_id"] for proposal in proposals for line in proposal["lines"]}

    def _days(self, days):
        return self.today + timedelta(days=days)

    def _other_company_invoice(self, amount=100.0):
        company_b = self.setup_other_company(name="Zweite GmbH")["company"]
        invoice = (
            self.env["account.move"]
            .with_company(company_b)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goods",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice
