import csv
import io
from datetime import date, timedelta

import openpyxl
from dateutil.relativedelta import relativedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestLegalCase(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Case = cls.env["credit.legal.case"]
        de = cls.env.ref("base.de")
        cls.company.partner_id.write(
            {
                "street": "Hauptstraße 1",
                "zip": "96450",
                "city": "Coburg",
                "country_id": de.id,
                "state_id": cls.env.ref("base.state_de_by").id,
                "is_company": True,
                "credit_legal_form": "GmbH",
                "credit_legal_representatives": "Managing director Jane Doe",
            }
        )
        cls.customer.write(
            {
                "street": "Marktplatz 5",
                "zip": "20095",
                "city": "Hamburg",
                "country_id": de.id,
                "credit_legal_form": "GmbH",
                "credit_legal_representatives": "Managing director Max Muster",
            }
        )

    def _dated_invoice(self, amount, due):
        """An invoice due on ``due`` (immediate payment term)."""
        return self._invoice(amount, days_ago=(self.today - due).days)

    def _case(self, moves, user=None, **vals):
        case = self.Case.with_user(user or self.collector).create({"partner_id": self.contact.id, **vals})
        self.env["credit.legal.claim"].with_user(user or self.collector).create(
            [{"case_id": case.id, "move_id": move.id} for move in moves]
        )
        return case

    # --- the hand-computed case ------------------------------------------------------------
    def test_hand_computed_case(self):
        """Three invoices, two base-rate periods (2.27 % until 2025-06-30, 1.27 % from
        2025-07-01), business customer (+9 points), interest until 2025-09-30, act/365:

        A 1000.00 due 2025-05-31: 1000 x 11.27 % x 30/365 + 1000 x 10.27 % x 92/365 = 35.15
        B  500.00 due 2025-06-15:  500 x 11.27 % x 15/365 +  500 x 10.27 % x 92/365 = 15.26
        C  300.00 due 2025-07-10:  300 x 10.27 % x 82/365                             =  6.92
        costs 2.50 + 2.50 (letter fees) + 40.00 (flat fee) = 45.00; claimed 1902.33.
        A payment of 200.00 (booked on C) goes per §367 BGB to the costs (45.00), the interest
        (57.33: A, B, C by due date) and the principal of A, the claim due first (97.67):
        remaining 1702.33."""
        a = self._dated_invoice(1000.0, date(2025, 5, 31))
        b = self._dated_invoice(500.0, date(2025, 6, 15))
        c = self._dated_invoice(300.0, date(2025, 7, 10))
        case = self._case(c | a | b, date_interest=date(2025, 9, 30), claim_flat_fee=False)
        self.assertEqual(case.partner_id, self.customer, "the commercial entity is the respondent")
        self.assertEqual(case.court_id, self.env.ref("credit_control.credit_legal_court_coburg"))
        self.env["credit.legal.cost"].with_user(self.collector).create(
            [
                {"case_id": case.id, "cost_type": "dunning_fee", "name": "Fee letter 1", "amount": 2.5},
                {"case_id": case.id, "cost_type": "dunning_fee", "name": "Fee letter 2", "amount": 2.5},
                {"case_id": case.id, "cost_type": "flat_fee", "name": "Flat fee", "amount": 40.0},
            ]
        )
        claims = {claim.move_id: claim for claim in case.claim_ids}
        self.assertEqual(claims[a].claim_type_id.code, "11", "default: purchase contract")
        self.assertEqual(claims[a].interest_points, 9.0)
        self.assertEqual(claims[a].interest_date_from, date(2025, 6, 1))
        self.assertEqual([claims[m].interest_amount for m in (a, b, c)], [35.15, 15.26, 6.92])
        self.assertEqual([claims[m].principal for m in (a, b, c)], [1000.0, 500.0, 300.0])
        case.with_user(self.collector).action_prepare()
        self.assertEqual(case.state, "prepared")
        self.assertEqual(len(case.cost_ids), 3, "no flat fee added: the case does not claim it")
        self.assertAlmostEqual(case.amount_interest, 57.33, places=2)
        self.assertAlmostEqual(case.amount_costs, 45.0, places=2)
        self.assertAlmostEqual(case.amount_total, 1902.33, places=2)
        self.assertEqual(case.amount_paid, 0.0)
        self._pay(c, amount=200.0, days_after_invoice=(self.today - c.invoice_date).days)
        case.invalidate_recordset()
        case.claim_ids.invalidate_recordset()
        self.assertAlmostEqual(case.amount_paid, 200.0, places=2)
        self.assertAlmostEqual(case.allocated_costs, 45.0, places=2)
        self.assertAlmostEqual(case.allocated_interest, 57.33, places=2)
        self.assertAlmostEqual(case.allocated_principal, 97.67, places=2)
        self.assertAlmostEqual(case.amount_remaining, 1702.33, places=2)
        self.assertEqual(
            [(claims[m].allocated_interest, claims[m].allocated_principal) for m in (a, b, c)],
            [(35.15, 97.67), (15.26, 0.0), (6.92, 0.0)],
        )

    # --- bad input -------------------------------------------------------------------------
    def test_base_rate_warning(self):
        """Interest claimed into a half-year without a recorded base rate: the case says so."""
        invoice = self._dated_invoice(100.0, date(2025, 5, 31))
        last = self.env["credit.base.rate"].search([], order="date_from desc", limit=1).date_from
        case = self._case(invoice, date_interest=date(2025, 9, 30))
        self.assertFalse(case.base_rate_warning, "2025-07-01's rate is in the table")
        case.with_user(self.credit_manager).date_interest = date(last.year + 1, last.month, 1)
        self.assertIn("no rate for the half-year", case.base_rate_warning)

    def test_respondent_incomplete(self):
        invoice = self._invoice(100.0, days_ago=60)
        case = self._case(invoice)
        self.customer.write({"credit_legal_form": False, "street": False})
        with self.assertRaises(UserError) as caught:
            case.with_user(self.collector).action_prepare()
        self.assertRegex(str(caught.exception), r"Respondent Muster GmbH: legal form, street missing\.")
        self.assertEqual(case.state, "draft")
        self.assertFalse(case.cost_ids, "nothing written")
        self.customer.write({"credit_legal_form": "GmbH", "street": "Marktplatz 5"})
        self.company.partner_id.city = False
        with self.assertRaisesRegex(UserError, r"Applicant .*: city missing\."):
            case.with_user(self.collector).action_prepare()
        self.assertEqual(case.state, "draft")

    def test_bad_claims(self):
        invoice = self._invoice(100.0, days_ago=60)
        other = self.env["res.partner"].create({"name": "Fremd AG", "is_company": True})
        foreign = self._invoice(100.0, partner=other, days_ago=60)
        paid = self._invoice(100.0, days_ago=60)
        self._pay(paid)
        case = self._case(invoice)
        Claim = self.env["credit.legal.claim"].with_user(self.collector)
        with self._raises(ValidationError, "belongs to another customer than Muster GmbH"):
            Claim.create({"case_id": case.id, "move_id": foreign.id})
        with self._raises(UserError, "is already paid"):
            Claim.create({"case_id": case.id, "move_id": paid.id})
        second = self.Case.with_user(self.collector).create({"partner_id": self.customer.id})
        with self._raises(ValidationError, "claimed in another open court dunning case"):
            Claim.create({"case_id": second.id, "move_id": invoice.id})
        self.assertEqual(case.claim_ids.move_id, invoice, "nothing written")
        self.assertFalse(second.claim_ids)
        # a cancelled case frees its invoices
        case.with_user(self.collector).action_cancel()
        Claim.create({"case_id": second.id, "move_id": invoice.id})
        self.assertEqual(second.claim_ids.move_id, invoice)

    # --- dunning and agency exclusion ------------------------------------------------------
    def test_claims_leave_dunning_and_agency(self):
        invoice = self._invoice(100.0, days_ago=60)
        free = self._invoice(50.0, days_ago=60)
        Move = self.env["account.move"]
        self.assertFalse(Move._credit_dunning_blocked_move_ids((invoice | free).ids, self.today))
        case = self._case(invoice)
        self.assertEqual(
            Move._credit_dunning_blocked_move_ids((invoice | free).ids, self.today), {invoice.id}
        )
        agency = self.env["res.partner"].create({"name": "Inkasso Nord GmbH", "is_company": True})
        handover = (
            self.env["credit.agency.handover"]
            .with_user(self.collector)
            .create(
                {"partner_id": self.customer.id, "agency_id": agency.id, "move_ids": [(6, 0, invoice.ids)]}
            )
        )
        with self.assertRaisesRegex(UserError, r"claimed in an open court dunning case"):
            handover.with_user(self.collector).action_hand_over()
        self.assertEqual(handover.state, "draft")
        handed = (
            self.env["credit.agency.handover"]
            .with_user(self.collector)
            .create({"partner_id": self.customer.id, "agency_id": agency.id, "move_ids": [(6, 0, free.ids)]})
        )
        handed.with_user(self.collector).action_hand_over()
        with self._raises(ValidationError, "are with a collection agency"):
            self.env["credit.legal.claim"].with_user(self.collector).create(
                {"case_id": case.id, "move_id": free.id}
            )
        case.with_user(self.collector).action_cancel()
        self.assertFalse(Move._credit_dunning_blocked_move_ids(invoice.ids, self.today))

    # --- states, deadlines, access ---------------------------------------------------------
    def test_procedure_and_deadline_tasks(self):
        invoice = self._invoice(100.0, days_ago=60)
        case = self._case(invoice)
        case.with_user(self.collector).action_prepare()
        with self.assertRaisesRegex(AccessError, r"Only Credit Managers"):
            case.with_user(self.collector).action_apply()
        manager_case = case.with_user(self.credit_manager)
        with self.assertRaisesRegex(UserError, r"does not depend on a counter-performance"):
            manager_case.action_apply()
        self.assertEqual(case.state, "prepared")
        manager_case.no_counter_performance = True
        manager_case.action_apply()
        manager_case.action_order_issued()
        served = self.today - timedelta(days=20)
        manager_case.date_served = served
        manager_case.action_served()
        self.assertEqual(case.state, "served")
        self.assertEqual(case.date_objection_end, served + timedelta(days=14))
        self.assertEqual(case.date_enforcement_deadline, served + relativedelta(months=6))
        tasks = case.task_ids
        self.assertEqual(
            sorted((t.origin, t.date_deadline) for t in tasks),
            sorted(
                [
                    ("legal_enforcement_deadline", served + relativedelta(months=6)),
                    ("legal_objection_period", served + timedelta(days=15)),
                ]
            ),
        )
        self.assertTrue(all(t.task_type == "legal" and t.is_open for t in tasks))
        self.assertEqual(
            self.env["account.move"]._credit_dunning_blocked_move_ids(invoice.ids, self.today), {invoice.id}
        )
        manager_case.action_apply_enforcement()
        self.assertEqual(case.state, "enforcement_applied")
        self.assertFalse(any(t.is_open for t in tasks), "the deadline tasks are done")
        manager_case.action_enforcement_issued()
        bailiff = case.task_ids - tasks
        self.assertEqual(bailiff.origin, "legal_bailiff")
        manager_case.action_enforcement()
        with self.assertRaisesRegex(UserError, r"still has .* open"):
            manager_case.action_close_paid()
        manager_case.action_close_uncollectable()
        self.assertEqual(case.state, "uncollectable")
        self.assertTrue(case.date_closed)
        self.assertFalse(self.env["account.move"]._credit_dunning_blocked_move_ids(invoice.ids, self.today))

    def test_enforcement_deadlines_refused(self):
        invoice = self._invoice(100.0, days_ago=60)
        case = self._case(invoice, no_counter_performance=True)
        case.with_user(self.collector).action_prepare()
        manager_case = case.with_user(self.credit_manager)
        manager_case.action_apply()
        manager_case.action_order_issued()
        manager_case.action_served()  # served today
        with self.assertRaisesRegex(UserError, r"objection period .* runs until"):
            manager_case.action_apply_enforcement()
        manager_case.date_served = self.today - relativedelta(months=7)
        with self.assertRaisesRegex(UserError, r"lapsed on .*§701 ZPO"):
            manager_case.action_apply_enforcement()
        manager_case.date_served = self.today - timedelta(days=30)
        manager_case.action_objection()
        self.assertEqual(case.state, "objection")
        open_tasks = case.task_ids.filtered("is_open")
        self.assertEqual(open_tasks.mapped("origin"), ["legal_trial"])

    def test_protected_fields(self):
        Case = self.Case.with_user(self.collector)
        with self.assertRaisesRegex(AccessError, r"change only through its buttons"):
            Case.create({"partner_id": self.customer.id, "state": "applied"})
        case = Case.create({"partner_id": self.customer.id})
        with self.assertRaisesRegex(AccessError, r"change only through its buttons"):
            case.write({"date_applied": self.today})
        defaults = Case.with_context(default_state="enforcement", default_date_served=self.today).default_get(
            ["state", "date_served"]
        )
        self.assertEqual(defaults.get("state"), "draft")
        self.assertNotIn("date_served", defaults)
        with self.assertRaises(AccessError):
            self.Case.with_user(self.sales_user).create({"partner_id": self.customer.id})
        with self.assertRaises(AccessError):
            case.with_user(self.sales_user).read(["state"])
        invoice = self._invoice(100.0, days_ago=60)
        with self.assertRaisesRegex(AccessError, r"change only through its buttons"):
            self.env["credit.legal.claim"].with_user(self.collector).create(
                {"case_id": case.id, "move_id": invoice.id, "principal": 1.0}
            )
        # the customer form opens for a salesperson (no access to the cases: count 0)
        self.assertEqual(self.customer.with_user(self.sales_user).credit_legal_case_count, 0)

    # --- ancillary items from the dunning --------------------------------------------------
    def test_flat_fee_added_at_preparation(self):
        first = self._invoice(100.0, days_ago=60)
        second = self._invoice(200.0, days_ago=50)
        second.sudo().credit_dunning_flat_fee_charged = True
        case = self._case(first | second)
        case.with_user(self.collector).action_prepare()
        flat = case.cost_ids.filtered(lambda cost: cost.cost_type == "flat_fee")
        self.assertEqual(flat.move_id, first, "once per invoice, not where a letter charged it")
        eur = self.env.ref("base.EUR")
        self.assertAlmostEqual(
            flat.amount, eur._convert(40.0, self.currency, self.company, case.date_interest)
        )
        with self.assertRaisesRegex(UserError, r"change only by a Credit Manager"):
            flat.with_user(self.collector).amount = 10.0
        with self.assertRaisesRegex(UserError, r"claimed amounts of a prepared .* only by a Credit Manager"):
            case.with_user(self.collector).date_interest = self.today + timedelta(days=30)
        case.with_user(self.credit_manager).date_interest = self.today + timedelta(days=30)

    # --- outputs ---------------------------------------------------------------------------
    def test_export_fields_and_order(self):
        a = self._dated_invoice(1000.0, date(2025, 5, 31))
        case = self._case(
            a, date_interest=date(2025, 9, 30), claim_flat_fee=False, no_counter_performance=True
        )
        case.with_user(self.collector).action_prepare()
        Export = self.env["credit.legal.case.export"].with_user(self.collector)
        rows = Export._rows(case)
        sections = []
        for key, _section, _label, _value in rows:
            if key not in sections:
                sections.append(key)
        self.assertEqual(
            sections,
            ["lawyer", "applicant", "respondent", "claims", "interest", "general"],
            "the order of the online form (no costs here)",
        )
        by_section = {}
        for key, _section, label, value in rows:
            by_section.setdefault(key, []).append((label, value))
        self.assertEqual(
            [label for label, _value in by_section["respondent"]],
            ["Kind", "Name", "Legal Form", "Legal Representatives", "Street", "ZIP", "City", "Country"],
        )
        self.assertEqual(by_section["respondent"][1], ("Name", "Muster GmbH"))
        self.assertEqual(
            [label for label, _value in by_section["claims"]],
            [
                "Claim 1: Catalogue Number",
                "Claim 1: Claim",
                "Claim 1: Document",
                "Claim 1: Document Date",
                "Claim 1: Amount",
            ],
        )
        self.assertEqual(by_section["claims"][0][1], "11")
        self.assertEqual(
            [label for label, _value in by_section["interest"]],
            ["Claim 1: Rate", "Claim 1: From", "Claim 1: Computed until 09/30/2025"],
        )
        self.assertEqual(by_section["interest"][0][1], "9 percentage points above the base rate")
        self.assertEqual(
            [label for label, _value in by_section["general"]],
            [
                "Dunning Court",
                "Our Reference",
                "The claim does not depend on a counter-performance",
                "Total Claimed",
            ],
        )
        self.assertEqual(by_section["general"][2][1], "Yes")
        # CSV and XLSX: the same rows in the same order
        expected = [[section, label, value] for _key, section, label, value in rows]
        content = Export._csv(case).decode("utf-8-sig")
        csv_rows = list(csv.reader(io.StringIO(content), delimiter=";"))
        self.assertEqual(csv_rows[0], ["Section", "Field", "Value"])
        self.assertEqual(csv_rows[1:], expected)
        book = openpyxl.load_workbook(io.BytesIO(Export._xlsx(case)))
        sheet = book.active
        values = [
            [cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
        header = values.index(["Section", "Field", "Value"])
        self.assertEqual(values[header + 1 :], expected)
        action = case.with_user(self.collector).action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        # the data sheet prints the same sections
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.report_legal_case", case.ids)[0]
            .decode()
        )
        positions = [
            html.index(title)
            for title in (
                "Authorised Representative",
                "Applicant",
                "Respondent",
                "Main Claims",
                "Interest",
                "Costs and Ancillary Claims",
                "General Details",
            )
        ]
        self.assertEqual(positions, sorted(positions))
        self.assertIn("Muster GmbH", html)

    def test_open_from_last_level_letter(self):
        invoice = self._invoice(100.0, days_ago=60)
        action = self.customer.with_user(self.collector).action_credit_legal_case()
        self.assertEqual(action["context"]["default_partner_id"], self.customer.id)
        self.assertEqual(action["views"], [(False, "form")], "no case yet: a new one")
        case = self.Case.with_user(self.collector).create({"partner_id": self.customer.id})
        case.with_user(self.collector).action_load_invoices()
        self.assertEqual(case.claim_ids.move_id, invoice)
        self.assertEqual(self.customer.with_user(self.collector).credit_legal_case_count, 1)

    def test_case_from_last_level_letter(self):
        invoice = self._invoice(100.0, days_ago=100)
        self._set_level(invoice, self.second, days_ago=20)
        run = self._propose()
        run.action_validate()
        letter = run.letter_ids
        self.assertEqual((letter.level_id, letter.state), (self.final, "done"))
        self.assertTrue(letter.credit_legal_last_level)
        action = letter.with_user(self.collector).action_credit_legal_case()
        case = self.Case.browse(action["res_id"])
        self.assertEqual((case.partner_id, case.state), (self.customer, "draft"))
        self.assertEqual(case.claim_ids.move_id, invoice)
        self.assertEqual(
            self.env["account.move"]._credit_dunning_blocked_move_ids(invoice.ids, self.today), {invoice.id}
        )
        earlier = self._propose(date=self.today + timedelta(days=30))
        self.assertFalse(earlier and earlier.line_ids.filtered(lambda line: line.move_id == invoice))

    def test_collector_without_invoice_rights(self):
        """A collector who may not read invoices still opens, fills and prepares a case."""
        plain = new_test_user(
            self.env,
            "cc_legal_plain",
            groups="base.group_user,credit_control.credit_control_group_user",
            company_id=self.company.id,
        )
        invoice = self._invoice(100.0, days_ago=60)
        case = self.Case.with_user(plain).create({"partner_id": self.customer.id})
        case.action_load_invoices()
        case.action_prepare()
        self.assertEqual(case.state, "prepared")
        self.assertEqual(case.sudo().claim_ids.move_id, invoice)
        self.assertAlmostEqual(case.amount_principal, 100.0)
        self.assertEqual(case.amount_paid, 0.0)
        rows = self.env["credit.legal.case.export"].with_user(plain)._rows(case)
        self.assertIn(("claims", "Main Claims", "Claim 1: Amount"), [row[:3] for row in rows])
