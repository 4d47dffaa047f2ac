from datetime import timedelta

from odoo import Command, fields
from odoo.tests import JsonRpcException, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestCollectionsTour(ManifestsReadMixin, AccountTestInvoicingHttpCommon):
    """Browser paths of the collections: a collector records a promise from the worklist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.collector = new_test_user(
            cls.env,
            "cc_tour_collector",
            groups="base.group_user,account.group_account_invoice,credit_control.credit_control_group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.salesperson = new_test_user(
            cls.env,
            "cc_tour_salesperson",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Tour Schuldner GmbH", "is_company": True, "user_id": cls.salesperson.id}
        )
        today = fields.Date.today()
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_user_id": cls.salesperson.id,  # the salesperson's own customer and invoice
                "invoice_date": today - timedelta(days=40),
                "invoice_payment_term_id": cls.env.ref("account.account_payment_term_immediate").id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Goods", "quantity": 1, "price_unit": 25000.0, "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )
        cls.invoice.action_post()

    def test_collector_records_promise_from_worklist(self):
        top = self.env["credit.worklist"].with_user(self.collector).search([], limit=1)
        self.assertEqual(top.partner_id, self.customer, "the tour opens the customer on top of the list")
        self.start_tour(
            "/odoo/action-credit_control.credit_worklist_action",
            "credit_worklist_promise_tour",
            login="cc_tour_collector",
        )
        promise = self.env["credit.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(promise), 1)
        self.assertEqual(
            (promise.amount, promise.state, promise.channel, promise.user_id, promise.move_ids),
            (400.0, "open", "phone", self.collector, self.invoice),
        )
        self.assertEqual(promise.date_promised, fields.Date.today())
        self.assertEqual(promise.company_id, self.company)

    def test_salesperson_resolves_dispute_task(self):
        dispute = self.env["credit.dispute"].create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set(self.invoice.ids)],
                "amount": 5000.0,
                "reason": "delivery",
                "user_id": self.salesperson.id,
                "collector_id": self.collector.id,
            }
        )
        task = self.env["credit.task"].search([("dispute_id", "=", dispute.id)])
        self.assertEqual(
            (task.task_type, task.team, task.user_id, task.is_open),
            ("dispute", "sales", self.salesperson, True),
        )
        self.start_tour("/odoo/credit-my-tasks", "credit_dispute_task_tour", login="cc_tour_salesperson")
        self.assertEqual(dispute.state, "resolved")
        self.assertIn("warehouse", dispute.resolution)
        self.assertEqual(task.stage, "done")
        self.assertFalse(task.is_open)
        self.assertEqual(dispute.date_closed, fields.Date.today())
        # the collector is told
        self.assertTrue(dispute.activity_ids.filtered(lambda a: a.user_id == self.collector))
        self.assertIn("resolved", self.invoice.message_ids[0].body)

    def test_worklist_and_problem_cases_over_rpc(self):
        """Over JSON-RPC a collector reads both lists, a plain salesperson reads neither."""
        call = {"args": [[]], "kwargs": {"fields": ["partner_id"]}, "method": "search_read"}
        self.authenticate("cc_tour_collector", "cc_tour_collector")
        rows = self.make_jsonrpc_request(
            "/web/dataset/call_kw/credit.worklist/search_read", dict(call, model="credit.worklist")
        )
        self.assertEqual([row["partner_id"][0] for row in rows], [self.customer.id])
        self.make_jsonrpc_request(
            "/web/dataset/call_kw/credit.problem.case/search_read", dict(call, model="credit.problem.case")
        )
        self.authenticate("cc_tour_salesperson", "cc_tour_salesperson")
        for model in ("credit.worklist", "credit.problem.case"):
            with self.assertRaises(JsonRpcException) as error, self.assertLogs("odoo.http", "WARNING"):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw/%s/search_read" % model, dict(call, model=model)
                )
            self.assertIn("AccessError", str(error.exception))
