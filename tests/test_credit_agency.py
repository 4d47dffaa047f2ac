import io

import openpyxl

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestCreditAgency(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agency = cls.env["res.partner"].create({"name": "Inkasso Nord GmbH", "is_company": True})
        cls.Handover = cls.env["credit.agency.handover"]

    def _handover(self, moves, user=None, **vals):
        values = {"partner_id": self.contact.id, "agency_id": self.agency.id, "move_ids": [(6, 0, moves.ids)]}
        values.update(vals)
        return self.Handover.with_user(user or self.collector).create(values)

    def test_state_machine_amount_and_task(self):
        first = self._invoice(300.0, days_ago=90)
        second = self._invoice(200.0, days_ago=80)
        self._pay(second, amount=50.0)
        handover = self._handover(first | second)
        self.assertEqual(handover.partner_id, self.customer)
        self.assertTrue(handover.name.startswith("INK/"))
        self.assertEqual(handover.state, "draft")
        with self.assertRaises(UserError) as caught:
            handover.action_close()
        self.assertRegex(str(caught.exception), r"Only handed-over cases can be closed or returned\.")
        handover.action_hand_over()
        self.assertEqual(handover.state, "handed_over")
        self.assertEqual(handover.amount, 450.0, "the open amount at handover: 300 + 200 - 50")
        task = handover.task_ids
        self.assertEqual(len(task), 1)
        self.assertEqual((task.task_type, task.origin, task.team), ("agency", "agency", "credit"))
        self.assertEqual(task.move_ids, first | second)
        with self.assertRaises(UserError) as caught:
            handover.action_hand_over()
        self.assertRegex(str(caught.exception), r"Handover.*was already handed over\.")
        with self.assertRaises(UserError) as caught:
            handover.write({"move_ids": [(5, 0, 0)]})
        self.assertRegex(
            str(caught.exception), r"The invoices of a handover cannot change once they were handed over\."
        )
        with self.assertRaises(AccessError) as caught:
            handover.unlink()  # a collector deletes no handover at all
        self.assertRegex(str(caught.exception), r"You are not allowed to delete 'Collection Agency Handover'")
        with self.assertRaises(UserError) as caught:
            handover.with_user(self.credit_manager).unlink()
        self.assertRegex(str(caught.exception), r"Only draft handovers can be deleted")
        self._pay(first, amount=100.0)
        self.assertEqual(handover.amount, 450.0, "the handed-over amount stays")
        self.assertEqual(handover.amount_open, 350.0)
        handover.action_close()
        self.assertEqual(handover.state, "closed")
        self.assertTrue(handover.date_closed)
        self.assertEqual(task.stage, "done")
        with self.assertRaises(UserError) as caught:
            handover.action_return()
        self.assertRegex(str(caught.exception), r"Only handed-over cases can be closed or returned\.")

    def test_bad_input(self):
        invoice = self._invoice(100.0, days_ago=40)
        other = self.env["res.partner"].create({"name": "Fremd AG", "is_company": True})
        foreign_invoice = self._invoice(100.0, partner=other, days_ago=40)
        with self.assertRaisesRegex(ValidationError, "only cover customer invoices of"):
            self._handover(invoice | foreign_invoice)
        with self.assertRaisesRegex(ValidationError, "cannot be the customer itself"):
            self._handover(invoice, agency_id=self.customer.id)
        paid = self._invoice(100.0, days_ago=40)
        self._pay(paid)
        handover = self._handover(paid)
        with self.assertRaisesRegex(UserError, "Only open invoices"):
            handover.action_hand_over()
        self.assertEqual(handover.state, "draft")
        self._handover(invoice).action_hand_over()
        with self.assertRaisesRegex(UserError, "already with a collection agency"):
            self._handover(invoice).action_hand_over()

    def test_handed_over_invoices_leave_dunning_until_returned(self):
        handed = self._invoice(100.0, days_ago=40)
        kept = self._invoice(100.0, days_ago=40)
        handover = self._handover(handed)
        Move = self.env["account.move"]
        self.assertEqual(Move._credit_dunning_blocked_move_ids((handed | kept).ids, self.today), set())
        handover.action_hand_over()
        self.assertEqual(Move._credit_dunning_blocked_move_ids((handed | kept).ids, self.today), {handed.id})
        run = self._propose()
        self.assertTrue(run, "the other invoice is still dunned")
        self.assertIn(kept, run.line_ids.move_id)
        self.assertNotIn(handed, run.line_ids.move_id)
        run.unlink()
        handover.action_return()
        self.assertEqual(handover.state, "returned")
        self.assertEqual(handover.task_ids.stage, "done")
        self.assertIn(handed, self._propose().line_ids.move_id, "returned: normal dunning resumes")

    def test_case_file_exports(self):
        invoice = self._invoice(300.0, days_ago=90)
        invoice.message_post(body="Customer says the goods were late", message_type="comment")
        self._set_level(invoice, self.first, days_ago=10)
        handover = self._handover(invoice)
        handover.action_hand_over()
        content = self.env["credit.agency.case.xlsx"].with_user(self.collector)._generate(handover)
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(
            workbook.sheetnames, ["Invoices", "Dunning Letters", "Promises", "Disputes", "Notes"]
        )
        invoices = workbook["Invoices"]
        self.assertEqual(invoices["A3"].value, "Number")
        self.assertEqual(invoices["A4"].value, invoice.name)
        self.assertEqual(invoices["F4"].value, 300.0)
        self.assertEqual(invoices["G4"].value, self.first.name)
        self.assertIn(handover.name, workbook["Invoices"]["A1"].value)
        # dates in the user's format (the English one here, German below), as the other exports
        self.assertEqual(invoices["B4"].number_format, "mm/dd/yyyy")
        self.env["res.lang"]._activate_lang("de_DE")
        german = openpyxl.load_workbook(
            io.BytesIO(
                self.env["credit.agency.case.xlsx"]
                .with_context(lang="de_DE")
                .with_user(self.collector)
                ._generate(handover)
            )
        )
        sheet = german.worksheets[0]
        self.assertEqual(sheet["B4"].number_format, "dd.mm.yyyy")
        self.assertEqual(sheet["B4"].value.date(), invoice.invoice_date)
        self.assertIn(handover.date.strftime("%d.%m.%Y"), sheet["A1"].value)
        notes = [row[3] for row in workbook["Notes"].iter_rows(min_row=4, values_only=True)]
        self.assertIn("Customer says the goods were late", notes)
        action = handover.with_user(self.collector).action_download_case_file()
        self.assertEqual(action["type"], "ir.actions.act_url")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.report_agency_handover", handover.ids)[0]
            .decode()
        )
        self.assertIn(handover.name, html)
        self.assertIn(invoice.name, html)
        # a letter to the agency: the agency in the envelope's window, the customer below
        window = html[html.index('name="din5008_address"') :]
        window = window[: window.index("</td>")]
        self.assertIn(self.agency.name, window)
        self.assertNotIn(self.customer.name, window)
        self.assertIn(self.agency.name, html)

    def test_access_only_credit_users(self):
        invoice = self._invoice(100.0, days_ago=40)
        handover = self._handover(invoice)
        with self.assertRaises(AccessError) as caught:
            self._handover(invoice, user=self.sales_user)
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to create 'Collection Agency Handover'",
        )
        with self.assertRaises(AccessError) as caught:
            handover.with_user(self.sales_user).read(["name"])
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to access 'Collection Agency Handover'",
        )
        with self.assertRaises(AccessError) as caught:
            self.env["credit.agency.case.xlsx"].with_user(self.sales_user)._generate(
                handover.with_user(self.sales_user)
            )
        self.assertRegex(
            str(caught.exception),
            r"You are not allowed to access 'Collection Agency Handover'",
        )
        company_2 = self.setup_other_company(name="Zweite GmbH")["company"]
        foreign = self.Handover.with_company(company_2).create(
            {
                "partner_id": self.customer.id,
                "agency_id": self.agency.id,
                "company_id": company_2.id,
                "move_ids": [],
            }
        )
        self.assertFalse(self.Handover.with_user(self.collector).search([("id", "=", foreign.id)]))
