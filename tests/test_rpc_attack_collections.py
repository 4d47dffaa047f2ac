"""Attack cases on collection documents: a plain salesperson (no credit group) tries to pause
dunning again after the credit team ended a dispute."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .collections_common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestAttackCollections(CollectionsCommon):
    def test_salesperson_cannot_reopen_a_rejected_dispute(self):
        """A rejection lifts the dispute's dunning pause; reopening would pause dunning again,
        which is the credit team's decision. The salesperson still reopens a dispute it
        resolved itself."""
        dispute = self.Dispute.with_user(self.sales_user).create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(self.invoice.ids)], "amount": 100.0}
        )
        self.assertIn(self.invoice.id, self._blocked(self.invoice))
        dispute.with_user(self.collector).rejection_reason = "Goods were delivered as ordered"
        dispute.with_user(self.collector).action_reject()
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))
        with self.assertRaises(AccessError) as caught:
            dispute.with_user(self.sales_user).action_reopen()
        self.assertIn("Only the credit team reopens a rejected dispute", str(caught.exception))
        self.assertEqual(dispute.state, "rejected")
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))
        dispute.with_user(self.collector).action_reopen()
        self.assertEqual(dispute.state, "open")
        self.assertIn(self.invoice.id, self._blocked(self.invoice))
