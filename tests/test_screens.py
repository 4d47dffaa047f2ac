"""What the screens rely on (issue 14, screen half): the release decision reaches the
salesperson, the release task carries the decision, the block dialog and the task text say
each thing once, the usage bar gets the real value above 100 %, the default data survives
module updates, the problem cases do not add up unrelated amounts."""

from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.translate import code_translations

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestScreensRelease(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_a.invoice_policy = "order"
        cls.customer.user_id = cls.sales_user
        cls.customer.with_company(cls.company).credit_manager_id = cls.credit_manager

    def _blocked_order(self, requested=True):
        self._set_limit(self.customer, 100.0)
        order = (
            self.env["sale.order"]
            .with_user(self.sales_user)
            .create(
                {
                    "partner_id": self.customer.id,
                    "user_id": self.sales_user.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": self.product_a.id,
                                "product_uom_qty": 1,
                                "price_unit": 500.0,
                                "tax_id": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        action = order.action_credit_confirm()
        self.assertEqual(action["res_model"], "credit.order.block")
        notification = None
        if requested:
            wizard = (
                self.env["credit.order.block"]
                .with_user(self.sales_user)
                .create({"order_id": order.id, "note": "Pays reliably"})
            )
            notification = wizard.action_request_release()
        return order.with_user(self.sales_user), notification

    def _task(self, order):
        return self.env["credit.task"].search(
            [("order_id", "=", order.id), ("task_type", "=", "release_request")]
        )

    def _salesperson_activities(self, order):
        return order.sudo().activity_ids.filtered(lambda a: a.user_id == self.sales_user)

    def test_block_dialog_says_the_next_step_once(self):
        order, _notification = self._blocked_order(requested=False)
        self.assertIn("exceeds the credit limit", order.credit_block_message)
        self.assertNotIn("Request a credit release", order.credit_block_message, "the dialog says it itself")
        # an RPC client gets the error with the next step (it has no dialog)
        with self.assertRaisesRegex(UserError, "Request a credit release from the credit team"):
            order.action_confirm()

    def test_request_confirmed_and_task_written_for_the_credit_team(self):
        order, notification = self._blocked_order()
        self.assertEqual(notification["tag"], "display_notification")
        self.assertEqual(notification["params"]["type"], "success")
        self.assertIn(self.credit_manager.name, notification["params"]["message"])
        self.assertIn(order.name, notification["params"]["message"])
        self.assertEqual(notification["params"]["next"]["type"], "ir.actions.act_window_close")
        task = self._task(order)
        self.assertEqual(len(task), 1)
        text = str(task.description)
        self.assertIn("Pays reliably", text)
        self.assertIn("exceeds the credit limit", text)
        self.assertNotIn("from the credit team", text, "the task is read by the credit team")
        self.assertIn("buttons of this task", text)
        self.assertEqual(text.count("exceeds the credit limit"), 1)

    def test_release_from_the_task_notifies_the_salesperson(self):
        order, _notification = self._blocked_order()
        task = self._task(order).with_user(self.credit_manager)
        action = task.action_release_order()
        self.assertEqual(action["res_model"], "credit.order.release")
        self.assertEqual(action["context"]["default_mode"], "release")
        wizard = (
            self.env["credit.order.release"]
            .with_user(self.credit_manager)
            .with_context(**action["context"])
            .create({"reason": "Securities received"})
        )
        wizard.action_apply()
        self.assertEqual(order.credit_block_state, "released")
        self.assertEqual(task.stage, "done")
        activity = self._salesperson_activities(order)
        self.assertEqual(len(activity), 1)
        self.assertIn("Credit released", activity.summary)
        self.assertIn(order.name, activity.summary)
        self.assertIn("Securities received", str(activity.note))

    def test_override_from_the_task_notifies_the_salesperson(self):
        order, _notification = self._blocked_order()
        task = self._task(order).with_user(self.credit_manager)
        action = task.action_override_order()
        self.assertEqual(action["context"]["default_mode"], "override")
        self.env["credit.order.release"].with_user(self.credit_manager).with_context(
            **action["context"]
        ).create({"reason": "Known customer"}).action_apply()
        self.assertEqual(order.state, "sale")
        self.assertIn("confirmed by credit override", self._salesperson_activities(order).summary)

    def test_refuse_from_the_task_notifies_the_salesperson(self):
        order, _notification = self._blocked_order()
        task = self._task(order).with_user(self.credit_manager)
        action = task.action_refuse_release()
        self.assertEqual(action["context"]["default_mode"], "refuse")
        wizard = (
            self.env["credit.order.release"]
            .with_user(self.credit_manager)
            .with_context(**action["context"])
            .create({"reason": "Two invoices 90 days overdue"})
        )
        wizard.action_apply()
        self.assertEqual(order.credit_block_state, "blocked")
        self.assertEqual(order.state, "draft")
        self.assertFalse(task.is_open)
        decision = order.sudo().credit_decision_ids.filtered(lambda d: d.decision_type == "refuse")
        self.assertEqual(len(decision), 1)
        self.assertEqual(decision.reason, "Two invoices 90 days overdue")
        activity = self._salesperson_activities(order)
        self.assertIn("refused", activity.summary)
        self.assertIn("Two invoices 90 days overdue", str(activity.note))
        # refused once: no second refusal of an order that is not waiting
        order.sudo()._credit_write({"credit_block_state": False})
        with self.assertRaisesRegex(UserError, "Only a blocked quotation"):
            order.with_user(self.credit_manager)._credit_refuse_release("again")

    def test_refusal_needs_a_reason_and_a_manager(self):
        order, _notification = self._blocked_order()
        with self.assertRaisesRegex(UserError, "needs a reason"):
            order.with_user(self.credit_manager)._credit_refuse_release("  ")
        with self.assertRaisesRegex(AccessError, "Only a Credit Manager"):
            order._credit_refuse_release("I am the salesperson")
        self.assertEqual(order.credit_block_state, "requested")

    def test_task_buttons_only_for_a_waiting_release(self):
        task = self.env["credit.task"].create(
            {"name": "Call", "task_type": "call", "partner_id": self.customer.id}
        )
        with self.assertRaisesRegex(UserError, "no quotation waiting for a release"):
            task.action_release_order()

    def test_summary_in_the_salespersons_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.sales_user.lang = "de_DE"
        order, _notification = self._blocked_order()
        german = {"Credit released: confirm %(order)s": "Kredit freigegeben: %(order)s bestätigen"}
        with patch.object(
            type(code_translations),
            "get_python_translations",
            lambda _self, module, lang: german if lang == "de_DE" else {},
        ):
            order.with_user(self.credit_manager)._credit_release("Securities received")
        activity = self._salesperson_activities(order)
        self.assertEqual(activity.summary, "Kredit freigegeben: %s bestätigen" % order.name)

    def test_release_task_in_the_credit_managers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.credit_manager.lang = "de_DE"
        german = {
            "Credit release requested for %(order)s": "Kreditfreigabe angefordert für %(order)s",
            "Note from sales: %(note)s": "Hinweis des Vertriebs: %(note)s",
        }
        with patch.object(
            type(code_translations),
            "get_python_translations",
            lambda _self, module, lang: german if lang == "de_DE" else {},
        ):
            order, _notification = self._blocked_order()
        task = self._task(order)
        self.assertEqual(task.name, "Kreditfreigabe angefordert für %s" % order.name)
        self.assertIn("Hinweis des Vertriebs: Pays reliably", str(task.description))


@tagged("post_install", "-at_install")
class TestScreensFigures(CreditControlCommon):
    def test_usage_above_100_is_the_real_value(self):
        self._set_limit(self.customer, 1000.0)
        self._invoice(1500.0)
        profile = self.customer.with_company(self.company)
        self.assertAlmostEqual(profile.credit_usage, 150.0, places=1)
        self.assertTrue(profile.credit_over_limit)

    def test_default_levels_survive_updates(self):
        rows = self.env["ir.model.data"].search(
            [("module", "=", "credit_control"), ("model", "in", ("credit.dunning.level", "credit.rating"))]
        )
        self.assertTrue(rows)
        self.assertTrue(all(rows.mapped("noupdate")), rows.filtered(lambda r: not r.noupdate).mapped("name"))

    def test_settings_menu_only_for_who_may_open_it(self):
        """Credit Control → Configuration → Settings opens res.config.settings (administrators
        only): a Credit Manager does not see the menu instead of getting an access error."""
        menu = self.env.ref("credit_control.credit_control_menu_settings")
        self.assertEqual(menu.groups_id, self.env.ref("base.group_system"))
        visible = self.env["ir.ui.menu"].with_user(self.credit_manager)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        self.assertIn(self.env.ref("credit_control.credit_control_menu_config").id, visible)

    def test_problem_case_amounts_are_not_summed(self):
        self.assertIsNone(self.env["credit.problem.case"]._fields["amount"].aggregator)

    def test_rating_change_summary_in_the_recipients_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.sales_user.lang = "de_DE"
        self.customer.user_id = self.sales_user
        rating_a = self.env.ref("credit_control.credit_rating_a")
        rating_d = self.env.ref("credit_control.credit_rating_d")
        rating_a.with_context(lang="de_DE").name = "Sehr niedriges Risiko"
        rating_d.with_context(lang="de_DE").name = "Hohes Risiko"
        profile = self.customer.with_company(self.company)
        profile.write({"credit_rating_id": rating_a.id, "credit_rating_source": "manual"})
        german = {"Credit rating changed: %(old)s → %(new)s": "Risikoklasse geändert: %(old)s → %(new)s"}
        with patch.object(
            type(code_translations),
            "get_python_translations",
            lambda _self, module, lang: german if lang == "de_DE" else {},
        ):
            profile.with_context(lang="en_US").write({"credit_rating_id": rating_d.id})
        activity = self.customer.sudo().activity_ids.filtered(
            lambda a: a.user_id == self.sales_user and "Hohes Risiko" in (a.summary or "")
        )
        self.assertEqual(len(activity), 1, self.customer.sudo().activity_ids.mapped("summary"))
        self.assertTrue(activity.summary.startswith("Risikoklasse geändert:"), activity.summary)
        self.assertNotIn("High risk", activity.summary)

    def test_credit_report_history_names_the_rating_in_the_readers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        rating = self.env.ref("credit_control.credit_rating_b")
        rating.with_context(lang="de_DE").name = "Hohes Risiko"
        self.customer.write({"credit_limit": 5000.0, "credit_limit_set": True})  # not tracked
        self.env.cr.precommit.run()
        partner = self.customer.with_env(self.env(context={}))  # with chatter tracking
        self.assertNotEqual(partner.credit_rating_id, rating)
        partner.write({"credit_limit": 8000.0, "credit_rating_id": rating.id})
        self.env.cr.precommit.run()
        self.env.flush_all()
        Report = self.env["report.credit_control.report_credit_partner"].with_context(lang="de_DE")
        values = Report._get_report_values(self.customer.ids)
        changes = values["report_values"][self.customer.id]["limit_history"]["changes"]
        ratings = [change["new"] for change in changes if "Risiko" in change["new"]]
        self.assertEqual(ratings, ["%s – Hohes Risiko" % rating.code], changes)

    def test_problem_case_owner_is_an_active_user_in_the_pdf_context(self):
        # the PDF reads the cases with active_test off: the fallback owner is still a real,
        # active Credit Manager (not the inactive OdooBot)
        self._set_limit(self.customer, 100.0)
        self._invoice(500.0)
        cases = (
            self.env["credit.problem.case"]
            .with_context(active_test=False)
            .search([("partner_id", "=", self.customer.id), ("case_type", "=", "over_limit")])
        )
        self.assertEqual(len(cases), 1)
        self.assertTrue(cases.user_id.active, cases.user_id.name)
        self.assertTrue(cases.user_id.has_group("credit_control.credit_control_group_manager"))
