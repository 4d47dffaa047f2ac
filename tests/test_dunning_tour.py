from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import ManifestsReadMixin
from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningTour(ManifestsReadMixin, DunningCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_customer = cls.env["res.partner"].create(
            {"name": "Tour Mahnkunde GmbH", "is_company": True, "email": "tour@mahnkunde.example"}
        )
        cls.kept = cls._invoice(111.0, partner=cls.tour_customer, days_ago=12)
        cls.removed = cls._invoice(777.0, partner=cls.tour_customer, days_ago=11)
        cls.kept |= cls._invoice(333.0, partner=cls.tour_customer, days_ago=10)

    def test_collector_runs_dunning_in_the_browser(self):
        # validating renders the PDFs inside the browser's request; the test server handles one
        # request at a time on the test cursor, so wkhtmltopdf's requests for the report CSS
        # would wait for it: point them to a closed port (the PDF is made without the CSS)
        self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        self.start_tour(
            "/odoo/action-credit_control.credit_dunning_run_action",
            "credit_dunning_run_tour",
            login="cc_collector",
        )
        # what the browser did, checked on the server
        run = self.run_model.search([("letter_ids.partner_id", "=", self.tour_customer.id)])
        self.assertEqual(len(run), 1)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.user_id, self.collector)
        letter = run.letter_ids.filtered(lambda lt: lt.partner_id == self.tour_customer)
        self.assertEqual(letter.state, "done")
        self.assertEqual(letter.line_ids.move_id, self.kept)
        self.assertEqual(self.kept.mapped("credit_dunning_level_id"), self.reminder)
        self.assertFalse(self.removed.credit_dunning_level_id)
        self.assertTrue(letter.attachment_id)
        self.assertEqual(letter.email_state, "queued")

    def test_salesperson_rpc_cannot_create_runs(self):
        self.authenticate("cc_sales", "cc_sales")
        for model, method, args in (
            ("credit.dunning.run", "create", [{"date": str(self.today), "company_id": self.company.id}]),
            ("credit.dunning.run.create", "create", [{"date": str(self.today)}]),
            ("res.partner", "action_credit_dunning_send_now", [self.tour_customer.ids]),
        ):
            with self.assertRaises(JsonRpcException, msg=f"{model}.{method}") as caught:
                self.make_jsonrpc_request(
                    f"/web/dataset/call_kw/{model}/{method}",
                    {"model": model, "method": method, "args": args, "kwargs": {}},
                )
            self.assertIn("AccessError", str(caught.exception))
        self.assertFalse(self.run_model.search([("letter_ids.partner_id", "=", self.tour_customer.id)]))
