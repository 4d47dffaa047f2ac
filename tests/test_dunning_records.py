from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from odoo.addons.credit_control.models.account_move import DUNNING_WRITE
from odoo.addons.credit_control.models.credit_dunning_run_proposal import LETTER_TOTALS

from .common import ManifestsReadMixin
from .dunning_common import DunningCommon


class DunningRecordsCommon(DunningCommon):
    """A validated run with one e-mailed letter for the customer, and an open invoice of
    another customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        cls.invoice = cls._invoice(100.0, days_ago=10)
        cls.other_invoice = cls._invoice(300.0, partner=cls.other, days_ago=2)
        cls.dun_run = cls.env["credit.dunning.run"]._create_runs(cls.company, cls.today)
        cls.dun_run.action_validate()
        cls.letter = cls.dun_run.letter_ids
        cls.line = cls.letter.line_ids

    def _snapshot(self):
        self.env.invalidate_all()
        return (
            self.dun_run.state,
            self.letter.state,
            self.letter.fee_amount,
            self.line.level_id,
            self.line.move_id,
            len(self.letter.email_message_id.notification_ids.mail_mail_id),
            self.env["credit.dunning.letter"].search_count([]),
            self.env["credit.dunning.line"].search_count([]),
        )


@tagged("post_install", "-at_install")
class TestDunningRecords(DunningRecordsCommon):
    def test_validated_run_letter_line_are_history(self):
        self.assertEqual((self.dun_run.state, self.letter.state), ("done", "done"))
        self.assertEqual(self.letter.email_state, "queued")
        before = self._snapshot()
        run = self.dun_run.with_user(self.collector)
        letter = self.letter.with_user(self.collector)
        line = self.line.with_user(self.collector)
        # state and business fields: set by the dunning itself, never by a collector (any context)
        with self._raises(AccessError, "cannot be written by hand"):
            run.write({"state": "draft"})
        with self._raises(AccessError, "cannot be written by hand"):
            letter.with_context(credit_dunning_write=True).write({"state": "draft"})
        with self._raises(AccessError, "cannot be written by hand"):
            line.write({"move_id": self.other_invoice.id})
        with self._raises(AccessError, "cannot be written by hand"):
            (letter | letter).write({"email_message_id": False})
        # nobody changes or deletes a validated record: collectors, Credit Managers, superuser
        for user in (self.collector, self.credit_manager):
            with self._raises(UserError, "is history"):
                self.letter.with_user(user).write({"fee_amount": 99.0})
            with self._raises(UserError, "is history"):
                self.line.with_user(user).write({"level_id": self.final.id})
            with self._raises(UserError, "cannot be deleted"):
                self.letter.with_user(user).unlink()
            with self._raises(UserError, "cannot be deleted"):
                self.line.with_user(user).unlink()
            with self._raises(UserError, "cannot be deleted"):
                self.dun_run.with_user(user).unlink()
        with self._raises(UserError, "is history"):
            self.dun_run.with_user(self.credit_manager).write({"state": "draft"})
        with self._raises(UserError, "is history"):
            self.letter.with_user(self.credit_manager).write({"state": "draft"})
        with self._raises(UserError, "is history"):
            self.line.sudo().write({"interest_amount": 5.0})
        # a salesperson has no access at all
        with self._raises(AccessError, "Dunning Letter"):
            self.letter.with_user(self.sales_user).write({"state": "draft"})
        with self._raises(AccessError, "Dunning Letter"):
            self.letter.with_user(self.sales_user).unlink()
        self.assertEqual(self._snapshot(), before)

    def test_nothing_created_by_hand(self):
        before = self._snapshot()
        draft_run = self._propose_other()
        for user in (self.collector,):
            with self._raises(AccessError, "created by a dunning proposal"):
                self.run_model.with_user(user).create(
                    {"date": self.today, "company_id": self.company.id, "state": "done"}
                )
            with self._raises(AccessError, "created by a dunning proposal"):
                self.env["credit.dunning.letter"].with_user(user).create(
                    {
                        "run_id": draft_run.id,
                        "partner_id": self.customer.id,
                        "recipient_id": self.customer.id,
                        "currency_id": self.currency.id,
                    }
                )
            with self._raises(AccessError, "created by a dunning proposal"):
                self.env["credit.dunning.line"].with_user(user).create(
                    {
                        "letter_id": draft_run.letter_ids.id,
                        "move_id": self.invoice.id,
                        "currency_id": self.currency.id,
                    }
                )
            # through the proposal's one2many as well
            with self._raises(AccessError, "created by a dunning proposal"):
                draft_run.letter_ids.with_user(user).write(
                    {
                        "line_ids": [
                            Command.create({"move_id": self.invoice.id, "currency_id": self.currency.id})
                        ]
                    }
                )
        with self.assertRaises(AccessError) as caught:
            self.run_model.with_user(self.sales_user).create({"date": self.today})
        self.assertRegex(
            str(caught.exception),
            r"Dunning Run records are created by a dunning proposal",
        )
        # a Credit Manager may take history over, but never adds to validated records
        with self._raises(UserError, "nothing can be added"):
            self.env["credit.dunning.line"].with_user(self.credit_manager).create(
                {"letter_id": self.letter.id, "move_id": self.invoice.id, "currency_id": self.currency.id}
            )
        with self._raises(UserError, "nothing can be added"):
            self.env["credit.dunning.letter"].with_user(self.credit_manager).create(
                {
                    "run_id": self.dun_run.id,
                    "partner_id": self.customer.id,
                    "recipient_id": self.customer.id,
                    "currency_id": self.currency.id,
                }
            )
        self.assertEqual(self._snapshot()[:6], before[:6])
        self.assertEqual(draft_run.line_ids.move_id, self.other_overdue | self.other_invoice)

    def _propose_other(self):
        """A proposal (draft run) for the other customer, with an invoice 10 days overdue."""
        self.other_overdue = self._invoice(120.0, partner=self.other, days_ago=10)
        return self._propose(partners=self.other)

    def test_default_context_keys_ignored(self):
        wizard = (
            self.env["credit.dunning.run.create"]
            .with_user(self.collector)
            .with_context(
                default_state="done",
                default_is_automatic=True,
                default_letter_state="printed",
                default_previous_level_id=self.final.id,
            )
            .create({"date": self.today, "partner_ids": [Command.set(self.other.ids)]})
        )
        self._invoice(120.0, partner=self.other, days_ago=10)
        run = self.run_model.browse(wizard.action_create_run()["res_id"])
        self.assertEqual((run.state, run.is_automatic), ("draft", False))
        self.assertEqual((run.letter_ids.state, run.letter_ids.letter_state), ("draft", "none"))
        self.assertFalse(run.line_ids.previous_level_id)
        defaults = self.env["credit.dunning.letter"].with_context(default_state="done").default_get(["state"])
        self.assertEqual(defaults.get("state"), "draft")

    def test_line_only_on_open_invoices_of_the_letters_customer(self):
        draft_run = self._propose_other()
        letter = draft_run.letter_ids.with_context(credit_dunning_write=DUNNING_WRITE)
        paid = self._invoice(50.0, partner=self.other, days_ago=20)
        self._pay(paid)
        draft = self._invoice(50.0, partner=self.other, days_ago=20, post=False)
        for move in (self.invoice, paid, draft):
            with self._raises(ValidationError, "cannot be dunned in the letter to Andere KG"):
                self.env["credit.dunning.line"].with_context(credit_dunning_write=DUNNING_WRITE).create(
                    {"letter_id": letter.id, "move_id": move.id, "currency_id": self.currency.id}
                )
        self.assertEqual(draft_run.line_ids.move_id, self.other_overdue | self.other_invoice)
        # the recipient is the customer or one of its addresses
        with self._raises(ValidationError, "can only go to the customer"):
            letter.with_user(self.collector).write({"recipient_id": self.customer.id})

    def test_collector_edits_a_proposal(self):
        draft_run = self._propose_other()
        line = draft_run.line_ids.with_user(self.collector)
        line.write({"level_id": self.first.id})
        draft_run.letter_ids.with_user(self.collector).write({"fee_amount": 1.5, "channel_letter": True})
        self.assertEqual(draft_run.letter_ids.fee_amount, 1.5)
        with self._raises(AccessError, "cannot be written by hand"):
            line.write({"amount_residual": 1.0})
        with self._raises(AccessError, "cannot be written by hand"):
            draft_run.with_user(self.collector).write({"state": "done"})

    def test_cancel_with_reason(self):
        mail = self.letter.email_message_id.notification_ids.mail_mail_id
        self.assertEqual(mail.state, "outgoing")
        with self.assertRaises(AccessError) as caught:
            self.letter.with_user(self.sales_user).action_cancel()
        self.assertRegex(str(caught.exception), r"You are not allowed to modify 'Dunning Letter'")
        action = self.letter.with_user(self.collector).action_cancel()
        wizard = self.env["credit.dunning.cancel"].with_user(self.collector).browse(action["res_id"])
        wizard.reason = "  "
        with self._raises(UserError, "Give a reason"):
            wizard.action_confirm()
        self.assertEqual(self.letter.state, "done")
        wizard.reason = "Sent in error, the customer paid by cheque"
        wizard.action_confirm()
        self.assertEqual(self.letter.state, "cancel")
        self.assertEqual(self.letter.cancel_reason, "Sent in error, the customer paid by cheque")
        self.assertEqual(self.letter.cancel_user_id, self.collector)
        self.assertTrue(self.letter.cancel_date)
        self.assertIn("paid by cheque", self.letter.message_ids[0].body)
        # the queued e-mail is not sent; the letter is kept and cannot be cancelled again
        self.assertEqual(mail.state, "cancel")
        self.assertTrue(self.letter.exists())
        with self._raises(UserError, "already cancelled"):
            self.letter.with_user(self.collector)._action_cancel("again")
        with self._raises(UserError, "cannot be deleted"):
            self.letter.with_user(self.credit_manager).unlink()
        self.assertEqual(self.customer.with_company(self.company).credit_dunning_count, 0)

    def test_no_letter_emailed_twice(self):
        message = self.letter.email_message_id
        mails = message.notification_ids.mail_mail_id
        self.assertEqual(len(mails), 1)
        # a second validation is refused, the e-mail step skips a letter that has its e-mail
        with self._raises(UserError, "Only proposed dunning runs"):
            self.dun_run.with_user(self.collector).action_validate()
        self.letter._send_email()
        self.letter.with_user(self.collector).action_retry_email()
        self.dun_run.with_user(self.collector).action_retry_failed_emails()
        self.assertEqual(self.letter.email_message_id, message)
        self.assertEqual(
            self.env["mail.mail"].search_count(
                [("model", "=", "credit.dunning.letter"), ("res_id", "=", self.letter.id)]
            ),
            1,
        )

    def test_validation_rechecks_every_line(self):
        paid = self._invoice(100.0, days_ago=12)
        paused = self._invoice(100.0, days_ago=11)
        disputed = self._invoice(100.0, days_ago=13)
        kept = self._invoice(100.0, days_ago=14)
        only_paid = self._invoice(100.0, partner=self.other, days_ago=10)
        self.invoice.with_context(credit_dunning_write=DUNNING_WRITE).write({"credit_dunning_date": False})
        self._set_level(self.invoice, self.reminder, days_ago=1)  # not escalated again
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 2)
        # after the proposal: payments, a pause, a dispute
        self._pay(paid)
        self._pay(only_paid)
        paused.with_user(self.collector)._credit_dunning_pause("Waiting for the goods return")
        self.env["credit.dispute"].create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(disputed.ids)], "amount": 100.0}
        )
        run.with_user(self.collector).action_validate()
        letter = run.letter_ids.filtered(lambda lt: lt.partner_id == self.customer)
        other_letter = run.letter_ids - letter
        self.assertEqual(letter.state, "done")
        self.assertEqual(letter.line_ids.filtered("is_escalation").move_id, kept)
        self.assertFalse(letter.line_ids.filtered(lambda ln: ln.move_id in paid | paused | disputed))
        note = letter.message_ids.filtered(lambda m: "Dropped from the letter" in (m.body or ""))
        self.assertEqual(len(note), 1)
        for name, reason in (
            (paid.name, "paid or no longer open"),
            (paused.name, "dunning paused"),
            (disputed.name, "disputed"),
        ):
            self.assertIn(name, note.body)
            self.assertIn(reason, note.body)
        self.assertEqual(kept.credit_dunning_level_id, self.reminder)
        self.assertFalse((paid | paused | disputed).credit_dunning_level_id)
        # a letter left empty is cancelled: not sent, no level raised
        self.assertEqual(other_letter.state, "cancel")
        self.assertIn("no invoice left", other_letter.cancel_reason)
        self.assertFalse(other_letter.email_message_id)
        self.assertFalse(only_paid.credit_dunning_level_id)

    def test_validation_cancels_letter_covered_by_credit(self):
        invoice = self._invoice(100.0, partner=self.other, days_ago=10)
        run = self._propose(partners=self.other)
        self.assertEqual(run.letter_ids.amount_residual, 400.0)
        self._unreconciled_payment(400.0, partner=self.other)
        run.action_validate()
        self.assertEqual(run.state, "cancel")
        self.assertIn("open credits cover", run.letter_ids.cancel_reason)
        self.assertFalse(invoice.credit_dunning_level_id)


@tagged("post_install", "-at_install")
class TestDunningOpenCredits(DunningCommon):
    def test_customer_netted_to_zero_is_not_dunned(self):
        self._invoice(100.0, days_ago=20)
        self._invoice(100.0, days_ago=5, move_type="out_refund")
        other = self.env["res.partner"].create({"name": "Andere KG", "is_company": True})
        self._invoice(100.0, partner=other, days_ago=20)
        self._unreconciled_payment(150.0, partner=other)
        self.assertFalse(self._propose(), "open credits cover the overdue items of both customers")

    def test_partial_credit_reduces_the_letter(self):
        invoice = self._invoice(100.0, days_ago=20)
        payment = self._unreconciled_payment(40.0)
        run = self._propose()
        self.assertEqual(self._line_of(run, payment).amount_residual, -40.0)
        self.assertEqual(self._line_of(run, invoice).level_id, self.reminder)
        self.assertEqual(run.letter_ids.amount_residual, 60.0)
        self.assertFalse(self._propose(min_amount=70.0), "the netted balance counts for the minimum")


@tagged("post_install", "-at_install")
class TestDunningRobustness(DunningCommon):
    def setUp(self):
        super().setUp()
        self.company.write(
            {"credit_dunning_start_date": self.today, "credit_dunning_first_run_review": False}
        )
        self.second.is_automatic = True

    def test_item_before_base_rate_table_is_flagged_not_fatal(self):
        # the base-rate table starts 20 days ago: interest from 60 days ago cannot be computed
        self.env["credit.base.rate"].search([]).unlink()
        self.env["credit.base.rate"].create({"date_from": self.today - timedelta(days=20), "rate": 2.0})
        old = self._invoice(1000.0, days_ago=60)
        self._set_level(old, self.first, days_ago=14)
        other = self.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        fine = self._invoice(100.0, partner=other, days_ago=10)
        self.run_model._cron_dunning()
        run = self.run_model.search([("is_automatic", "=", True), ("company_id", "=", self.company.id)])
        self.assertEqual(run.state, "done")
        self.assertEqual(old.credit_dunning_level_id, self.second)
        self.assertEqual(fine.credit_dunning_level_id, self.reminder)
        line = self._line_of(run, old)
        self.assertEqual(line.interest_amount, 0.0)
        self.assertIn("No base rate is recorded", line.charge_error)
        self.assertTrue(line.letter_id.needs_review)
        self.assertIn("Muster GmbH", run.failure_note)
        notice = run.message_ids.filtered(lambda m: "needs your attention" in (m.body or ""))
        self.assertIn(self.credit_manager.partner_id, notice.partner_ids)

    def test_one_failing_company_does_not_stop_the_others(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        self._create_levels(company_2)
        self.env.user.company_ids |= company_2
        company_2.credit_dunning_start_date = self.today
        company_2.credit_dunning_first_run_review = False
        self._invoice(100.0, days_ago=10)
        invoice_2 = (
            self.env["account.move"]
            .with_company(company_2)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today - timedelta(days=10),
                    "invoice_payment_term_id": self.immediate.id,
                    "invoice_line_ids": [
                        Command.create({"name": "x", "quantity": 1, "price_unit": 80.0, "tax_ids": []})
                    ],
                }
            )
        )
        invoice_2.action_post()
        run_class = type(self.run_model)
        original = run_class._prepare_proposal

        def failing(runs, company, *args, **kwargs):
            if company == self.company:
                raise ValueError("broken ledger row")
            return original(runs, company, *args, **kwargs)

        with patch.object(run_class, "_prepare_proposal", failing):
            self.run_model._cron_dunning()
            # the failed company is not retried over and over the same day
            self.run_model._cron_dunning()
        failed = self.run_model.search([("company_id", "=", self.company.id), ("is_automatic", "=", True)])
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed.state, "cancel")
        self.assertIn("broken ledger row", failed.failure_note)
        self.assertIn(
            self.credit_manager.partner_id,
            failed.message_ids.filtered(lambda m: "needs your attention" in (m.body or "")).partner_ids,
        )
        done = self.run_model.sudo().search([("company_id", "=", company_2.id), ("is_automatic", "=", True)])
        self.assertEqual(done.state, "done")
        self.assertEqual(done.line_ids.move_id, invoice_2)

    def test_one_failing_customer_does_not_stop_the_batch(self):
        other = self.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        bad = self._invoice(100.0, days_ago=10)
        good = self._invoice(100.0, partner=other, days_ago=10)
        run_class = type(self.run_model)
        original = run_class._create_letters

        def failing(run, proposals):
            if any(proposal["partner_id"] == self.customer.id for proposal in proposals):
                raise ValueError("address cannot be read")
            return original(run, proposals)

        with patch.object(run_class, "_create_letters", failing):
            self.run_model._cron_dunning()
        run = self.run_model.search([("company_id", "=", self.company.id), ("is_automatic", "=", True)])
        self.assertEqual(run.state, "done")
        self.assertEqual(run.line_ids.move_id, good)
        self.assertEqual(good.credit_dunning_level_id, self.reminder)
        self.assertFalse(bad.credit_dunning_level_id)
        self.assertEqual(run.failed_partner_ids, self.customer)
        self.assertIn("address cannot be read", run.failure_note)
        # the failed customer is left for the managers, not retried in a loop the same day
        with patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress:
            self.run_model._cron_dunning()
        progress.assert_called_once_with(done=0, remaining=0)


@tagged("post_install", "-at_install")
class TestDunningRecheckQueries(DunningCommon):
    def _count(self, run):
        self.env.invalidate_all()
        return self._count_queries(lambda: run._recheck_letters(run.letter_ids))

    def test_recheck_query_count_does_not_grow(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(10)]
        )
        self._invoice(100.0, partner=partners[0], days_ago=10)
        run = self._propose()
        self._count(run)  # warm the registry caches
        small = self._count(run)
        run._action_cancel("test")
        for partner in partners:
            for days in (10, 20, 30):
                self._invoice(100.0, partner=partner, days_ago=days)
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 10)
        big = self._count(run)
        self.assertEqual(small, big)


@tagged("post_install", "-at_install")
class TestDunningRecordsRpc(ManifestsReadMixin, DunningRecordsCommon, HttpCase):
    """The guards over JSON-RPC, as an external client would call them."""

    def _call(self, model, method, args, kwargs=None):
        response = self._call_kw_response(model, method, args, kwargs)
        return response.json()

    def _assert_error(self, response, exception, text):
        self.assertIn("error", response, response)
        self.assertEqual(response["error"]["data"]["name"], exception)
        self.assertIn(text, response["error"]["data"]["message"])

    def test_rpc_guards(self):
        before = self._snapshot()
        for login, error, text in (
            ("cc_collector", "odoo.exceptions.AccessError", "cannot be written by hand"),
            ("cc_manager", "odoo.exceptions.UserError", "is history"),
        ):
            self.authenticate(login, login)
            self._assert_error(
                self._call("credit.dunning.run", "write", [self.dun_run.ids, {"state": "draft"}]), error, text
            )
            self._assert_error(
                self._call(
                    "credit.dunning.letter",
                    "write",
                    [self.letter.ids, {"state": "draft"}],
                    {"context": {"credit_dunning_write": True}},
                ),
                error,
                text,
            )
            self._assert_error(
                self._call("credit.dunning.letter", "unlink", [self.letter.ids]),
                "odoo.exceptions.UserError",
                "cannot be deleted",
            )
            self._assert_error(
                self._call(
                    "credit.dunning.line",
                    "create",
                    [
                        {
                            "letter_id": self.letter.id,
                            "move_id": self.other_invoice.id,
                            "currency_id": self.currency.id,
                        }
                    ],
                ),
                *(
                    ("odoo.exceptions.AccessError", "created by a dunning proposal")
                    if login == "cc_collector"
                    else ("odoo.exceptions.UserError", "nothing can be added")
                ),
            )
            created = self._call(
                "credit.dunning.run",
                "create",
                [{"date": str(self.today), "company_id": self.company.id}],
                {"context": {"default_state": "done"}},
            )
            if login == "cc_collector":
                self._assert_error(created, "odoo.exceptions.AccessError", "created by a dunning proposal")
            else:
                # a Credit Manager may create a run; the context default never makes it validated
                run_id = created["result"][0] if isinstance(created["result"], list) else created["result"]
                self.assertEqual(self.run_model.browse(run_id).state, "draft")
            # resending: a validated run is not validated again, a sent letter not e-mailed again
            self._assert_error(
                self._call("credit.dunning.run", "action_validate", [self.dun_run.ids]),
                "odoo.exceptions.UserError",
                "Only proposed dunning runs",
            )
            self._assert_error(
                self._call("credit.dunning.letter", "_send_email", [self.letter.ids]),
                "odoo.exceptions.AccessError",
                "Private methods",
            )
            retry = self._call("credit.dunning.letter", "action_retry_email", [self.letter.ids])
            self.assertIs(retry.get("result"), True, retry)
        self.authenticate("cc_sales", "cc_sales")
        self._assert_error(
            self._call("credit.dunning.letter", "write", [self.letter.ids, {"state": "draft"}]),
            "odoo.exceptions.AccessError",
            "credit.dunning.letter",
        )
        self._assert_error(
            self._call("credit.dunning.letter", "unlink", [self.letter.ids]),
            "odoo.exceptions.AccessError",
            "credit.dunning.letter",
        )
        self.assertEqual(self._snapshot(), before)


@tagged("post_install", "-at_install")
class TestDunningBulkCreate(DunningCommon):
    """The proposal inserts its letters and lines in bulk (credit.dunning.bulk.mixin
    _create_bulk): the rows, the letters' totals included, are the ones the ORM's ``create``
    leaves, column by column."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        eur = cls.setup_other_currency("EUR")  # 2 EUR for 1 company currency unit today
        other = cls.env["res.partner"].create({"name": "Zweite GmbH", "is_company": True})
        private = cls.env["res.partner"].create({"name": "Privat", "email": "p@x.example"})
        for days in (10, 25, 40):
            cls._invoice(100.0 + days / 3.0, days_ago=days)
        # dunned before: it reaches the second level, with interest and the flat fee
        cls._set_level(cls._invoice(120.0, days_ago=60), cls.first, days_ago=20)
        cls._invoice(333.33, days_ago=45, currency=eur)
        cls._invoice(77.77, days_ago=5)  # not yet overdue: no line
        cls._invoice(20.0, move_type="out_refund", days_ago=3)  # an open credit, netted
        cls._invoice(250.0, partner=other, days_ago=50)
        cls._invoice(90.0, partner=private, days_ago=30)

    def _snapshot(self, run):
        ids = tuple(run.line_ids.ids)
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT line.* FROM credit_dunning_line line
                 JOIN credit_dunning_letter letter ON letter.id = line.letter_id
                WHERE line.id IN %s ORDER BY letter.partner_id, line.move_id""",
            [ids],
        )
        names = [column.name for column in self.env.cr.description]
        skip = {"id", "letter_id"}
        lines = [
            {n: v for n, v in zip(names, row, strict=True) if n not in skip} for row in self.env.cr.fetchall()
        ]
        self.env.cr.execute(
            "SELECT * FROM credit_dunning_letter WHERE run_id = %s ORDER BY partner_id", [run.id]
        )
        names = [column.name for column in self.env.cr.description]
        letters = [
            {n: v for n, v in zip(names, row, strict=True) if n not in {"id", "run_id"}}
            for row in self.env.cr.fetchall()
        ]
        return lines, letters

    def test_bulk_rows_equal_orm_rows(self):
        line_class = type(self.env["credit.dunning.line"])
        letter_class = type(self.env["credit.dunning.letter"])

        def orm_create(model, vals_list):
            # the ORM path: the letters' totals left to their computes
            if model._name == "credit.dunning.letter":
                vals_list = [{k: v for k, v in vals.items() if k not in LETTER_TOTALS} for vals in vals_list]
            return model.with_context(tracking_disable=True).create(vals_list)

        with (
            patch.object(line_class, "_create_bulk", orm_create),
            patch.object(letter_class, "_create_bulk", orm_create),
        ):
            orm_run = self._propose()
        orm_lines, orm_letters = self._snapshot(orm_run)
        orm_run.with_context(credit_dunning_write=DUNNING_WRITE).unlink()
        self.env.invalidate_all()
        bulk_run = self._propose()
        bulk_lines, bulk_letters = self._snapshot(bulk_run)
        self.assertEqual(len(bulk_letters), 3)
        self.assertEqual(len(bulk_lines), len(orm_lines))
        self.assertGreaterEqual(len(bulk_lines), 7)
        self.assertTrue(
            any(line["amount_residual"] != line["amount_residual_company"] for line in bulk_lines)
        )
        self.assertTrue(any(line["interest_amount"] or line["flat_fee_amount"] for line in bulk_lines))
        self.assertEqual(set(bulk_lines[0]), set(orm_lines[0]))
        for bulk, orm in zip(bulk_lines, orm_lines, strict=True):
            self.assertEqual(bulk, orm)
        for bulk, orm in zip(bulk_letters, orm_letters, strict=True):
            self.assertEqual(bulk, orm)
        # the records read through the ORM after the insert: the one2many caches follow
        self.assertEqual(len(bulk_run.line_ids), len(bulk_lines))
        self.assertEqual(bulk_run.letter_ids.line_ids, bulk_run.line_ids)
        self.assertEqual(bulk_run.amount_residual, sum(bulk_run.letter_ids.mapped("amount_residual")))

    def test_bulk_checks_like_create(self):
        """Constraints and the company check run as after ``create``."""
        run = self._propose()
        letter = run.letter_ids[:1]
        vals = {
            "letter_id": letter.id,
            "move_id": self.env["account.move"]
            .search([("partner_id", "!=", letter.partner_id.id)], limit=1)
            .id,
            "line_type": "invoice",
            "currency_id": self.currency.id,
        }
        lines = self.env["credit.dunning.line"].with_context(credit_dunning_write=DUNNING_WRITE)
        with self._raises(ValidationError, "cannot be dunned in the letter to"):
            lines._create_bulk([vals])
        with self._raises(AccessError, "created by a dunning proposal"):
            self.env["credit.dunning.line"].with_user(self.collector)._create_bulk([vals])

    def test_bulk_letter_checks_like_create(self):
        """Letters in bulk: the recipient constraint, the company check and who may create them,
        as after ``create``; never added to a validated run."""
        run = self._propose()
        letter = run.letter_ids[:1]
        stranger = self.env["res.partner"].create({"name": "Fremd AG", "is_company": True})
        vals = {
            "run_id": run.id,
            "partner_id": letter.partner_id.id,
            "recipient_id": stranger.id,
            "currency_id": self.currency.id,
        }
        letters = self.env["credit.dunning.letter"].with_context(credit_dunning_write=DUNNING_WRITE)
        with self._raises(ValidationError, "can only go to the customer or one of its"):
            letters._create_bulk([vals])
        with self._raises(AccessError, "created by a dunning proposal"):
            self.env["credit.dunning.letter"].with_user(self.collector)._create_bulk([vals])
        created = letters._create_bulk([{**vals, "recipient_id": letter.partner_id.id}])
        self.assertEqual(created.company_id, run.company_id)
        self.assertEqual(created.dunning_date, run.date)
        self.assertEqual(
            (created.state, created.letter_state, created.email_state), ("draft", "none", "none")
        )
        self.assertIn(created, run.letter_ids)

    def test_propose_query_count_does_not_grow(self):
        """The proposal with its letters and lines created: as many queries for one letter as for
        ten (letters and lines inserted in bulk, their totals given, nothing per record)."""
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(10)]
        )
        for partner in partners:
            for days in (10, 20, 30):
                self._invoice(100.0, partner=partner, days_ago=days)

        def count(customers):
            self.env.invalidate_all()
            runs = []
            queries = self._count_queries(lambda: runs.append(self._propose(partners=customers)))
            self.assertEqual(len(runs[0].letter_ids), len(customers))
            self.assertEqual(len(runs[0].line_ids), 3 * len(customers))
            runs[0].with_context(credit_dunning_write=DUNNING_WRITE).unlink()
            return queries

        count(partners[:1])  # warm the registry caches
        self.assertEqual(count(partners[:1]), count(partners))
