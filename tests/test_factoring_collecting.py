from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestFactoringWhileCollecting(DunningCommon):
    """A receivable the company collects itself (claimed at court, with a collection agency) is
    not sold to a factor; one sold to a factor is the factor's to collect, not claimed at court."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        factor = cls.env["res.partner"].create({"name": "Nord Factoring AG", "is_company": True})
        bank = cls.env["res.partner.bank"].create(
            {"acc_number": "DE02120300000000202051", "partner_id": factor.id}
        )
        cls.contract = cls.env["credit.factoring.contract"].create(
            {
                "name": "Factoring 2026",
                "factor_id": factor.id,
                "bank_account_id": bank.id,
                "factoring_type": "open",
                "purchase_limit": 50000.0,
            }
        )

    def _claim(self, invoice):
        case = self.env["credit.legal.case"].with_user(self.collector).create({"partner_id": self.contact.id})
        self.env["credit.legal.claim"].with_user(self.collector).create(
            {"case_id": case.id, "move_id": invoice.id}
        )
        return case

    def test_claimed_invoice_is_not_sold(self):
        invoice = self._invoice(1000.0, days_ago=60)
        case = self._claim(invoice)
        self.customer.with_user(self.credit_manager).write({"credit_factoring_contract_id": self.contract.id})
        with self.assertRaises(UserError) as caught:
            invoice.with_user(self.credit_manager).action_credit_factoring_assign()
        self.assertIn("court dunning case or with a collection agency", str(caught.exception))
        self.assertFalse(invoice.credit_factoring_state == "sold")
        # the case cancelled: the invoice may be sold
        case.with_user(self.collector).action_cancel()
        invoice.with_user(self.credit_manager).action_credit_factoring_assign()
        self.assertEqual(invoice.credit_factoring_state, "sold")

    def test_sold_invoice_is_not_claimed(self):
        self.customer.with_user(self.credit_manager).write({"credit_factoring_contract_id": self.contract.id})
        invoice = self._invoice(1000.0, days_ago=60)
        self.assertEqual(invoice.credit_factoring_state, "sold")
        case = self.env["credit.legal.case"].with_user(self.collector).create({"partner_id": self.contact.id})
        # assertRaises: Odoo's, in a savepoint (the claim's row is written before the check)
        with self.assertRaises(ValidationError) as caught:
            self.env["credit.legal.claim"].with_user(self.collector).create(
                {"case_id": case.id, "move_id": invoice.id}
            )
        self.assertIn("sold to a factor", str(caught.exception))
        case.invalidate_recordset()
        self.assertFalse(case.claim_ids, "nothing written")
