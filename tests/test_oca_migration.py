import unittest
from datetime import timedelta

from psycopg2.extras import Json

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.credit_control.models.account_move import DUNNING_WRITE

from .common import CreditControlCommon

OCA_MODULES = ("account_credit_control", "account_financial_risk", "sale_financial_risk")


class OcaMigrationCommon(CreditControlCommon):
    def _migrate(self, user=None, **vals):
        wizard = self.env["credit.oca.migration"].with_user(user or self.credit_manager).create(vals)
        wizard.action_migrate()
        return wizard

    def _taken_over(self, model):
        return (
            self.env["ir.model.data"]
            .search([("module", "=", "__credit_oca_migration__"), ("model", "=", model)])
            .mapped("res_id")
        )

    def _company_notes(self):
        return self.company.partner_id.message_ids.filtered(
            lambda m: "Data of the OCA credit modules taken over" in (m.body or "")
        )


@tagged("post_install", "-at_install")
class TestOcaMigrationTables(OcaMigrationCommon):
    """The OCA modules are gone from the addons path, their tables and columns are left: the
    wizard reads them with SQL. The tables are made here as account_credit_control 18.0 and
    account_financial_risk 18.0 define them (the columns the migration reads); PostgreSQL rolls the
    DDL back with the test."""

    def _make_oca_tables(self):
        self.env.cr.execute(
            """
            CREATE TABLE credit_control_policy (
                id serial PRIMARY KEY, name varchar NOT NULL, company_id int, active bool DEFAULT true);
            CREATE TABLE credit_control_policy_level (
                id serial PRIMARY KEY, policy_id int NOT NULL, level int NOT NULL, name jsonb NOT NULL,
                computation_mode varchar NOT NULL, delay_days int NOT NULL, channel varchar NOT NULL,
                custom_text jsonb NOT NULL, custom_text_after_details jsonb);
            CREATE TABLE credit_control_communication (
                id serial PRIMARY KEY, partner_id int NOT NULL, policy_level_id int NOT NULL,
                policy_id int, currency_id int NOT NULL, contact_address_id int, report_date date,
                company_id int NOT NULL);
            CREATE TABLE credit_control_line (
                id serial PRIMARY KEY, date date NOT NULL, date_due date NOT NULL, date_sent date,
                state varchar NOT NULL, channel varchar NOT NULL, invoice_id int, partner_id int NOT NULL,
                communication_id int, amount_due numeric, balance_due numeric NOT NULL,
                move_line_id int NOT NULL, currency_id int, company_id int, policy_level_id int NOT NULL,
                policy_id int, level int);
            ALTER TABLE res_company ADD COLUMN credit_policy_id int;
            ALTER TABLE res_partner ADD COLUMN risk_invoice_open_limit numeric,
                                    ADD COLUMN risk_invoice_unpaid_limit numeric;
            """
        )

    def _insert(self, table, **values):
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        self.env.cr.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",  # noqa: S608 test fixture
            [Json(v) if isinstance(v, dict) else v for v in values.values()],
        )
        return self.env.cr.fetchone()[0]

    def _oca_line(self, invoice, level_id, level, date, state="sent", communication=None, channel="email"):
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        return self._insert(
            "credit_control_line",
            date=date,
            date_due=invoice.invoice_date_due,
            date_sent=date if state == "sent" else None,
            state=state,
            channel=channel,
            invoice_id=invoice.id,
            partner_id=invoice.partner_id.id,
            communication_id=communication,
            amount_due=invoice.amount_total,
            balance_due=invoice.amount_residual,
            move_line_id=receivable.id,
            currency_id=invoice.currency_id.id,
            company_id=invoice.company_id.id,
            policy_level_id=level_id,
            level=level,
        )

    def test_nothing_to_take_over(self):
        with self.assertRaisesRegex(UserError, "No data of the OCA credit modules was found"):
            self._migrate()

    def test_only_credit_managers(self):
        self._make_oca_tables()
        for user in (self.sales_user, self.collector):
            with self.assertRaisesRegex(AccessError, "credit.oca.migration"):
                self._migrate(user=user)

    def _make_oca_policy(self):
        """The OCA tables and a policy of three levels, the company's default; {level: id}."""
        self._make_oca_tables()
        policy = self._insert("credit_control_policy", name="3 times", company_id=self.company.id)
        self.env.cr.execute(
            "UPDATE res_company SET credit_policy_id = %s WHERE id = %s", [policy, self.company.id]
        )
        level_rows = [
            (1, "net_days", 10, "email", {"en_US": "Reminder", "de_DE": "Erinnerung"}),
            (2, "previous_date", 15, "letter", {"en_US": "Dunning", "de_DE": "Mahnung"}),
            (3, "previous_date", 20, "phone", {"en_US": "Call"}),
        ]
        levels = {
            number: self._insert(
                "credit_control_policy_level",
                policy_id=policy,
                level=number,
                name=name,
                computation_mode=mode,
                delay_days=delay,
                channel=channel,
                custom_text={"en_US": f"Please pay ({number})", "de_DE": f"Bitte zahlen ({number})"},
            )
            for number, mode, delay, channel, name in level_rows
        }
        return levels

    def test_levels_in_use_stay(self):
        """A level of this module's scale that an invoice already reached stays active; the OCA
        levels follow it (the days increase along the active levels)."""
        self._make_oca_policy()
        reminder, *others = self.env["credit.dunning.level"].search([("company_id", "=", self.company.id)])
        invoice = self._invoice(100.0, days_ago=30)
        invoice.with_context(credit_dunning_write=DUNNING_WRITE).credit_dunning_level_id = reminder
        self._migrate()
        active = self.env["credit.dunning.level"].search([("company_id", "=", self.company.id)])
        self.assertEqual(active[0], reminder)
        self.assertEqual(active[1:].mapped("name"), ["Reminder", "Dunning", "Call"])
        self.assertEqual(active.mapped("days"), sorted(set(active.mapped("days"))), "days increase")
        self.assertGreater(active[1].days, reminder.days)
        self.assertFalse(
            self.env["credit.dunning.level"].browse([lvl.id for lvl in others]).filtered("active")
        )

    def test_take_over_from_tables(self):
        levels = self._make_oca_policy()
        invoice_a = self._invoice(300.0, days_ago=60)
        invoice_b = self._invoice(200.0, days_ago=20)
        d1, d2 = self.today - timedelta(days=30), self.today - timedelta(days=5)
        comm1 = self._insert(
            "credit_control_communication",
            partner_id=self.customer.id,
            policy_level_id=levels[1],
            currency_id=self.currency.id,
            contact_address_id=self.contact.id,
            report_date=d1,
            company_id=self.company.id,
        )
        self._oca_line(invoice_a, levels[1], 1, d1, communication=comm1)
        # a letter marked sent without a communication, and a line still queued
        self._oca_line(invoice_a, levels[2], 2, d2, channel="letter")
        self._oca_line(invoice_b, levels[1], 1, d2, state="queued")
        self.env.cr.execute(
            "UPDATE res_partner SET risk_invoice_unpaid_limit = 100 WHERE id = %s", [self.customer.id]
        )
        default_levels = self.env["credit.dunning.level"].search([("company_id", "=", self.company.id)])

        wizard = self._migrate()

        new_levels = self.env["credit.dunning.level"].browse(self._taken_over("credit.dunning.level"))
        self.assertEqual(new_levels.mapped("name"), ["Reminder", "Dunning", "Call"])
        self.assertEqual(new_levels.mapped("days"), [10, 25, 45], "previous_date delays add up")
        self.assertEqual(new_levels[1].min_days_since_previous, 15)
        self.assertEqual(
            [(lvl.channel_email, lvl.channel_letter, lvl.channel_phone) for lvl in new_levels],
            [(True, False, False), (False, True, False), (False, False, True)],
        )
        self.assertIn("Please pay (1)", new_levels[0].introduction)
        self.assertEqual(new_levels[0].with_context(lang="de_DE").name, "Erinnerung")
        self.assertIn("Bitte zahlen (1)", new_levels[0].with_context(lang="de_DE").introduction)
        self.assertFalse(new_levels.filtered("is_automatic"), "the manager decides on automatic dunning")
        self.assertFalse(default_levels.exists().filtered("active"), "unused default levels archived")
        # reached level and last dunning date
        self.assertEqual(invoice_a.credit_dunning_level_id, new_levels[1])
        self.assertEqual(invoice_a.credit_dunning_date, d2)
        self.assertFalse(invoice_b.credit_dunning_level_id, "a queued line was never sent")
        # history: two validated letters in two historical runs, none queued for sending
        letters = self.env["credit.dunning.letter"].browse(self._taken_over("credit.dunning.letter"))
        self.assertEqual(len(letters), 2)
        self.assertEqual(set(letters.mapped("state")), {"done"})
        self.assertEqual(sorted(letters.mapped("dunning_date")), [d1, d2])
        email_letter = letters.filtered("channel_email")
        self.assertEqual(email_letter.recipient_id, self.contact)
        self.assertEqual(email_letter.partner_id, self.customer)
        self.assertEqual(letters.filtered("channel_letter").letter_state, "printed")
        self.assertEqual(letters.run_id.mapped("state"), ["done", "done"])
        self.assertEqual(letters.line_ids.move_id, invoice_a)
        self.assertFalse(letters.line_ids.filtered("interest_amount"), "no charges invented for history")
        # risk: the unpaid invoices (500) exceed the OCA limit of 100: hold with the reason
        customer = self.customer.with_company(self.company)
        self.assertTrue(customer.credit_hold)
        self.assertIn("OCA Financial Risk", customer.credit_hold_reason)
        self.assertIn("400", customer.credit_hold_reason)
        self.assertTrue(
            customer.message_ids.filtered(lambda m: "Partial risk limits of OCA" in (m.body or "")),
            "the partial limit is noted on the customer",
        )
        self.assertIn("Dunning letters kept as history: 2", wizard.report_html)
        self.assertEqual(len(self._company_notes()), 1)

        # idempotent: a second run takes over nothing new, and keeps a released hold released
        customer.sudo().write({"credit_hold": False, "credit_hold_reason": False})
        second = self._migrate()
        self.assertIn("Dunning letters kept as history: 0", second.report_html)
        self.assertIn("Dunning levels created: 0", second.report_html)
        self.assertEqual(len(self._taken_over("credit.dunning.letter")), 2)
        self.assertEqual(
            self.env["credit.dunning.level"].search_count([("company_id", "=", self.company.id)]), 3
        )
        self.assertFalse(customer.credit_hold)
        self.assertEqual(len(self._company_notes()), 2)


