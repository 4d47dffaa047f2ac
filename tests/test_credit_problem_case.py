import io
from datetime import date, datetime, timedelta

import openpyxl

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.credit_control.reports.credit_problem_case import CASE_TYPES

from .worklist_common import T, WorklistLedgerMixin


@tagged("post_install", "-at_install")
class TestCreditProblemCase(WorklistLedgerMixin):
    """The weekly meeting's problem cases: one of each kind on a crafted ledger, owners,
    amounts and next steps; PDF and XLSX; access and company."""

    @classmethod
    def default_env_context(cls):
        # the rating downgrade is read from the chatter's tracking
        return {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, mail_create_nolog=True, no_reset_password=True))
        cls.Cases = cls.env["credit.problem.case"].with_context(problem_date=fields.Date.to_string(T))
        Partner = cls.env["res.partner"]
        cls.over = Partner.create({"name": "Overlimit AG", "is_company": True, "user_id": cls.sales_user.id})
        cls.over.write({"credit_limit": 1000.0, "credit_limit_set": True})
        cls._wl_invoice(cls.over, 1500.0, T - timedelta(days=3), term=cls.term_30)
        # a blocked order (state written as the credit check would)
        cls.blocked = Partner.create({"name": "Blocked GmbH", "is_company": True})
        product = cls.env["product.product"].create({"name": "Widget", "list_price": 400.0})
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.blocked.id,
                "user_id": cls.sales_user.id,
                "order_line": [
                    Command.create({"product_id": product.id, "price_unit": 400.0, "tax_id": False})
                ],
            }
        )
        cls.order._credit_write({"credit_block_state": "blocked"})
        # a broken promise and a kept one
        cls.promiser = Partner.create({"name": "Promiser OHG", "is_company": True})
        inv = cls._wl_invoice(cls.promiser, 900.0, T - timedelta(days=40))
        cls.broken = cls._wl_promise(
            cls.promiser, inv, 600.0, T - timedelta(days=8), "broken", T - timedelta(days=4)
        )
        cls.broken.user_id = cls.collector
        cls._wl_promise(cls.promiser, inv, 100.0, T - timedelta(days=60), "kept", T - timedelta(days=58))
        # an old dispute (20 days) and a young one (3 days)
        cls.disputer = Partner.create({"name": "Disputer SE", "is_company": True})
        inv_d = cls._wl_invoice(cls.disputer, 2000.0, T - timedelta(days=30))
        cls.old_dispute, young = cls.env["credit.dispute"].create(
            [
                {
                    "partner_id": cls.disputer.id,
                    "move_ids": [Command.set(inv_d.ids)],
                    "amount": amount,
                    "user_id": cls.sales_user.id,
                    "date_deadline": T + timedelta(days=5),
                }
                for amount in (700.0, 50.0)
            ]
        )
        cls.env.flush_all()
        for dispute, days in ((cls.old_dispute, 20), (young, 3)):
            cls.env.cr.execute(
                "UPDATE credit_dispute SET create_date = %s WHERE id = %s",
                (datetime.combine(T - timedelta(days=days), datetime.min.time()), dispute.id),
            )
        # a rating downgrade (B -> D) and an upgrade (D -> B), tracked in the chatter
        cls.down = Partner.create(
            {"name": "Downgrade KG", "is_company": True, "credit_manager_id": cls.credit_manager.id}
        )
        cls.up = Partner.create({"name": "Upgrade KG", "is_company": True})
        rating_b, rating_d = (
            cls.env.ref("credit_control.credit_rating_b"),
            cls.env.ref("credit_control.credit_rating_d"),
        )
        (cls.down | cls.up).with_context(tracking_disable=True).write({"credit_rating_id": rating_b.id})
        # records made in the running transaction are not tracked: as if made the day before
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        cls.down.write({"credit_rating_id": rating_d.id})
        cls.up.with_context(tracking_disable=True).write({"credit_rating_id": rating_d.id})
        cls.env.flush_all()
        cls.env.cr.precommit.run()
        cls.up.write({"credit_rating_id": rating_b.id})
        cls.env.flush_all()
        cls.env.cr.precommit.run()  # the tracking values are written before the commit
        cls.env.cr.execute(
            "UPDATE mail_message SET date = %s WHERE model = 'res.partner' AND res_id IN %s",
            (datetime.combine(T - timedelta(days=2), datetime.min.time()), (cls.down.id, cls.up.id)),
        )
        cls.rating_b, cls.rating_d = rating_b, rating_d
        # escalation: an invoice at the third dunning level of the company's scale
        cls.escalated = Partner.create({"name": "Escalated GmbH", "is_company": True})
        # the company's own scale (default levels of a new company), or three levels made here
        levels = cls.env["credit.dunning.level"].search(
            [("company_id", "=", cls.company.id)], order="sequence, days, id"
        )
        if len(levels) < 4:
            levels.active = False
            levels = cls.env["credit.dunning.level"].create(
                [
                    {"name": name, "days": days, "company_id": cls.company.id, "sequence": seq}
                    for seq, (name, days) in enumerate(
                        (("First", 10), ("Second", 24), ("Third", 38), ("Last", 52))
                    )
                ]
            )
        cls.levels = levels
        inv_e = cls._wl_invoice(cls.escalated, 3000.0, T - timedelta(days=60))
        inv_e2 = cls._wl_invoice(cls.escalated, 1000.0, T - timedelta(days=20))
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE account_move SET credit_dunning_level_id = %s, credit_dunning_date = %s WHERE id = %s",
            (levels[2].id, T - timedelta(days=5), inv_e.id),
        )
        cls.env.cr.execute(
            "UPDATE account_move SET credit_dunning_level_id = %s WHERE id = %s", (levels[0].id, inv_e2.id)
        )
        # limitation: an item of 2023 (time-barred at the end of 2026)
        cls.old = Partner.create({"name": "Old Claims e.K.", "is_company": True})
        cls._wl_invoice(cls.old, 250.0, date(2023, 5, 1))
        cls.env.invalidate_all()

    def _cases(self, cases=None):
        cases = self.Cases if cases is None else cases
        return {(c.case_type, c.partner_id): c for c in cases.search([])}

    def test_cases_owner_amount_next_step(self):
        cases = self._cases()
        over = cases[("over_limit", self.over)]
        self.assertEqual((over.user_id, over.amount, over.amount_ref), (self.sales_user, 500.0, 1000.0))
        self.assertIn("limit", over.facts)
        blocked = cases[("blocked_order", self.blocked)]
        self.assertEqual(
            (blocked.user_id, blocked.amount, blocked.reference), (self.sales_user, 400.0, self.order.name)
        )
        self.assertIn("request a release", blocked.next_step)
        self.assertEqual(blocked.action_open_source()["res_id"], self.order.id)
        broken = cases[("broken_promise", self.promiser)]
        self.assertEqual(
            (broken.user_id, broken.amount, broken.date), (self.collector, 600.0, T - timedelta(days=4))
        )
        self.assertEqual(broken.res_id, self.broken.id)
        dispute = cases[("old_dispute", self.disputer)]
        self.assertEqual((dispute.res_id, dispute.amount, dispute.age_days), (self.old_dispute.id, 700.0, 20))
        self.assertEqual(
            self.Cases.search_count([("case_type", "=", "old_dispute")]),
            1,
            "the 3 days old dispute is not listed",
        )
        down = cases[("rating_downgrade", self.down)]
        self.assertEqual((down.rating_old_id, down.rating_new_id), (self.rating_b, self.rating_d))
        self.assertEqual(down.user_id, self.credit_manager)
        self.assertNotIn(("rating_downgrade", self.up), cases)
        esc = cases[("escalation", self.escalated)]
        self.assertEqual((esc.reference, esc.item_count, esc.amount), (self.levels[2].name, 3, 4000.0))
        self.assertIn("collection agency", esc.next_step)
        lim = cases[("limitation", self.old)]
        self.assertEqual((lim.date, lim.amount, lim.item_count), (date(2026, 12, 31), 250.0, 1))
        self.assertIn("acknowledgement of the debt", lim.next_step)
        # the order of the list: by case type
        kinds = [c.case_type for c in self.Cases.search([("partner_id", "in", [p.id for _k, p in cases])])]
        self.assertEqual(kinds, sorted(kinds, key=[k for k, _l, _d in CASE_TYPES].index))

    def test_settings_move_the_thresholds(self):
        self.company.write({"credit_problem_dispute_days": 2, "credit_problem_escalation_level": 4})
        cases = self._cases()
        self.assertEqual(self.Cases.search_count([("case_type", "=", "old_dispute")]), 2)
        self.assertNotIn(("escalation", self.escalated), cases)
        self.company.credit_problem_escalation_level = 1
        self.assertIn(("escalation", self.escalated), self._cases())
        # a Credit Manager's manual escalation level counts like a dunning level
        self.company.credit_problem_escalation_level = 4
        self.old.write(
            {
                "credit_escalation_manual_level_id": self.levels[3].id,
                "credit_escalation_reason": "Insolvency rumours",
            }
        )
        manual = self._cases()[("escalation", self.old)]
        self.assertEqual((manual.reference, manual.item_count), (self.levels[3].name, 4))
        # 40 days later: the promise broke more than 30 days before, the downgrade is old
        later = self._cases(
            self.Cases.with_context(problem_date=fields.Date.to_string(T + timedelta(days=40)))
        )
        self.assertNotIn(("broken_promise", self.promiser), later)
        self.assertNotIn(("rating_downgrade", self.down), later)

    def test_pdf_report(self):
        cases = self.Cases.search([])
        html = (
            self.env["ir.actions.report"]
            .with_context(problem_date=fields.Date.to_string(T))
            ._render_qweb_html("credit_control.credit_problem_case_report_action", cases.ids)[0]
            .decode()
        )
        for text in ("Blocked Order", "Rating Downgrade", self.order.name, "Overlimit AG", "Next Step"):
            self.assertTrue(text in html, "%s is missing from the report" % text)
        action = self.Cases.action_print_all()
        self.assertEqual(action["report_name"], "credit_control.report_problem_cases")

    def test_xlsx_export(self):
        content = (
            self.env["credit.problem.case.xlsx"]
            .with_context(problem_date=fields.Date.to_string(T))
            ._generate()
        )
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        sheet = workbook.active
        headers = [cell.value for cell in sheet[3]]
        self.assertEqual(
            headers,
            ["Case", "Customer", "Reference", "Owner", "Date", "Days", "Amount", "Facts", "Next Step"],
        )
        self.assertEqual(sheet.freeze_panes, "B4")
        self.assertEqual(sheet.auto_filter.ref.split(":")[0], "A3")
        rows = {(row[0].value, row[1].value): row for row in sheet.iter_rows(min_row=4) if row[1].value}
        dispute = rows[("Open Dispute", "Disputer SE")]
        self.assertEqual(dispute[6].value, 700.0)
        self.assertIn("#,##0.00", dispute[6].number_format)
        self.assertIn(self.currency.symbol, dispute[6].number_format)
        self.assertEqual(dispute[4].value, datetime.combine(T - timedelta(days=20), datetime.min.time()))
        self.assertEqual(dispute[4].number_format, "mm/dd/yyyy")  # the user's (en_US) date format
        self.assertEqual(dispute[5].value, 20)
        self.assertIn("credit note", dispute[8].value)
        total_row = [row for row in sheet.iter_rows(min_row=4) if row[0].value == "Total"][0]
        self.assertAlmostEqual(total_row[6].value, sum(self.Cases.search([]).mapped("amount")), places=2)
        action = self.env["credit.problem.case.xlsx"].action_download()
        self.assertEqual(action["type"], "ir.actions.act_url")

    def test_xlsx_headings_translated(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"], overwrite=True)
        content = (
            self.env["credit.problem.case.xlsx"]
            .with_context(lang="de_DE", problem_date=fields.Date.to_string(T))
            ._generate()
        )
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        headers = [cell.value for cell in sheet[3]]
        # the German terms come with the coordinator's translation run; until then the source
        # strings stay, but never an empty heading
        self.assertTrue(all(headers))
        self.assertIn(headers[1], ("Customer", "Kunde"))

    def test_access_and_company(self):
        with self.assertRaises(AccessError) as caught:
            self.Cases.with_user(self.sales_user).search_read([], ["amount"])
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to access 'Problem Case \(Weekly Meeting\)'",
        )
        with self.assertRaises(AccessError) as caught:
            self.env["credit.problem.case.xlsx"].with_user(self.sales_user)._generate()
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        self.assertTrue(self.Cases.with_user(self.collector).search([]))
        self.assertTrue(self.Cases.with_user(self.credit_manager).search([]))
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        self.collector.company_ids |= company_2
        other_cases = self.Cases.with_user(self.collector).with_company(company_2).search([])
        self.assertFalse(other_cases.partner_id & (self.over | self.blocked | self.promiser | self.disputer))
