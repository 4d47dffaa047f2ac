from odoo.tests import HttpCase, tagged

from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestCreditControlTour(ManifestsReadMixin, HttpCase):
    def setUp(self):
        super().setUp()
        # the Credit Profiles list needs a customer to open, also in databases without demo data
        self.env["res.partner"].create({"name": "Tour Kunde GmbH", "is_company": True, "customer_rank": 1})

    def test_credit_control_app_tour(self):
        self.start_tour("/odoo", "credit_control_app_tour", login="admin")
