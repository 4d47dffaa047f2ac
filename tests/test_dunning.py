from datetime import timedelta
from unittest.mock import MagicMock, patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.base.models.ir_mail_server import IrMailServer

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningLevels(DunningCommon):
    def test_days_must_increase_with_sequence(self):
        with self.assertRaises(ValidationError) as caught:
            self.level_model.create(
                {"company_id": self.company.id, "name": "Too early", "sequence": 50, "days": 30}
            )
        self.assertRegex(
            str(caught.exception), r"The days after due date must increase with the dunning levels: Too early"
        )
        with self.assertRaises(ValidationError) as caught:
            self.second.days = 10
        self.assertRegex(
            str(caught.exception), r"The days after due date must increase with the dunning levels: Second"
        )

    def test_levels_per_company_do_not_interfere(self):
        other = self.setup_other_company(name="Zweite GmbH")["company"]
        defaults = self.level_model.search([("company_id", "=", other.id)])
        # same days in another company are fine, and its own order is still checked
        level = self.level_model.create(
            {"company_id": other.id, "name": "Last", "sequence": 90, "days": defaults[-1].days + 1}
        )
        self.assertEqual(level.company_id, other)
        with self.assertRaises(ValidationError) as caught:
            self.level_model.create({"company_id": other.id, "name": "Early", "sequence": 95, "days": 1})
        self.assertRegex(
            str(caught.exception), r"The days after due date must increase with the dunning levels: Early"
        )

    def test_new_company_gets_default_levels(self):
        main_levels = self.level_model.sudo().search(
            [("company_id", "=", self.env.ref("base.main_company").id)]
        )
        other = self.setup_other_company(name="Zweite GmbH")["company"]
        levels = self.level_model.search([("company_id", "=", other.id)])
        self.assertEqual(
            levels.mapped("name"),
            [
                "Payment Reminder",
                "First Dunning Letter",
                "Second Dunning Letter",
                "Final Dunning Letter",
                "Handover to Collection Agency",
            ],
        )
        self.assertEqual(levels.mapped("days"), main_levels.mapped("days"))
        self.assertEqual(levels.mapped("fee"), [0.0, 0.0, 2.5, 2.5, 0.0])
        self.assertEqual(levels.mapped("block_orders"), [False, False, False, True, True])
        self.assertEqual(levels[-1].is_collection, True)
        self.assertNotEqual(levels.ids, main_levels.ids)
        # German names and texts travel with the copies
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"])
        other_2 = self.setup_other_company(name="Dritte GmbH")["company"]
        german = self.level_model.with_context(lang="de_DE").search([("company_id", "=", other_2.id)])
        self.assertEqual(german[0].name, "Zahlungserinnerung")
        self.assertEqual(german.mapped("name"), main_levels.with_context(lang="de_DE").mapped("name"))
        # a company keeps its own scale: no second set, not even from the install hook
        self.env["res.company"].search([])._credit_dunning_create_default_levels()
        self.assertEqual(self.level_model.search_count([("company_id", "=", other.id)]), 5)
        self.assertEqual(self.level_model.search_count([("company_id", "=", self.company.id)]), 4)

    def test_install_hook_gives_existing_companies_levels(self):
        from odoo.addons.credit_control import post_init_hook

        other = self.setup_other_company(name="Alt GmbH")["company"]
        self.level_model.search([("company_id", "=", other.id)]).unlink()
        post_init_hook(self.env)
        self.assertEqual(self.level_model.search_count([("company_id", "=", other.id)]), 5)

    def test_only_managers_configure_levels(self):
        with self.assertRaises(AccessError) as caught:
            self.reminder.with_user(self.collector).write({"fee": 5.0})
        self.assertRegex(str(caught.exception), r"You are not allowed to modify 'Dunning Level'")
        with self.assertRaises(AccessError) as caught:
            self.level_model.with_user(self.collector).create(
                {"company_id": self.company.id, "name": "X", "sequence": 90, "days": 90}
            )
        self.assertRegex(str(caught.exception), r"You are not allowed to create 'Dunning Level'")
        self.reminder.with_user(self.credit_manager).write({"fee": 1.0})
        self.assertEqual(self.reminder.fee, 1.0)

    def test_default_german_levels_installed(self):
        """The German five-level scale of the main company: English source names, German names
        with the German language loaded."""
        levels = self.level_model.sudo().search([("company_id", "=", self.env.ref("base.main_company").id)])
        self.assertEqual(
            levels.mapped("name"),
            [
                "Payment Reminder",
                "First Dunning Letter",
                "Second Dunning Letter",
                "Final Dunning Letter",
                "Handover to Collection Agency",
            ],
        )
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"])
        self.assertEqual(
            levels.with_context(lang="de_DE").mapped("name"),
            ["Zahlungserinnerung", "1. Mahnung", "2. Mahnung", "Letzte Mahnung", "Übergabe an Inkassobüro"],
        )


