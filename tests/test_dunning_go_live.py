from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningGoLive(DunningCommon):
    """Go-live of the automatic dunning per company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.old = cls._invoice(100.0, days_ago=200)
        cls.recent = cls._invoice(100.0, days_ago=10)

    def _automatic_runs(self):
        return self.run_model.search([("company_id", "=", self.company.id), ("is_automatic", "=", True)])

    def test_nothing_automatic_before_the_start_date(self):
        self.assertFalse(self.company.credit_dunning_start_date, "off after installation")
        self.run_model._cron_dunning()
        self.assertFalse(self._automatic_runs())
        self.assertFalse((self.old | self.recent).credit_dunning_level_id)
        status = self.company._credit_dunning_go_live_status()
        self.assertFalse(status["active"])
        self.assertIn("Automatic dunning is off", status["message"])
        # a start date in the future: still nothing
        self.company.credit_dunning_start_date = self.today + timedelta(days=1)
        self.run_model._cron_dunning()
        self.assertFalse(self._automatic_runs())
        self.assertIn("starts on", self.company._credit_dunning_go_live_status()["message"])
        # proposals by hand work regardless
        self.assertTrue(self._propose())

    def test_first_automatic_run_is_a_proposal_for_review(self):
        self.company.credit_dunning_start_date = self.today
        self.assertTrue(self.company.credit_dunning_first_run_review, "review of the first run by default")
        self.run_model._cron_dunning()
        run = self._automatic_runs()
        self.assertEqual(run.state, "draft")
        self.assertFalse(run.letter_ids.email_message_id)
        self.assertFalse((self.old | self.recent).credit_dunning_level_id)
        notice = run.message_ids.filtered(lambda m: "review and validate" in (m.body or ""))
        self.assertIn(self.credit_manager.partner_id, notice.partner_ids)
        self.assertTrue(self.company._credit_dunning_go_live_status()["review_pending"])
        # a person validates it; from then on the automatic dunning sends
        run.with_user(self.collector).action_validate()
        self.assertFalse(self.company._credit_dunning_review_pending())
        self.assertEqual(
            self.company._credit_dunning_go_live_status()["message"], "Automatic dunning is active."
        )
        other = self.env["res.partner"].create(
            {"name": "Andere KG", "is_company": True, "email": "a@b.example"}
        )
        self._invoice(100.0, partner=other, days_ago=10)
        self.run_model._cron_dunning()
        second = self._automatic_runs() - run
        self.assertEqual(second.state, "done")
        self.assertEqual(second.letter_ids.partner_id, other)

    def test_items_due_before_the_items_from_date_never_dunned_automatically(self):
        self.company.write(
            {
                "credit_dunning_start_date": self.today,
                "credit_dunning_items_from": self.today - timedelta(days=30),
                "credit_dunning_first_run_review": False,
            }
        )
        self.run_model._cron_dunning()
        run = self._automatic_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.line_ids.move_id, self.recent)
        self.assertFalse(self.old.credit_dunning_level_id)
        # a collector may still propose it by hand
        manual = self._propose()
        self.assertEqual(manual.line_ids.filtered("is_escalation").move_id, self.old)

    def test_one_letter_per_invoice_at_the_chosen_first_level(self):
        # 200 days overdue, never dunned: one letter at the first level (the default)
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 1)
        self.assertEqual(self._line_of(run, self.old).level_id, self.reminder)
        run._action_cancel("try the other rule")
        # the level matching its age: still one letter, at the highest level reached
        self.company.credit_dunning_start_level = "age"
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 1)
        self.assertEqual(self._line_of(run, self.old).level_id, self.final)
        self.assertEqual(self._line_of(run, self.recent).level_id, self.reminder)
        run._action_cancel("automatic levels only")
        # automatically: the highest automatic level its age reaches
        self.company.write(
            {"credit_dunning_start_date": self.today, "credit_dunning_first_run_review": False}
        )
        self.run_model._cron_dunning()
        self.assertEqual(self.old.credit_dunning_level_id, self.first)
        self.assertEqual(len(self._automatic_runs().letter_ids), 1)

    def test_only_a_credit_manager_sets_the_go_live(self):
        admin = new_test_user(
            self.env,
            "cc_settings_admin",
            groups="base.group_user,base.group_erp_manager",
            company_id=self.company.id,
        )
        with self._raises(AccessError, "Only a Credit Manager sets the go-live"):
            self.company.with_user(admin).write({"credit_dunning_start_date": self.today})
        self.assertFalse(self.company.credit_dunning_start_date)
        with self.assertRaises(AccessError) as caught:
            self.company.with_user(self.collector).write({"credit_dunning_start_date": self.today})
        self.assertRegex(str(caught.exception), r"You are not allowed to modify 'Companies'")
        settings = self.env["res.config.settings"].create({"credit_dunning_start_date": self.today})
        settings.execute()
        self.assertEqual(self.company.credit_dunning_start_date, self.today)
