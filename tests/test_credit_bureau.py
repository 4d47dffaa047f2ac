import base64
import csv
import io
from datetime import date
from pathlib import Path
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import CreditControlCommon

DATA = Path(__file__).parent / "data"
HEADER_INDEX = (
    "Identifier;VAT;Register Number;Name;Index;Risk Class;PD %;Recommended Limit;Currency;"
    "Report Date;Valid Until;Insolvency;Negative Feature"
)


@tagged("post_install", "-at_install")
class TestCreditBureau(CreditControlCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.index_provider = cls.env.ref("credit_control.credit_bureau_provider_index_100_600")
        cls.failure_provider = cls.env.ref("credit_control.credit_bureau_provider_failure_score_1_100")
        cls.class_provider = cls.env.ref("credit_control.credit_bureau_provider_risk_class_1_6")
        cls.customer.write({"vat": "DE 136 695 976"})
        cls.registered = cls.env["res.partner"].create(
            {"name": "Registered Ltd", "is_company": True, "company_registry": "HRB4711"}
        )

    # --- helpers --- #
    def _import(self, provider, content, user=None, filename="bureau.csv"):
        if isinstance(content, str):
            content = content.encode("utf-8")
        wizard = (
            self.env["credit.bureau.import"]
            .with_user(user or self.collector)
            .create({"provider_id": provider.id, "file": base64.b64encode(content), "filename": filename})
        )
        wizard.action_import()
        return wizard

    def _index_file(self, *rows):
        return "\n".join([HEADER_INDEX, *rows]) + "\n"

    def _checks(self, partner=None):
        return self.env["credit.check"].search([("partner_id", "=", (partner or self.customer).id)])

    # --- import, both scale directions --- #
    def test_import_index_lower_is_better_matched_by_vat(self):
        wizard = self._import(self.index_provider, (DATA / "bureau_index_100_600.csv").read_bytes())
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 0))
        line = wizard.line_ids
        self.assertEqual((line.partner_id, line.matched_by), (self.customer, "vat"))
        check = line.check_id
        self.assertEqual(check.partner_id, self.customer)
        self.assertEqual((check.kind, check.state), ("bureau", "draft"))
        self.assertEqual(check.bureau_provider_id, self.index_provider)
        self.assertEqual(check.provider_ref, "CR-1001")
        self.assertEqual(
            (check.provider_score, check.score_scale_min, check.score_scale_max), (250, 100, 600)
        )
        self.assertTrue(check.score_lower_is_better)
        # 250 on 100 (best) to 600 (worst): 1 - 150 / 500 = 70 points
        self.assertEqual(check.score_normalized, 70)
        self.assertEqual(check.bureau_risk_class, "2")
        self.assertAlmostEqual(check.bureau_default_probability, 1.25)
        self.assertEqual(check.recommended_limit, 50000)
        self.assertEqual((check.date, check.date_end), (date(2026, 11, 1), date(2027, 11, 1)))
        self.assertFalse(check.bureau_negative_flags)
        # the identifier is learnt: the next file matches by it
        identifier = self.env["credit.bureau.identifier"].search(
            [("provider_id", "=", self.index_provider.id)]
        )
        self.assertEqual((identifier.name, identifier.partner_id), ("CR-1001", self.customer))
        wizard = self._import(
            self.index_provider, self._index_file("CR-1001;;;Other Name;150;1;;;;02.11.2026;;;")
        )
        self.assertEqual(
            (wizard.line_ids.partner_id, wizard.line_ids.matched_by), (self.customer, "identifier")
        )
        self.assertEqual(wizard.line_ids.check_id.score_normalized, 90)

    def test_import_failure_score_higher_is_better_matched_by_register(self):
        wizard = self._import(self.failure_provider, (DATA / "bureau_failure_score_1_100.csv").read_bytes())
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 0))
        self.assertEqual(
            (wizard.line_ids.partner_id, wizard.line_ids.matched_by), (self.registered, "register")
        )
        check = wizard.line_ids.check_id
        self.assertFalse(check.score_lower_is_better)
        # 80 on 1 (worst) to 100 (best): 79 / 99 = 80 points
        self.assertEqual(check.score_normalized, 80)
        self.assertEqual(check.recommended_limit, 20000)
        self.assertAlmostEqual(check.bureau_default_probability, 0.5)
        self.assertEqual(check.bureau_risk_class, "Low")
        self.assertEqual(check.date_end, date(2027, 5, 1))

    def test_import_xlsx_risk_class(self):
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(
            [
                "Identifier",
                "VAT",
                "Register Number",
                "Name",
                "Risk Class",
                "Recommended Limit",
                "Currency",
                "Report Date",
                "Valid Until",
                "Insolvency",
            ]
        )
        sheet.append(["X-1", None, None, "Registered Ltd", 2, 15000, "EUR", date(2026, 10, 1), None, None])
        buffer = io.BytesIO()
        book.save(buffer)
        wizard = self._import(self.class_provider, buffer.getvalue(), filename="bureau.xlsx")
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 0))
        check = wizard.line_ids.check_id
        self.assertEqual((check.partner_id, wizard.line_ids.matched_by), (self.registered, "name"))
        # class 2 on 1 (best) to 6 (worst): 1 - 1 / 5 = 80 points
        self.assertEqual(check.score_normalized, 80)
        self.assertEqual((check.recommended_limit, check.date), (15000, date(2026, 10, 1)))

    def test_name_matches_only_when_unique(self):
        self.env["res.partner"].create([{"name": "Twin AG", "is_company": True}] * 2)
        wizard = self._import(self.index_provider, self._index_file("T-1;;;Twin AG;200;;;;;01.11.2026;;;"))
        self.assertEqual(wizard.rejected_count, 1)
        self.assertIn("2 customers have the name Twin AG", wizard.line_ids.reason)
        self.assertFalse(wizard.line_ids.check_id)

    def test_match_by_register_number_ignores_spaces_and_hrb(self):
        self.assertEqual(self.env["credit.bureau.import"]._name, "credit.bureau.import")
        wizard = self._import(self.index_provider, self._index_file("R-1;;hrb 4711;;200;;;;;01.11.2026;;;"))
        self.assertEqual(
            (wizard.line_ids.partner_id, wizard.line_ids.matched_by), (self.registered, "register")
        )

    def test_contacts_and_other_companies_do_not_match(self):
        other = self.env["res.partner"].create(
            {
                "name": "Elsewhere GmbH",
                "is_company": True,
                "vat": "DE 811 907 980",
                "company_id": self.setup_other_company(name="Zweite GmbH")["company"].id,
            }
        )
        self.env["res.partner"].create({"name": "Contact Person", "parent_id": self.customer.id})
        wizard = self._import(
            self.index_provider,
            self._index_file(
                f"O-1;{other.vat};;;200;;;;;01.11.2026;;;", "O-2;;;Contact Person;200;;;;;01.11.2026;;;"
            ),
        )
        self.assertEqual(wizard.line_ids.mapped("reason"), ["no customer found"] * 2)

    def test_matching_is_set_based(self):
        """The matching runs one query per key kind, whatever the number of rows."""
        partners = self.env["res.partner"].create(
            [
                {"name": f"Set Based {n}", "is_company": True, "company_registry": f"HRB 9{n:03d}"}
                for n in range(12)
            ]
        )
        self.assertEqual(len(partners), 12)

        def rows(count):
            return [
                {
                    "identifier": f"S-{n}",
                    "vat": f"DE{n:09d}",
                    "register": f"9{n:03d}",
                    "name": f"Set Based {n}",
                    "partner": None,
                    "matched_by": None,
                    "error": None,
                }
                for n in range(count)
            ]

        wizard = self.env["credit.bureau.import"].create(
            {"provider_id": self.index_provider.id, "file": base64.b64encode(b"x")}
        )
        wizard._match_rows(rows(1))  # warm the caches (access rights, rules)
        few, many = rows(2), rows(12)
        self.assertEqual(
            self._count_queries(lambda: wizard._match_rows(few)),
            self._count_queries(lambda: wizard._match_rows(many)),
        )
        self.assertEqual([row["partner"] for row in many], list(partners))

    # --- bad rows --- #
    def test_bad_rows_are_reported_and_not_written(self):
        names = [
            "Second Customer KG",
            "Third Customer KG",
            "Fourth Customer KG",
            "Fifth Customer KG",
            "Sixth Customer KG",
        ]
        others = self.env["res.partner"].create([{"name": name, "is_company": True} for name in names])
        wizard = self._import(self.index_provider, (DATA / "bureau_bad_rows.csv").read_bytes())
        self.assertEqual((wizard.imported_count, wizard.rejected_count), (1, 6))
        reasons = {line.row: line.reason for line in wizard.line_ids}
        self.assertFalse(reasons[2])
        self.assertEqual(reasons[3], "no customer found")
        self.assertEqual(reasons[4], "score drei is not a number")
        self.assertEqual(reasons[5], "score 700.0 outside the scale 100.0 to 600.0")
        self.assertEqual(reasons[6], "unknown currency XYZ")
        self.assertEqual(reasons[7], "identifier CR-6 appears in lines 7, 8")
        self.assertEqual(reasons[8], "identifier CR-6 appears in lines 7, 8")
        # only the good row became a check; no identifier learnt from a rejected row
        self.assertEqual(len(self._checks()), 1)
        self.assertFalse(self.env["credit.check"].search([("partner_id", "in", others.ids)]))
        learnt = self.env["credit.bureau.identifier"].search([("provider_id", "=", self.index_provider.id)])
        self.assertEqual(learnt.mapped("name"), ["CR-1"])
        # the rejects as a CSV: the original rows with their reason
        rejects = list(
            csv.reader(io.StringIO(base64.b64decode(wizard.reject_file).decode("utf-8-sig")), delimiter=";")
        )
        self.assertEqual(rejects[0][-1], "Reason")
        self.assertEqual([row[0] for row in rejects[1:]], ["CR-2", "CR-3", "CR-4", "CR-5", "CR-6", "CR-6"])
        self.assertEqual(rejects[2][-1], "score drei is not a number")
        self.assertEqual(wizard.reject_filename, "bureau-rejected.csv")

    def test_two_rows_for_one_customer_are_rejected(self):
        wizard = self._import(
            self.index_provider,
            self._index_file(
                "A-1;DE136695976;;;200;;;;;01.11.2026;;;", "A-2;;;Muster GmbH;300;;;;;01.11.2026;;;"
            ),
        )
        self.assertEqual(wizard.rejected_count, 2)
        self.assertIn("lines 2, 3 are for the same customer", wizard.line_ids[0].reason)
        self.assertFalse(self._checks())

    def test_failing_batch_writes_nothing(self):
        """Valid rows are created in one batch inside a savepoint: if the batch fails, no check and
        no learnt identifier stays, and the user is told."""
        check_class = type(self.env["credit.check"])
        with (
            patch.object(check_class, "_bureau_monitor", side_effect=ValidationError("monitor failed")),
            self.assertRaisesRegex(UserError, "Nothing was imported: monitor failed"),
        ):
            self._import(self.index_provider, (DATA / "bureau_index_100_600.csv").read_bytes())
        self.assertFalse(self._checks())
        self.assertFalse(self.env["credit.bureau.identifier"].search([("partner_id", "=", self.customer.id)]))

    def test_missing_columns_refused(self):
        with self.assertRaisesRegex(UserError, "lacks the columns .*Index"):
            self._import(self.index_provider, "Identifier;Name\nX;Muster GmbH\n")

    def test_provider_scale_and_columns_validated(self):
        with self.assertRaisesRegex(ValidationError, "must start below its end"):
            self.index_provider.copy({"score_scale_min": 600, "score_scale_max": 100})
        with self.assertRaisesRegex(ValidationError, "at least one column to find the customer"):
            self.env["credit.bureau.provider"].create({"name": "No keys", "col_score": "Score"})

    # --- monitoring --- #
    def _watch(self, partner=None):
        partner = (partner or self.customer).with_company(self.company)
        partner.with_user(self.credit_manager).write({"credit_bureau_watch": True})
        return partner

    def _alert_tasks(self, partner=None):
        return self.env["credit.task"].search(
            [("partner_id", "=", (partner or self.customer).id), ("origin", "=", "bureau_alert")]
        )

    def test_monitoring_task_and_proposed_hold(self):
        self.company.write({"credit_bureau_threshold": 10, "credit_bureau_propose_hold": True})
        self.customer.with_company(self.company).credit_manager_id = self.credit_manager
        self._watch()
        first = self._import(
            self.index_provider, self._index_file("CR-9;DE136695976;;;200;;;;;01.10.2026;;;")
        )
        self.assertEqual(first.line_ids.check_id.score_normalized, 80)
        self.assertFalse(self._alert_tasks())
        # 80 -> 74: a drop of 6 points stays below the threshold
        second = self._import(self.index_provider, self._index_file("CR-9;;;;230;;;;;01.11.2026;;;"))
        self.assertEqual(second.line_ids.check_id.bureau_score_drop, 0)
        self.assertFalse(self._alert_tasks())
        # 74 -> 40: a drop of 34 points
        third = self._import(self.index_provider, self._index_file("CR-9;;;;400;;;;;01.12.2026;;;"))
        check = third.line_ids.check_id
        self.assertEqual(third.alert_count, 1)
        self.assertTrue(check.bureau_alert)
        self.assertEqual(check.bureau_score_drop, 34)
        self.assertEqual(check.bureau_hold_state, "proposed")
        task = self._alert_tasks()
        self.assertEqual(len(task), 1)
        self.assertEqual(
            (task.user_id, task.bureau_check_id, task.task_type), (self.credit_manager, check, "credit_check")
        )
        self.assertIn("score fell by 34 points", task.name)
        self.assertTrue(task.activity_ids.filtered(lambda activity: activity.user_id == self.credit_manager))
        # the hold is proposed, not set
        profile = self.customer.with_company(self.company)
        self.assertFalse(profile.credit_hold)
        # a collector cannot confirm it; the credit manager can, from the task
        with self.assertRaises(AccessError):
            task.with_user(self.collector).action_bureau_confirm_hold()
        task.with_user(self.credit_manager).action_bureau_confirm_hold()
        self.assertTrue(profile.credit_hold)
        self.assertIn(check.name, profile.credit_hold_reason)
        self.assertEqual(check.bureau_hold_state, "confirmed")
        self.assertFalse(task.is_open)
        with self.assertRaisesRegex(UserError, "Only a proposed credit hold"):
            check.with_user(self.credit_manager).action_bureau_dismiss_hold()

    def test_previous_check_of_another_bureau_not_compared(self):
        self._watch()
        self._import(
            self.failure_provider,
            "Company Number,VAT Number,Registration Number,Company Name,"
            "Failure Score,Risk Band,Probability of Failure,Credit Limit,Currency,Report Date,"
            "Valid Until,Insolvency\nF-1,DE136695976,,,100,,,,,2026-10-01,,\n",
        )
        wizard = self._import(
            self.index_provider, self._index_file("CR-9;DE136695976;;;500;;;;;01.11.2026;;;")
        )
        self.assertEqual(wizard.line_ids.check_id.score_normalized, 20)
        self.assertFalse(wizard.line_ids.check_id.bureau_alert)
        self.assertFalse(self._alert_tasks())

    def test_negative_flag_alerts_watched_customer_only(self):
        other = self.env["res.partner"].create({"name": "Unwatched AG", "is_company": True})
        self._watch()
        wizard = self._import(
            self.index_provider,
            self._index_file(
                "N-1;DE136695976;;;200;;;;;01.11.2026;;ja;", "N-2;;;Unwatched AG;200;;;;;01.11.2026;;x;"
            ),
        )
        checks = wizard.line_ids.check_id
        self.assertEqual(checks.mapped("bureau_negative_flags"), ["Insolvency", "Insolvency"])
        self.assertEqual(checks.mapped("bureau_alert"), [True, False])
        task = self._alert_tasks()
        self.assertEqual(task.priority, "2")
        self.assertFalse(self._alert_tasks(other))
        # without the company setting, no hold is proposed
        self.assertFalse(checks[0].bureau_hold_state)

    def test_dismiss_proposed_hold(self):
        self.company.credit_bureau_propose_hold = True
        self._watch()
        wizard = self._import(
            self.index_provider, self._index_file("N-1;DE136695976;;;200;;;;;01.11.2026;;1;")
        )
        check = wizard.line_ids.check_id
        check.with_user(self.credit_manager).action_bureau_dismiss_hold()
        self.assertEqual(check.bureau_hold_state, "dismissed")
        self.assertFalse(self.customer.with_company(self.company).credit_hold)
        self.assertFalse(self._alert_tasks().is_open)

    def test_threshold_validated(self):
        with self.assertRaisesRegex(ValidationError, "between 0 and 100"):
            self.company.credit_bureau_threshold = 101

    # --- access --- #
    def test_sales_user_cannot_import(self):
        with self.assertRaises(AccessError):
            self._import(
                self.index_provider, (DATA / "bureau_index_100_600.csv").read_bytes(), user=self.sales_user
            )
        self.assertFalse(self._checks())

    def test_only_credit_managers_set_the_watch_flag(self):
        for user in (self.sales_user, self.collector):
            with self.assertRaisesRegex(AccessError, "Only Credit Managers may put a customer under bureau"):
                self.customer.with_user(user).write({"credit_bureau_watch": True})
            with self.assertRaisesRegex(AccessError, "Only Credit Managers may put a customer under bureau"):
                self.env["res.partner"].with_user(user).create(
                    {"name": "New Watched", "is_company": True, "credit_bureau_watch": True}
                )
        # a default_* key does not pre-set it for them
        defaults = (
            self.env["res.partner"]
            .with_user(self.sales_user)
            .with_context(default_credit_bureau_watch=True)
            .default_get(["name", "credit_bureau_watch"])
        )
        self.assertFalse(defaults.get("credit_bureau_watch"))
        self._watch()
        self.assertTrue(self.customer.with_company(self.company).credit_bureau_watch)

    def test_monitoring_fields_not_set_by_hand(self):
        with self.assertRaisesRegex(AccessError, "set by the bureau import only"):
            self.env["credit.check"].with_user(self.collector).create(
                {"partner_id": self.customer.id, "provider_score": 50, "bureau_hold_state": "proposed"}
            )
        check = (
            self.env["credit.check"]
            .with_user(self.collector)
            .create({"partner_id": self.customer.id, "provider_score": 50})
        )
        with self.assertRaisesRegex(AccessError, "set by the bureau import only"):
            check.write({"bureau_alert": True})
        defaults = (
            self.env["credit.check"]
            .with_user(self.collector)
            .with_context(default_bureau_hold_state="proposed")
            .default_get(["bureau_hold_state"])
        )
        self.assertFalse(defaults.get("bureau_hold_state"))

    def test_open_alert_task_follows_the_latest_alert(self):
        self._watch()
        first = self._import(
            self.index_provider, self._index_file("N-1;DE136695976;;;200;;;;;01.10.2026;;1;")
        )
        second = self._import(self.index_provider, self._index_file("N-1;;;;500;;;;;01.11.2026;;;"))
        task = self._alert_tasks()
        self.assertEqual(len(task), 1)
        self.assertTrue(first.line_ids.check_id.bureau_alert)
        self.assertEqual(second.line_ids.check_id.bureau_score_drop, 60)
        self.assertEqual(task.bureau_check_id, second.line_ids.check_id)
        self.assertIn("score fell by 60 points", task.message_ids[0].body)