@tagged("post_install", "-at_install")
class TestDunningRun(DunningCommon):
    def test_proposal_moves_each_invoice_one_level(self):
        inv_10 = self._invoice(100.0, days_ago=10)
        inv_40 = self._invoice(200.0, days_ago=40)
        inv_3 = self._invoice(50.0, days_ago=3)
        not_due = self._invoice(70.0, term=self.term_30)
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 1)
        letter = run.letter_ids
        self.assertEqual(letter.partner_id, self.customer)
        # never dunned: both overdue invoices start at the reminder, one level at a time
        self.assertEqual(self._line_of(run, inv_10).level_id, self.reminder)
        self.assertEqual(self._line_of(run, inv_40).level_id, self.reminder)
        # overdue but below the first level: shown, not escalated; not yet due: not shown
        self.assertFalse(self._line_of(run, inv_3).level_id)
        self.assertFalse(self._line_of(run, inv_3).is_escalation)
        self.assertFalse(self._line_of(run, not_due))
        self.assertEqual(letter.level_id, self.reminder)
        self.assertEqual(letter.amount_residual, 350.0)

        run.action_validate()
        self.assertEqual(run.state, "done")
        self.assertEqual((inv_10 | inv_40).credit_dunning_level_id, self.reminder)
        self.assertEqual(inv_10.credit_dunning_date, self.today)
        self.assertFalse(inv_3.credit_dunning_level_id)
        self.assertEqual(inv_40.credit_dunning_line_ids, self._line_of(run, inv_40))
        self.assertEqual(self.customer.with_company(self.company).credit_dunning_count, 1)

        # 15 days later: 40+15 days overdue and 15 >= 14 days after the reminder -> first letter;
        # 10+15 = 25 days overdue >= 21 -> first letter; 3+15 = 18 days -> reminder
        later = self.today + timedelta(days=15)
        run2 = self._propose(date=later)
        self.assertEqual(self._line_of(run2, inv_40).level_id, self.first)
        self.assertEqual(self._line_of(run2, inv_10).level_id, self.first)
        self.assertEqual(self._line_of(run2, inv_3).level_id, self.reminder)
        self.assertEqual(run2.letter_ids.level_id, self.first)
        self.assertEqual(run2.letter_ids.previous_letter_ids, letter)

    def test_idempotent_same_day(self):
        self._invoice(100.0, days_ago=10)
        run = self._propose()
        # an invoice in a proposal not yet validated is not proposed twice
        self.assertFalse(self._propose())
        run.action_validate()
        self.assertFalse(self._propose())
        wizard = self.env["credit.dunning.run.create"].create({"date": self.today})
        with self.assertRaises(UserError) as caught:
            wizard.action_create_run()
        self.assertRegex(str(caught.exception), r"Nothing to dun on.*no invoice reaches a new level\.")

    def test_min_days_since_previous_level(self):
        invoice = self._invoice(100.0, days_ago=30)
        self._set_level(invoice, self.reminder, days_ago=5)
        self.assertFalse(self._propose(), "first letter only 14 days after the reminder")
        self._set_level(invoice, self.reminder, days_ago=14)
        run = self._propose()
        self.assertEqual(self._line_of(run, invoice).level_id, self.first)
        self.assertEqual(self._line_of(run, invoice).previous_level_id, self.reminder)

    def test_last_level_reached_only_once(self):
        invoice = self._invoice(100.0, days_ago=200)
        self._set_level(invoice, self.final, days_ago=60)
        run = self._propose()
        self.assertFalse(run, "no level after the last one: nothing to send")

    def test_exclusions(self):
        paused = self._invoice(100.0, days_ago=10)
        paid = self._invoice(100.0, days_ago=10)
        self._pay(paid, days_after_invoice=1)
        refund_only = self.env["res.partner"].create({"name": "Nur Gutschrift GmbH", "is_company": True})
        self._invoice(30.0, partner=refund_only, days_ago=10, move_type="out_refund")
        paused.with_user(self.collector)._credit_dunning_pause("Customer disputes the delivery")
        self.assertFalse(self._propose())
        self.assertIn("disputes the delivery", paused.message_ids[0].body)

        # a pause with an end date resumes by itself on that date
        paused.credit_dunning_pause_until = self.today + timedelta(days=5)
        self.assertFalse(self._propose(date=self.today + timedelta(days=4)))
        run = self._propose(date=self.today + timedelta(days=5))
        self.assertEqual(run.line_ids.move_id, paused)
        run._action_cancel("Proposal discarded")

        # a customer excluded from dunning, in this company only
        paused._credit_dunning_resume()
        self.customer.with_user(self.collector)._credit_dunning_pause("Key account, call only")
        self.assertTrue(self.customer.with_company(self.company).credit_dunning_pause)
        self.assertFalse(self._propose())
        self.customer._credit_dunning_resume()
        self.assertTrue(self._propose())

    def test_minimum_amount(self):
        self._invoice(40.0, days_ago=10)
        self.assertFalse(self._propose(min_amount=50.0))
        self.assertTrue(self._propose(min_amount=40.0))

    def test_credits_shown_and_netted(self):
        invoice = self._invoice(500.0, days_ago=10)
        refund = self._invoice(120.0, days_ago=2, move_type="out_refund")
        payment = self._unreconciled_payment(80.0)
        run = self._propose()
        letter = run.letter_ids
        self.assertEqual(self._line_of(run, refund).line_type, "credit")
        self.assertEqual(self._line_of(run, refund).amount_residual, -120.0)
        self.assertEqual(self._line_of(run, payment).amount_residual, -80.0)
        self.assertEqual(self._line_of(run, invoice).level_id, self.reminder)
        self.assertEqual(letter.amount_residual, 300.0)
        # credits alone never make a letter
        other = self.env["res.partner"].create({"name": "Credit Only AG", "is_company": True})
        self._unreconciled_payment(10.0, partner=other)
        self.assertFalse(run.letter_ids.filtered(lambda lt: lt.partner_id == other))

    def test_partial_payment_dunned_for_open_balance(self):
        invoice = self._invoice(1000.0, days_ago=10)
        self._pay(invoice, amount=400.0, days_after_invoice=1)
        line = self._line_of(self._propose(), invoice)
        self.assertEqual(line.amount_total, 1000.0)
        self.assertEqual(line.amount_residual, 600.0)

    def test_interest_and_fees(self):
        # 1,000.00 due 60 days ago, at the first letter 14 days ago: the second letter charges
        # interest of §288 BGB from the day after the due date, the 40 EUR flat fee once, the fee
        invoice = self._invoice(1000.0, days_ago=60)
        self._set_level(invoice, self.first, days_ago=14)
        run = self._propose()
        line = self._line_of(run, invoice)
        self.assertEqual(line.level_id, self.second)
        expected = self.env["credit.base.rate"].statutory_interest(
            1000.0, self.today - timedelta(days=60), self.today, business=True, company=self.company
        )
        self.assertTrue(expected > 0)
        self.assertEqual(line.interest_amount, expected)
        flat_fee = self.env.ref("base.EUR")._convert(40.0, self.currency, self.company, self.today)
        self.assertAlmostEqual(line.flat_fee_amount, flat_fee)
        self.assertEqual(run.letter_ids.fee_amount, 2.5)
        run.action_validate()
        self.assertTrue(invoice.credit_dunning_flat_fee_charged)
        # the final letter two weeks later charges interest again, but not the flat fee
        self._set_level(invoice, self.second, days_ago=14)
        line = self._line_of(self._propose(), invoice)
        self.assertEqual(line.level_id, self.final)
        self.assertEqual(line.flat_fee_amount, 0.0)

    def test_consumer_no_flat_fee_lower_interest(self):
        consumer = self.env["res.partner"].create(
            {"name": "Max Mustermann", "email": "max@example.com", "is_company": False}
        )
        invoice = self._invoice(1000.0, partner=consumer, days_ago=40)
        self._set_level(invoice, self.first, days_ago=14)
        line = self._line_of(self._propose(), invoice)
        self.assertEqual(line.flat_fee_amount, 0.0)
        self.assertEqual(
            line.interest_amount,
            self.env["credit.base.rate"].statutory_interest(
                1000.0, self.today - timedelta(days=40), self.today, business=False, company=self.company
            ),
        )

    def test_change_level_in_proposal(self):
        invoice = self._invoice(1000.0, days_ago=40)
        self._set_level(invoice, self.first, days_ago=14)
        run = self._propose()
        line = self._line_of(run, invoice)
        line.level_id = self.final
        self.assertEqual(run.letter_ids.level_id, self.final)
        line.level_id = self.reminder
        self.assertEqual(line.interest_amount, 0.0)
        self.assertEqual(line.flat_fee_amount, 0.0)

    def test_remove_letter_and_line_from_proposal(self):
        other = self.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        keep = self._invoice(100.0, days_ago=10)
        drop = self._invoice(100.0, days_ago=12)
        other_invoice = self._invoice(100.0, partner=other, days_ago=10)
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 2)
        run.letter_ids.filtered(lambda lt: lt.partner_id == other).unlink()
        self._line_of(run, drop).unlink()
        run.action_validate()
        self.assertEqual(keep.credit_dunning_level_id, self.reminder)
        self.assertFalse(drop.credit_dunning_level_id)
        self.assertFalse(other_invoice.credit_dunning_level_id)
        with self.assertRaises(UserError) as caught:
            run.letter_ids.unlink()
        self.assertRegex(
            str(caught.exception),
            r"A validated or cancelled dunning letter cannot be deleted: it documents a contact\.",
        )

    def test_multi_currency(self):
        eur = self.setup_other_currency("EUR")  # 2 EUR for 1 company currency unit today
        eur_invoice = self._invoice(300.0, days_ago=10, currency=eur)
        run = self._propose()
        line = self._line_of(run, eur_invoice)
        self.assertEqual(line.currency_id, eur)
        self.assertEqual(line.amount_residual, 300.0)
        self.assertEqual(line.amount_residual_company, 150.0)
        self.assertEqual(run.letter_ids.currency_id, eur)
        # a letter mixing currencies uses the company currency for its fee
        self._invoice(100.0, days_ago=11)
        run._action_cancel("Proposal discarded")
        run = self._propose()
        self.assertEqual(run.letter_ids.currency_id, self.currency)
        self.assertEqual(run.letter_ids.amount_residual, 250.0)

    def test_two_companies(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        levels_2 = self._create_levels(company_2)
        self.env.user.company_ids |= company_2
        invoice_1 = self._invoice(100.0, days_ago=10)
        invoice_2 = (
            self.env["account.move"]
            .with_company(company_2)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": self.today - timedelta(days=10),
                    "invoice_line_ids": [
                        Command.create({"name": "x", "quantity": 1, "price_unit": 80.0, "tax_ids": []})
                    ],
                }
            )
        )
        invoice_2.action_post()
        run_1 = self._propose()
        self.assertEqual(run_1.line_ids.move_id, invoice_1)
        later = invoice_2.invoice_date_due + timedelta(days=10)
        run_2 = self.run_model.with_company(company_2)._create_runs(company_2, later)
        self.assertEqual(run_2.letter_ids.line_ids.move_id, invoice_2)
        self.assertEqual(run_2.letter_ids.line_ids.level_id, levels_2[0])
        # a customer paused in company 1 is still dunned in company 2
        run_2._action_cancel("Proposal discarded")
        self.customer._credit_dunning_pause("only here")
        self.assertTrue(self.run_model.with_company(company_2)._create_runs(company_2, later))
        # a collector of company 1 does not see company 2's runs
        self.assertFalse(self.run_model.with_user(self.collector).search([("company_id", "=", company_2.id)]))

    def test_collector_runs_dunning_and_only_managers_reset(self):
        invoice = self._invoice(100.0, days_ago=10)
        wizard = self.env["credit.dunning.run.create"].with_user(self.collector).create({"date": self.today})
        action = wizard.action_create_run()
        run = self.run_model.with_user(self.collector).browse(action["res_id"])
        run.action_validate()
        self.assertEqual(invoice.credit_dunning_level_id, self.reminder)
        with self.assertRaises(AccessError) as caught:
            invoice.with_user(self.collector).action_credit_dunning_reset()
        self.assertRegex(str(caught.exception), r"Only Credit Managers may reset dunning levels\.")
        with self.assertRaises(AccessError) as caught:
            invoice.with_user(self.collector).write({"credit_dunning_level_id": False})
        self.assertRegex(
            str(caught.exception),
            r"Dunning levels of invoices are set by dunning runs; only managers reset them\.",
        )
        invoice.with_user(self.credit_manager).action_credit_dunning_reset()
        self.assertFalse(invoice.credit_dunning_level_id)
        with self.assertRaises(AccessError) as caught:
            self.env["credit.dunning.run.create"].with_user(self.sales_user).create({"date": self.today})
        self.assertRegex(str(caught.exception), r"You are not allowed to create 'Propose a Dunning Run'")

    def test_send_now_from_customer(self):
        invoice = self._invoice(100.0, days_ago=10)
        other = self.env["res.partner"].create({"name": "Andere KG", "is_company": True})
        self._invoice(100.0, partner=other, days_ago=10)
        action = self.contact.with_user(self.collector).action_credit_dunning_send_now()
        run = self.run_model.browse(action["res_id"])
        self.assertEqual(run.line_ids.move_id, invoice)
        self.assertEqual(invoice.action_credit_dunning_send_now()["tag"], "display_notification")

    def test_block_orders_and_customer_level(self):
        invoice = self._invoice(100.0, days_ago=80)
        customer = self.customer.with_company(self.company)
        self.assertFalse(customer._credit_dunning_blocks_orders())
        self._set_level(invoice, self.second, days_ago=20)
        self.assertEqual(customer.credit_dunning_level_id, self.second)
        self.assertFalse(customer._credit_dunning_blocks_orders())
        run = self._propose()
        run.action_validate()
        self.assertEqual(invoice.credit_dunning_level_id, self.final)
        self.assertTrue(self.contact.with_company(self.company)._credit_dunning_blocks_orders())
        # the final level schedules a phone call for the collector
        letter = run.letter_ids
        self.assertTrue(letter.activity_id)
        call_task = self.env["credit.task"].browse(letter.activity_id.res_id)
        self.assertEqual(letter.activity_id.res_model, "credit.task")
        self.assertEqual((call_task.task_type, call_task.origin), ("call", "dunning_call"))
        self.assertEqual(call_task.partner_id, self.customer)
        self.assertEqual(call_task.dunning_letter_id, letter)
        self._pay(invoice)
        self.assertFalse(customer._credit_dunning_blocks_orders())

    def test_validation_chatter(self):
        invoice = self._invoice(100.0, days_ago=10)
        run = self._propose()
        run.action_validate()
        self.assertIn(run.name, invoice.message_ids[0].body)
        partner_message = self.customer.message_ids[0]
        self.assertIn("Payment Reminder", partner_message.body)
        self.assertEqual(partner_message.attachment_ids, run.letter_ids.attachment_id)


