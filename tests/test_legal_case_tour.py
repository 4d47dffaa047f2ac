from odoo.tests import HttpCase, tagged

from .common import ManifestsReadMixin
from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestLegalCaseTour(ManifestsReadMixin, DunningCommon, HttpCase):
    def test_collector_prepares_a_court_dunning_case_in_the_browser(self):
        de = self.env.ref("base.de")
        self.company.partner_id.write(
            {
                "street": "Hauptstraße 1",
                "zip": "96450",
                "city": "Coburg",
                "country_id": de.id,
                "state_id": self.env.ref("base.state_de_by").id,
                "is_company": True,
                "credit_legal_form": "GmbH",
                "credit_legal_representatives": "Managing director Jane Doe",
            }
        )
        customer = self.env["res.partner"].create(
            {
                "name": "Tour Gericht GmbH",
                "is_company": True,
                "street": "Marktplatz 5",
                "zip": "20095",
                "city": "Hamburg",
                "country_id": de.id,
                "credit_legal_form": "GmbH",
                "credit_legal_representatives": "Managing director Max Muster",
            }
        )
        invoice = self._invoice(1234.0, partner=customer, days_ago=90)
        self._set_level(invoice, self.final, days_ago=10)
        self.assertEqual(customer.credit_dunning_level_id, self.final, "at the last dunning level")
        # a loaded machine (shared by parallel builds) can take more than the minute the tour waits
        # for the page to bundle the assets: build the bundles first (the test cursor keeps them)
        for bundle_name in ("web.assets_web", "web.assets_tests", "web.__assets_tests_call__"):
            bundle = self.env["ir.qweb"]._get_asset_bundle(bundle_name)
            bundle.js()
            bundle.css()
        self.start_tour(
            f"/odoo/res.partner/{customer.id}", "credit_legal_case_tour", login="cc_collector", timeout=240
        )
        case = self.env["credit.legal.case"].search([("partner_id", "=", customer.id)])
        self.assertEqual(case.state, "prepared")
        self.assertEqual(case.claim_ids.move_id, invoice)
        html = self.env["ir.actions.report"]._render_qweb_html("credit_control.report_legal_case", case.ids)[
            0
        ]
        self.assertIn("Tour Gericht GmbH", html.decode())