@tagged("post_install", "-at_install", "credit_oca")
class TestOcaMigrationInstalled(OcaMigrationCommon):
    """On a database with the OCA 18.0 modules installed from their published packages
    (tools/test.sh, stage "oca"), with data made by their own APIs: a policy with three levels,
    two credit control runs whose communications were sent, risk limits."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        modules = cls.env["ir.module.module"].search(
            [("name", "in", OCA_MODULES), ("state", "=", "installed")]
        )
        if len(modules) != len(OCA_MODULES):
            raise unittest.SkipTest("the OCA credit modules are not installed (tools/test.sh stage 'oca')")
        cls.env.user.groups_id |= cls.env.ref("account_credit_control.group_account_credit_control_manager")
        cls.env.user.email = "credit@company.example"
        (cls.company | cls.env.user.company_id).email = "buchhaltung@company.example"
        receivable = cls.company_data["default_account_receivable"]
        template = cls.env.ref("account_credit_control.email_template_credit_control_base")
        cls.policy = cls.env["credit.control.policy"].create(
            {
                "name": "Drei Stufen",
                "company_id": cls.company.id,
                "account_ids": [Command.set(receivable.ids)],
                "level_ids": [
                    Command.create(
                        {
                            "name": name,
                            "level": number,
                            "computation_mode": mode,
                            "delay_days": delay,
                            "channel": channel,
                            "email_template_id": template.id,
                            "custom_text": f"Please pay ({number})",
                            "custom_mail_text": f"<p>Please pay ({number})</p>",
                            "custom_text_after_details": "Thank you",
                        }
                    )
                    for number, name, mode, delay, channel in (
                        (1, "Reminder", "net_days", 10, "email"),
                        (2, "Dunning", "previous_date", 15, "email"),
                        (3, "Last letter", "previous_date", 20, "letter"),
                    )
                ],
            }
        )
        cls.company.credit_policy_id = cls.policy
        cls.other = cls.env["res.partner"].create(
            {"name": "Zweite AG", "is_company": True, "email": "z@ex.com"}
        )
        cls.customer.email = "buchhaltung@muster.example"
        (cls.customer | cls.other).credit_policy_id = cls.policy
        cls.invoice_a = cls._invoice(300.0, days_ago=60)
        cls.invoice_b = cls._invoice(200.0, days_ago=20)
        cls.invoice_c = cls._invoice(700.0, partner=cls.other, days_ago=20)
        cls.d1, cls.d2 = cls.today - timedelta(days=30), cls.today - timedelta(days=5)
        Run = cls.env["credit.control.run"]
        run1 = Run.create({"date": cls.d1, "policy_ids": [Command.set(cls.policy.ids)]})
        run1.generate_credit_lines()
        run1.set_to_ready_lines()
        run1.run_channel_action()
        cls.comms1 = run1.line_ids.communication_id
        cls.comms1._mark_credit_line_as_sent()
        run2 = Run.create({"date": cls.d2, "policy_ids": [Command.set(cls.policy.ids)]})
        run2.generate_credit_lines()
        run2.set_to_ready_lines()
        run2.run_channel_action()
        # the customer's e-mail went out, the other's is still queued
        run2.line_ids.filtered(
            lambda line: line.partner_id == cls.customer
        ).communication_id._mark_credit_line_as_sent()
        # risk limits set the OCA way, after the invoices (OCA blocks posting over the limit)
        cls.customer.sudo().write(
            {"credit_limit": 100.0, "risk_invoice_open_include": True, "risk_invoice_unpaid_include": True}
        )
        cls.other.sudo().write({"risk_invoice_open_limit": 5000.0, "risk_sale_order_limit": 2000.0})

    def test_oca_data_made_by_oca(self):
        # the fixture is what the migration expects to find
        lines = self.env["credit.control.line"].search([("policy_id", "=", self.policy.id)])
        self.assertEqual(
            sorted((line.invoice_id.id, line.level, line.state) for line in lines if line.state == "sent"),
            sorted(
                [
                    (self.invoice_a.id, 1, "sent"),
                    (self.invoice_a.id, 2, "sent"),
                    (self.invoice_b.id, 1, "sent"),
                ]
            ),
        )
        # the other customer's e-mail never went out (queued, or failed without a mail server)
        self.assertIn(
            lines.filtered(lambda line: line.invoice_id == self.invoice_c).state, ("queued", "email_error")
        )
        self.assertTrue(self.customer.risk_exception)
        self.assertFalse(self.other.risk_exception)

    def test_take_over(self):
        mails_before = self.env["mail.mail"].search_count([])
        wizard = self._migrate()
        levels = self.env["credit.dunning.level"].browse(self._taken_over("credit.dunning.level"))
        self.assertEqual(levels.mapped("name"), ["Reminder", "Dunning", "Last letter"])
        self.assertEqual(levels.mapped("days"), [10, 25, 45])
        self.assertEqual(levels[2].channel_letter, True)
        self.assertIn("Thank you", levels[0].closing)
        # reached levels: invoice A at the second level since the second run, B at the first
        self.assertEqual(self.invoice_a.credit_dunning_level_id, levels[1])
        self.assertEqual(self.invoice_a.credit_dunning_date, self.d2)
        self.assertEqual(self.invoice_b.credit_dunning_level_id, levels[0])
        self.assertFalse(self.invoice_c.credit_dunning_level_id, "the queued e-mail was never sent")
        # history: the three sent communications, validated, as sent
        letters = self.env["credit.dunning.letter"].browse(self._taken_over("credit.dunning.letter"))
        self.assertEqual(len(letters), 3)
        self.assertEqual(set(letters.mapped("state")), {"done"})
        self.assertEqual(set(letters.mapped("email_state")), {"sent"})
        self.assertEqual(letters.partner_id, self.customer)
        self.assertEqual(self.customer.with_company(self.company).credit_dunning_count, len(letters))
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before, "nothing is sent again")
        # customers do not start again at the first reminder: today's proposal has nothing for A
        runs = self.env["credit.dunning.run"]._create_runs(self.company, self.today)
        proposed = runs.line_ids.filtered(lambda line: line.move_id in (self.invoice_a | self.invoice_b))
        self.assertFalse(proposed, "A and B wait for their next level")
        # risk: the customer's OCA limit is in force here; the OCA exception is a hold
        customer = self.customer.with_company(self.company)
        self.assertTrue(customer.credit_limit_set)
        self.assertEqual(customer.credit_limit, 100.0)
        self.assertTrue(customer.credit_hold)
        self.assertIn("OCA Financial Risk", customer.credit_hold_reason)
        other = self.other.with_company(self.company)
        self.assertFalse(other.credit_hold)
        self.assertTrue(other.message_ids.filtered(lambda m: "Partial risk limits of OCA" in (m.body or "")))
        self.assertEqual(len(self._company_notes()), 1)
        self.assertIn("Credit limits put in force: 1", wizard.report_html)
        # idempotent
        second = self._migrate()
        self.assertIn("Dunning letters kept as history: 0", second.report_html)
        self.assertEqual(len(self._taken_over("credit.dunning.letter")), len(letters))
        self.assertEqual(len(self._taken_over("credit.dunning.level")), 3)
