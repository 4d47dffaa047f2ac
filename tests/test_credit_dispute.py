from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .collections_common import CollectionsCommon
from .common import ManifestsReadMixin


@tagged("post_install", "-at_install")
class TestCreditDispute(CollectionsCommon):
    def _dispute(self, amount=300.0, moves=None, user=None, **vals):
        return self.Dispute.with_user(user or self.sales_user).create(
            {
                "partner_id": self.customer.id,
                "move_ids": [Command.set((moves or self.invoice).ids)],
                "amount": amount,
                "reason": "quality",
                **vals,
            }
        )

    def _credit_note(self, amount=300.0):
        """A posted partial credit note reversing the invoice (Odoo's reversal wizard)."""
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=self.invoice.ids)
            .create({"reason": "Quality", "journal_id": self.invoice.journal_id.id})
        )
        action = wizard.refund_moves()
        note = self.env["account.move"].browse(action["res_id"])
        note.invoice_line_ids.price_unit = amount
        note.action_post()
        return note

    def test_dispute_pauses_dunning_and_keeps_exposure(self):
        exposure_before = self.customer._get_credit_exposure()["total"]
        self.assertIn(self.invoice.id, self._dunned_moves())
        dispute = self._dispute()
        self.assertTrue(dispute.name.startswith("DSP/"))
        self.assertEqual(dispute.user_id, self.sales_user, "owner: the invoice's salesperson")
        self.assertEqual(dispute.collector_id, self.collector, "collector: the customer's credit manager")
        self.assertIn(self.invoice.id, self._blocked(self.invoice))
        self.assertNotIn(self.invoice.id, self._dunned_moves())
        self.assertEqual(self.customer._get_credit_exposure()["total"], exposure_before)
        dispute.with_user(self.sales_user).action_start()
        self.assertEqual(dispute.state, "progress")
        self.assertNotIn(self.invoice.id, self._dunned_moves(), "still paused while in progress")
        dispute.with_user(self.sales_user).write({"rejection_reason": "Goods were fine"})
        dispute.with_user(self.sales_user).action_reject()
        self.assertEqual(dispute.state, "rejected")
        self.assertIn(self.invoice.id, self._dunned_moves(), "dunning resumes")
        self.assertEqual(self.customer._get_credit_exposure()["total"], exposure_before)

    def test_task_on_creation_closed_when_resolved(self):
        dispute = self._dispute()
        task = self.Task.search([("dispute_id", "=", dispute.id)])
        self.assertEqual(len(task), 1)
        self.assertEqual(
            (task.task_type, task.origin, task.team, task.user_id),
            ("dispute", "dispute", "sales", self.sales_user),
        )
        self.assertEqual(task.move_ids, self.invoice)
        self.assertTrue(task.is_open)
        note = self._credit_note()
        dispute.with_user(self.sales_user).action_resolve()
        self.assertEqual(dispute.state, "resolved")
        self.assertEqual(dispute.credit_note_id, note, "the reversing credit note is linked")
        self.assertEqual(dispute.date_closed, self.today)
        self.assertFalse(task.is_open)
        self.assertEqual(task.stage, "done")
        # the collector is told: an activity and a message addressed to them
        activity = dispute.activity_ids.filtered(lambda a: a.user_id == self.collector)
        self.assertTrue(activity)
        self.assertTrue(
            dispute.message_ids.filtered(
                lambda m: self.collector.partner_id in m.partner_ids and "resolved" in m.body
            )
        )
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))

    def test_resolve_needs_credit_note_or_resolution(self):
        dispute = self._dispute()
        with self.assertRaises(UserError) as caught:
            dispute.with_user(self.sales_user).action_resolve()
        self.assertIn("credit note", str(caught.exception))
        self.assertEqual(dispute.state, "open")
        dispute.with_user(self.sales_user).resolution = "Replacement delivered"
        dispute.with_user(self.sales_user).action_resolve()
        self.assertEqual(dispute.state, "resolved")
        dispute.with_user(self.sales_user).action_reopen()
        self.assertEqual(dispute.state, "open")
        self.assertTrue(self.Task.search([("dispute_id", "=", dispute.id), ("is_open", "=", True)]))

    def test_closed_dispute_created_as_such_opens_no_task(self):
        # taking over a settled dispute as history: a Credit Manager's action (the state is
        # otherwise set by the dispute's buttons only)
        dispute = self._dispute(user=self.credit_manager, state="resolved", resolution="Settled by phone")
        self.assertFalse(self.Task.search([("dispute_id", "=", dispute.id)]))
        self.assertNotIn(self.invoice.id, self._blocked(self.invoice))

    def test_reject_needs_reason(self):
        dispute = self._dispute()
        with self.assertRaises(UserError) as caught:
            dispute.with_user(self.sales_user).action_reject()
        self.assertIn("reason", str(caught.exception))
        self.assertEqual(dispute.state, "open")

    def test_credit_note_of_another_customer_refused(self):
        dispute = self._dispute()
        other_note = self._invoice(50.0, partner=self.other_customer, move_type="out_refund")
        with self.assertRaises(ValidationError) as caught:
            dispute.credit_note_id = other_note
        self.assertRegex(str(caught.exception), r"The credit note must be a credit note of Muster GmbH\.")

    def test_create_credit_note_opens_reversal_wizard(self):
        dispute = self._dispute()
        action = dispute.with_user(self.collector).action_create_credit_note()
        self.assertEqual(action["res_model"], "account.move.reversal")
        self.assertEqual(action["context"]["active_ids"], self.invoice.ids)

    def test_bad_input(self):
        count = self.Dispute.search_count([])
        with self.assertRaises(ValidationError) as caught:
            self._dispute(amount=1000.01)
        self.assertIn("more than the invoiced amount", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._dispute(amount=0.0)
        self.assertIn("positive", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._dispute(
                moves=self.invoice | self._invoice(10.0, partner=self.other_customer), user=self.collector
            )
        self.assertIn("another customer", str(caught.exception))
        self.assertEqual(self.Dispute.search_count([]), count)
        self.assertFalse(
            self.Task.search([("origin", "=", "dispute"), ("partner_id", "=", self.customer.id)])
        )

    def test_disputed_amount_up_to_invoice_total_even_when_partly_paid(self):
        self._pay(self.invoice, amount=400.0)
        dispute = self._dispute(amount=1000.0)
        self.assertEqual(dispute.amount_invoiced, 1000.0)

    def test_salespeople_work_disputes_of_their_customers_only(self):
        dispute = self._dispute()
        # another salesperson neither sees nor changes it, nor opens one for this customer
        self.assertFalse(self.Dispute.with_user(self.other_sales_user).search([("id", "=", dispute.id)]))
        with self.assertRaises(AccessError) as caught:
            dispute.with_user(self.other_sales_user).write({"amount": 10.0})
        self.assertRegex(
            str(caught.exception), r"doesn't have 'write' access to:\n- Invoice Dispute \(credit\.dispute\)"
        )
        with self.assertRaises(AccessError) as caught:
            self._dispute(user=self.other_sales_user, user_id=False)
        self.assertRegex(
            str(caught.exception),
            r"You may not open a dispute on invoices you cannot see.*of the selected invoices\)\.",
        )
        # the credit team sees every dispute
        self.assertEqual(self.Dispute.with_user(self.collector).search([("id", "=", dispute.id)]), dispute)
        dispute.with_user(self.collector).action_start()
        self.assertEqual(dispute.state, "progress")
        # salespeople cannot delete
        with self.assertRaises(AccessError) as caught:
            dispute.with_user(self.sales_user).unlink()
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to delete 'Invoice Dispute'",
        )

    def test_open_dispute_from_invoice_form_as_salesperson(self):
        action = self.invoice.with_user(self.sales_user).action_credit_open_dispute()
        form = Form(self.Dispute.with_user(self.sales_user).with_context(**action["context"]))
        self.assertEqual(form.amount, 1000.0)
        form.amount = 120.0
        form.reason = "delivery"
        dispute = form.save()
        self.assertEqual(
            (dispute.user_id, dispute.move_ids, dispute.state), (self.sales_user, self.invoice, "open")
        )


@tagged("post_install", "-at_install")
class TestCreditCollectionsRpc(ManifestsReadMixin, CollectionsCommon, HttpCase):
    """The same rules over JSON-RPC, as a plain salesperson."""

    def _call(self, model, method, args, kwargs=None):
        response = self._call_kw_response(model, method, args, kwargs)
        return response.json()

    def test_salesperson_rpc(self):
        self.authenticate("cc_sales", "cc_sales")
        dispute = self._call(
            "credit.dispute",
            "create",
            [{"partner_id": self.customer.id, "move_ids": [[6, 0, self.invoice.ids]], "amount": 100.0}],
        )
        self.assertIn("result", dispute, dispute)
        dispute_ids = dispute["result"] if isinstance(dispute["result"], list) else [dispute["result"]]
        self.assertEqual(self.Dispute.browse(dispute_ids).user_id, self.sales_user)
        # the collector is the credit team's: not chosen (create) nor changed (write) by the salesperson
        collector = self.Dispute.browse(dispute_ids).collector_id
        self.assertNotEqual(collector, self.sales_user)
        chosen = self._call(
            "credit.dispute",
            "create",
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [[6, 0, self.invoice.ids]],
                    "amount": 50.0,
                    "collector_id": self.sales_user.id,
                }
            ],
            {"context": {"default_collector_id": self.sales_user.id}},
        )
        self.assertEqual(self.Dispute.browse(chosen["result"]).collector_id, collector, chosen)
        moved = self._call("credit.dispute", "write", [dispute_ids, {"collector_id": self.sales_user.id}])
        self.assertEqual(moved["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertEqual(self.Dispute.browse(dispute_ids).collector_id, collector)
        promise = self._call(
            "credit.promise",
            "create",
            [
                {
                    "partner_id": self.customer.id,
                    "move_ids": [[6, 0, self.invoice.ids]],
                    "amount": 100.0,
                    "date_promised": str(self.today),
                }
            ],
        )
        self.assertEqual(promise["error"]["data"]["name"], "odoo.exceptions.AccessError")
        plan = self.Plan.create(
            {
                "partner_id": self.customer.id,
                "move_ids": [(6, 0, self.invoice.ids)],
                "amount_total": 900.0,
                "date_first": self._days(10),
            }
        )
        activate = self._call("credit.payment.plan", "action_activate", [plan.ids])
        self.assertEqual(activate["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertEqual(plan.state, "draft")
        self.authenticate("cc_sales_other", "cc_sales_other")
        foreign = self._call("credit.dispute", "write", [dispute_ids, {"amount": 1.0}])
        self.assertEqual(foreign["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertEqual(self.Dispute.browse(dispute_ids).amount, 100.0)
