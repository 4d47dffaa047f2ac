from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestCreditCheck(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rating_a = cls.env.ref("credit_control.credit_rating_a")
        cls.rating_b = cls.env.ref("credit_control.credit_rating_b")
        cls.rating_c = cls.env.ref("credit_control.credit_rating_c")
        cls.rating_d = cls.env.ref("credit_control.credit_rating_d")
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")

    def _check(self, user=None, **vals):
        values = {
            "partner_id": self.customer.id,
            "kind": "bureau",
            "provider_name": "Creditreform",
            "provider_score": 80,
            "date": self.today,
        }
        values.update(vals)
        return self.env["credit.check"].with_user(user or self.collector).create(values)

    def _profile(self, partner=None):
        return (partner or self.customer).with_company(self.company)

    def _review_activities(self, partner=None):
        # a review coming due is a credit task with a to-do activity for the assignee
        tasks = self.env["credit.task"].search(
            [("partner_id", "=", (partner or self.customer).id), ("origin", "=", "review_due")]
        )
        self.assertTrue(all(task.task_type == "review" and task.team == "credit" for task in tasks))
        return tasks.activity_ids.filtered(lambda a: a.activity_type_id == self.todo)

    # --- approval --- #
    def test_approval_sets_rating_and_limit(self):
        date_end = self.today + timedelta(days=365)
        check = self._check(
            provider_score=225,
            score_scale_min=100,
            score_scale_max=600,
            score_lower_is_better=True,
            approved_limit=20000,
            date_end=date_end,
        )
        self.assertEqual(check.partner_id, self.customer)
        self.assertEqual(check.score_normalized, 75)
        self.assertEqual(check.rating_id, self.rating_b, "75 falls into B (60-79)")
        self.assertTrue(check.has_approved_limit, "an approved amount means the limit is set")

        check.with_user(self.credit_manager).action_done()

        self.assertEqual(check.state, "done")
        self.assertEqual(check.decided_by_id, self.credit_manager)
        self.assertEqual(check.decision_date, self.today)
        profile = self._profile()
        self.assertEqual(profile.credit_rating_id, self.rating_b)
        self.assertEqual(profile.credit_score, 75)
        self.assertEqual(profile.credit_rating_source, "check")
        self.assertEqual(profile.credit_rating_date, self.today)
        self.assertEqual(profile.credit_limit, 20000)
        self.assertTrue(profile.credit_limit_set)
        self.assertEqual(profile.credit_limit_date_end, date_end)
        self.assertTrue(any(check.name in message.body for message in self.customer.message_ids))
        self.assertEqual(self.env["credit.check"]._latest_valid_check(self.contact, self.company), check)

    def test_approval_of_zero_limit_means_prepayment(self):
        check = self._check(provider_score=10, has_approved_limit=True, approved_limit=0)
        check.with_user(self.credit_manager).action_done()
        profile = self._profile()
        self.assertTrue(profile.credit_limit_set)
        self.assertEqual(profile.credit_limit, 0)

    def test_approval_without_limit_keeps_the_limit(self):
        self._set_limit(self.customer, 5000)
        check = self._check(provider_score=90)
        self.assertFalse(check.has_approved_limit)
        check.with_user(self.credit_manager).action_done()
        profile = self._profile()
        self.assertEqual(profile.credit_rating_id, self.rating_a)
        self.assertEqual(profile.credit_limit, 5000)

    def test_newer_check_replaces_older_and_expired_is_ignored(self):
        manager = self.credit_manager
        older = self._check(date=self.today - timedelta(days=10), provider_score=90, approved_limit=30000)
        older.with_user(manager).action_done()
        self.assertEqual(self._profile().credit_rating_id, self.rating_a)

        newer = self._check(
            date=self.today, provider_score=30, approved_limit=2000, date_end=self.today + timedelta(days=10)
        )
        newer.with_user(manager).action_done()
        profile = self._profile()
        self.assertEqual(profile.credit_rating_id, self.rating_d)
        self.assertEqual(profile.credit_limit, 2000)

        # approving a check dated before the latest one does not override it
        oldest = self._check(date=self.today - timedelta(days=20), provider_score=50, approved_limit=9000)
        oldest.with_user(manager).action_done()
        self.assertEqual(profile.credit_rating_id, self.rating_d)
        self.assertEqual(profile.credit_limit, 2000)

        # once the latest check has run out, it no longer counts
        with freeze_time(self.today + timedelta(days=20)):
            self.assertEqual(self.env["credit.check"]._latest_valid_check(self.customer, self.company), older)
            renewal = self._check(
                date=self.today - timedelta(days=5), provider_score=65, approved_limit=15000
            )
            renewal.with_user(manager).action_done()
            self.assertEqual(profile.credit_rating_id, self.rating_b)
            self.assertEqual(profile.credit_limit, 15000)

    def test_collector_cannot_approve(self):
        check = self._check()
        check.with_user(self.collector).write({"provider_ref": "CR-4711", "approved_limit": 1000})
        with self.assertRaises(AccessError) as caught:
            check.with_user(self.collector).action_done()
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may approve or withdraw credit checks\."
        )
        with self.assertRaises(AccessError) as caught:
            check.with_user(self.collector).write({"state": "done"})
        self.assertRegex(
            str(caught.exception),
            r"Credit checks are approved, cancelled and expired only through their buttons\.",
        )
        with self.assertRaises(AccessError) as caught:
            self._check(state="done")
        self.assertRegex(
            str(caught.exception),
            r"Credit checks are approved, cancelled and expired only through their buttons\.",
        )
        with self.assertRaises(AccessError) as caught:
            self._check(user=self.sales_user)
        self.assertRegex(str(caught.exception), r"You are not allowed to create 'Credit Check'")
        self.assertEqual(check.state, "draft")
        self.assertFalse(self._profile().credit_rating_id)

        check.with_user(self.credit_manager).action_done()
        with self.assertRaises(AccessError) as caught:
            check.with_user(self.collector).write({"approved_limit": 99999})
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may change a credit check that is no longer a draft"
        )
        with self.assertRaises(AccessError) as caught:
            check.with_user(self.collector).action_cancel()
        self.assertRegex(
            str(caught.exception), r"Only Credit Managers may approve or withdraw credit checks\."
        )
        with self.assertRaises(UserError) as caught:
            check.with_user(self.collector).unlink()
        self.assertRegex(
            str(caught.exception),
            r"Credit checks that were decided document a credit decision and cannot be deleted",
        )
        with self.assertRaises(UserError) as caught:
            check.with_user(self.credit_manager).unlink()
        self.assertRegex(
            str(caught.exception),
            r"Credit checks that were decided document a credit decision and cannot be deleted",
        )
        # drafts may be deleted by the credit team
        self._check().with_user(self.collector).unlink()

    def test_unscored_check_needs_a_rating(self):
        check = self._check(kind="bank", provider_name="Sparkasse", provider_score=0)
        self.assertFalse(check.has_score)
        self.assertFalse(check.rating_id)
        with self.assertRaises(UserError) as caught:
            check.with_user(self.credit_manager).action_done()
        self.assertRegex(
            str(caught.exception), r"Credit check.*has no score: choose the risk rating it results in\."
        )
        check.rating_id = self.rating_c
        self.assertEqual(check.score_normalized, 49, "the middle of C (40-59)")
        check.with_user(self.credit_manager).action_done()
        self.assertEqual(self._profile().credit_rating_id, self.rating_c)
        self.assertEqual(self._profile().credit_score, 49)

    def test_form_proposes_rating_and_toggles_score(self):
        with Form(self.env["credit.check"].with_user(self.collector)) as form:
            form.partner_id = self.contact
            form.score_scale_min = 100
            form.score_scale_max = 600
            form.score_lower_is_better = True
            form.provider_score = 150
            self.assertEqual(form.score_normalized, 90)
            self.assertEqual(form.rating_id, self.rating_a)
            form.approved_limit = 8000
            self.assertTrue(form.has_approved_limit)
            form.kind = "trade"
            self.assertFalse(form.has_score)
            form.rating_id = self.rating_b
        check = form.record
        self.assertEqual(check.partner_id, self.customer)
        self.assertEqual(check.score_normalized, 69, "the middle of B (60-79)")

    def test_manual_rating_overrides_proposal(self):
        check = self._check(provider_score=90, rating_id=self.rating_c.id)
        self.assertEqual(check.rating_id, self.rating_c)
        self.assertEqual(check.score_normalized, 90)

    # --- score --- #
    def test_score_normalisation(self):
        check = self._check(provider_score=75)
        self.assertEqual(check.score_normalized, 75)
        self.assertEqual(check.rating_id, self.rating_b)
        check.write(
            {
                "score_scale_min": 100,
                "score_scale_max": 600,
                "score_lower_is_better": True,
                "provider_score": 100,
            }
        )
        for provider_score, expected in ((100, 100), (600, 0), (350, 50), (225, 75), (480, 24)):
            check.provider_score = provider_score
            self.assertEqual(check.score_normalized, expected, provider_score)
        self.assertEqual(check.rating_id, self.rating_d, "24 falls into D (20-39)")
        check.write(
            {
                "score_scale_min": 1,
                "score_scale_max": 10,
                "score_lower_is_better": False,
                "provider_score": 8.5,
            }
        )
        self.assertEqual(check.score_normalized, 83)

    def test_constraints(self):
        with self.assertRaisesRegex(ValidationError, "outside its scale"):
            self._check(provider_score=700, score_scale_min=100, score_scale_max=600)
        with self.assertRaisesRegex(ValidationError, "outside its scale"):
            self._check(provider_score=0, score_scale_min=100, score_scale_max=600)
        with self.assertRaisesRegex(ValidationError, "scale"):
            self._check(provider_score=5, score_scale_min=10, score_scale_max=10)
        with self.assertRaisesRegex(ValidationError, "valid until"):
            self._check(date_end=self.today)
        with self.assertRaisesRegex(ValidationError, "negative"):
            self._check(approved_limit=-1)
        # no score, no scale check
        check = self._check(kind="trade", provider_score=0, score_scale_min=100, score_scale_max=600)
        self.assertFalse(check.has_score)

    # --- identifiers --- #
    def _issues(self, **partner_vals):
        self.customer.write(partner_vals)
        check = self._check()
        check.invalidate_recordset(["identifier_issues", "identifiers_valid"])
        return check

    def test_identifiers_valid(self):
        check = self._issues(
            vat="DE136695976",
            country_id=self.env.ref("base.de").id,
            company_registry="Berlin HRB 12345",
        )
        self.env["res.partner.bank"].create(
            {"partner_id": self.customer.id, "acc_number": "DE89 3704 0044 0532 0130 00"}
        )
        check.invalidate_recordset(["identifier_issues", "identifiers_valid"])
        self.assertTrue(check.identifiers_valid, check.identifier_issues)
        self.assertFalse(check.identifier_issues)

    def test_identifier_invalid_vat_checksum(self):
        check = self._issues(vat="DE136695977", country_id=self.env.ref("base.de").id)
        self.assertFalse(check.identifiers_valid)
        self.assertIn("DE136695977", check.identifier_issues)
        self.assertIn("wrong check digit", check.identifier_issues)

    def test_identifier_invalid_iban_and_register(self):
        check = self._issues(country_id=self.env.ref("base.de").id, company_registry="HRB 12345")
        self.env["res.partner.bank"].create(
            [
                {"partner_id": self.customer.id, "acc_number": "DE89370400440532013001"},
                {"partner_id": self.customer.id, "acc_number": "0532013000"},  # not an IBAN: skipped
            ]
        )
        check.invalidate_recordset(["identifier_issues", "identifiers_valid"])
        self.assertFalse(check.identifiers_valid)
        issues = check._get_identifier_issues()
        self.assertEqual(
            [(label, value) for label, value, _reason in issues],
            [("Commercial Register", "HRB 12345"), ("IBAN", "DE89370400440532013001")],
        )
        self.assertEqual(issues[1][2], "wrong check digit")

    def test_identifier_odd_input(self):
        de = self.env.ref("base.de")
        cases = [
            ({"vat": " de 136 695 976 ", "country_id": de.id}, []),
            ({"vat": "/", "country_id": de.id}, []),
            ({"vat": "   ", "country_id": False}, []),
            ({"vat": "FR40303265045", "country_id": de.id}, ["does not match"]),
            ({"vat": "XX123", "country_id": de.id}, ["VAT"]),
            ({"vat": "XX123", "country_id": False}, ["unknown country prefix XX"]),
            ({"vat": "12345", "country_id": False}, []),
            ({"vat": "DE", "country_id": de.id}, ["VAT"]),
            ({"vat": "CHE-116.281.710 MWST", "country_id": self.env.ref("base.ch").id}, []),
            ({"vat": False, "company_registry": "ü?!", "country_id": de.id}, ["Commercial Register"]),
        ]
        for vals, expected in cases:
            with self.subTest(vals=vals):
                check = self._issues(**vals)
                html = str(check.identifier_issues or "")
                self.assertEqual(check.identifiers_valid, not expected, html)
                for text in expected:
                    self.assertIn(text, html)
        self.assertEqual(self.env["credit.check"].new({})._get_identifier_issues(), [])

    # --- scheduled review --- #
    def test_review_cron(self):
        profile = self._profile()
        profile.credit_manager_id = self.credit_manager
        self.company.credit_review_lead_days = 30
        date_end = self.today + timedelta(days=60)
        check = self._check(approved_limit=10000, date_end=date_end)
        check.with_user(self.credit_manager).action_done()
        self.assertEqual(profile.credit_limit_date_end, date_end)
        Check = self.env["credit.check"]

        with freeze_time(self.today + timedelta(days=20)):
            Check._cron_review_checks()
            self.assertFalse(self._review_activities(), "40 days before the end: too early")

        with freeze_time(self.today + timedelta(days=35)):
            Check._cron_review_checks()
            activity = self._review_activities()
            self.assertEqual(len(activity), 1, "check and limit end on the same day: one review")
            self.assertEqual(activity.user_id, self.credit_manager)
            self.assertEqual(activity.date_deadline, date_end)
            self.assertIn(check.name, str(activity.note))
            Check._cron_review_checks()
            self.assertEqual(self._review_activities(), activity, "no second activity while one is open")
            self.assertEqual(check.state, "done")

        with freeze_time(self.today + timedelta(days=61)):
            Check._cron_review_checks()
            self.assertEqual(check.state, "expired")
            self.assertFalse(Check._latest_valid_check(self.customer, self.company))
            self.assertEqual(self._review_activities(), activity)

    def test_review_cron_limit_end_falls_back_to_a_credit_manager(self):
        other = self.env["res.partner"].create({"name": "Beispiel AG", "is_company": True})
        self._profile(other).write(
            {
                "credit_limit": 1000,
                "credit_limit_set": True,
                "credit_limit_date_end": self.today + timedelta(days=5),
            }
        )
        self.company.credit_review_lead_days = 10
        self.env["credit.check"]._cron_review_checks()
        activity = self._review_activities(other)
        self.assertEqual(len(activity), 1)
        self.assertTrue(activity.user_id.has_group("credit_control.credit_control_group_manager"))
        self.assertIn(self.company, activity.user_id.company_ids)

    def test_other_company_check_invisible(self):
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        foreign = self.env["credit.check"].with_company(company_2).create({"partner_id": self.customer.id})
        self.assertEqual(foreign.company_id, company_2)
        own = self._check()
        found = self.env["credit.check"].with_user(self.credit_manager).search([])
        self.assertIn(own, found)
        self.assertNotIn(foreign, found)