@tagged("post_install", "-at_install")
class TestDunningDelivery(DunningCommon):
    def _mails(self, letters):
        return letters.email_message_id.notification_ids.mail_mail_id

    def test_email_queued_then_sent(self):
        self._invoice(100.0, days_ago=10)
        run = self._propose()
        run.action_validate()
        letter = run.letter_ids
        self.assertTrue(letter.channel_email)
        self.assertEqual(letter.email_state, "queued")
        mail = self._mails(letter)
        self.assertEqual(mail.attachment_ids, letter.attachment_id)
        self.assertIn("Payment Reminder", mail.subject)
        self.assertEqual(mail.recipient_ids, self.customer)
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(IrMailServer, "send_email", return_value="<msg@test>"),
        ):
            mail.send()
        self.assertEqual(letter.email_state, "sent", letter.email_error)

    def test_fallback_to_letter_without_email(self):
        no_mail = self.env["res.partner"].create({"name": "Ohne Mail GmbH", "is_company": True})
        self._invoice(100.0, partner=no_mail, days_ago=10)
        self._invoice(100.0, days_ago=10)
        run = self._propose()
        letter = run.letter_ids.filtered(lambda lt: lt.partner_id == no_mail)
        self.assertFalse(letter.channel_email)
        self.assertTrue(letter.channel_letter)
        run.action_validate()
        self.assertEqual(letter.letter_state, "to_print")
        self.assertEqual(letter.email_state, "none")
        self.assertEqual(run.to_print_count, 1)
        self.assertTrue(run.attachment_id.raw.startswith(b"%PDF"))
        run.action_mark_printed()
        self.assertEqual(letter.letter_state, "printed")

    def test_failing_mail_server_and_bulk_retry(self):
        other = self.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        self._invoice(100.0, days_ago=10)
        self._invoice(100.0, partner=other, days_ago=10)
        run = self._propose()
        run.action_validate()
        letters = run.letter_ids
        self.assertEqual(run.state, "done")
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(IrMailServer, "send_email", side_effect=ConnectionRefusedError("SMTP down")),
        ):
            self._mails(letters).send(raise_exception=False)
        self.assertEqual(set(letters.mapped("email_state")), {"failed"})
        self.assertIn("SMTP down", letters[0].email_error)
        self.assertEqual(run.failed_email_count, 2)
        # every invoice got its level although the e-mails failed
        self.assertEqual(run.line_ids.move_id.credit_dunning_level_id, self.reminder)
        with (
            patch.object(IrMailServer, "connect", return_value=MagicMock()),
            patch.object(IrMailServer, "send_email", return_value="<msg@test>"),
        ):
            run.action_retry_failed_emails()
        self.assertEqual(set(letters.mapped("email_state")), {"sent"})
        self.assertEqual(run.failed_email_count, 0)

    def test_cron_automatic_levels_in_batches(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(3)]
        )
        for partner in partners:
            self._invoice(100.0, partner=partner, days_ago=10)
        manual_only = self._invoice(100.0, days_ago=40)
        self._set_level(manual_only, self.first, days_ago=14)  # next: second letter, not automatic
        # live since yesterday, no review of the first run
        self.company.write(
            {
                "credit_dunning_start_date": self.today - timedelta(days=1),
                "credit_dunning_first_run_review": False,
            }
        )
        with patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress:
            self.run_model._cron_dunning(batch_size=2)
        progress.assert_called_once_with(done=2, remaining=1)
        self.run_model._cron_dunning(batch_size=2)
        runs = self.run_model.search([("is_automatic", "=", True), ("company_id", "=", self.company.id)])
        self.assertEqual(len(runs), 2)
        self.assertEqual(set(runs.mapped("state")), {"done"})
        self.assertEqual(runs.letter_ids.partner_id, partners)
        self.assertEqual(manual_only.credit_dunning_level_id, self.first)
        self.assertFalse(self.run_model._prepare_proposal(self.company, self.today, automatic=True))

    def test_cron_resumes_expired_pauses(self):
        invoice = self._invoice(100.0, days_ago=10)
        invoice._credit_dunning_pause("wait", self.today + timedelta(days=1))
        invoice.credit_dunning_pause_until = self.today
        self.env["res.partner"].with_company(self.company)._credit_dunning_resume_expired(self.today)
        self.assertFalse(invoice.credit_dunning_pause)
        self.assertIn("resumed", invoice.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestDunningQueries(DunningCommon):
    def test_proposal_query_count_does_not_grow(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(10)]
        )
        self._invoice(100.0, partner=partners[0], days_ago=10)
        for __ in range(2):  # warm the registry caches (record rules of every model read)
            self.run_model._prepare_proposal(self.company, self.today)
            self.env.invalidate_all()
        small = self._count_queries(lambda: self.run_model._prepare_proposal(self.company, self.today))
        for partner in partners:
            for days in (10, 20, 30):
                self._invoice(100.0, partner=partner, days_ago=days)
        self.env.invalidate_all()
        big = self._count_queries(lambda: self.run_model._prepare_proposal(self.company, self.today))
        self.assertEqual(small, big)
        # the exclusions (promises, disputes, plans, agency, court case, factoring, portal
        # requests) are one query: account.move._credit_dunning_blocked_move_ids
        self.assertLessEqual(big, 8)

    def test_blocked_hook_is_one_query(self):
        """The exclusion hook unites the queries of every reason (collections, agency, court
        dunning case, factoring, portal plan requests) into one, for 1 or N invoices."""
        invoices = [self._invoice(100.0, days_ago=days) for days in (10, 20, 30, 40)]
        moves = self.env["account.move"]
        one = self._count_queries(lambda: moves._credit_dunning_blocked_move_ids(invoices[0].ids, self.today))
        many = self._count_queries(
            lambda: moves._credit_dunning_blocked_move_ids([invoice.id for invoice in invoices], self.today)
        )
        self.assertEqual((one, many), (1, 1))
        self.assertEqual(moves._credit_dunning_blocked_move_ids([], self.today), set())

    def test_propose_button_query_count_does_not_grow(self):
        """The wizard's "Propose" as the button does it (the run, its letters and lines created):
        as many queries for one customer as for ten (letters and lines created in batches, no
        chatter or follower work per letter)."""
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(10)]
        )
        for days in (10, 25, 40):
            self._invoice(100.0, partner=partners[0], days_ago=days)
        wizard = self.env["credit.dunning.run.create"].create(
            {"date": self.today, "company_id": self.company.id}
        )

        def propose():
            self.env.invalidate_all()
            count = self._count_queries(lambda: wizard.action_create_run() and self.env.flush_all())
            run = self.run_model.search([("state", "=", "draft")])
            letters, lines = len(run.letter_ids), len(run.line_ids)
            run.unlink()
            return count, letters, lines

        for __ in range(2):  # warm the registry caches (record rules, sequences, levels)
            propose()
        small, letters, lines = propose()
        self.assertEqual((letters, lines), (1, 3))
        for partner in partners[1:]:
            for days in (10, 25, 40):
                self._invoice(100.0, partner=partner, days_ago=days)
        big, letters, lines = propose()
        self.assertEqual((letters, lines), (10, 30))
        self.assertEqual(small, big)

    def test_letter_logs_and_emails_query_count_does_not_grow(self):
        """At validation the customers' and invoices' notes are logged and the e-mails rendered
        in batches, not letter by letter."""
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(5)]
        )
        for partner in partners:
            for days in (10, 25):
                self._invoice(100.0, partner=partner, days_ago=days)
        run = self._propose(partners=partners)
        letters = run.letter_ids
        self.assertEqual(len(letters), 5)

        def count(method, records):
            self.env.invalidate_all()
            return self._count_queries(lambda: method(records))

        for __ in range(2):  # warm the registry caches
            count(run._log_letters, letters[:1])
            count(lambda records: records._render_emails(), letters[:1])
        # five letters logged (or their e-mails rendered) together cost fewer queries than one
        # by one (Odoo still creates each message with a few queries of its own)
        render = lambda records: records._render_emails()  # noqa: E731
        for method in (run._log_letters, render):
            one_by_one = sum(count(method, letter) for letter in letters)
            self.assertLess(count(method, letters), one_by_one)
        self.assertEqual(len(letters._render_emails()), 5)
        notes = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "in", partners.ids), ("body", "ilike", run.name)]
        )
        self.assertTrue(notes)
        self.assertEqual(set(notes.mapped("subtype_id")), {self.env.ref("mail.mt_note")})
