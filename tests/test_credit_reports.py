import io
import os
import re
from datetime import timedelta

import PyPDF2

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext
from odoo.tools.pdf import PdfFileReader

from odoo.addons.credit_control.reports.credit_report_layout import wkhtmltopdf_renders_header_footer

from .common import ManifestsReadMixin
from .dunning_common import DunningCommon

STATEMENT = "credit_control.report_credit_statement"
CREDIT_REPORT = "credit_control.report_credit_partner"


@tagged("post_install", "-at_install")
class TestCreditReports(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls._invoice(1000.0, days_ago=100)
        cls._pay(cls.invoice, amount=400.0, days_after_invoice=50)  # 50 days ago
        cls.refund = cls._invoice(100.0, move_type="out_refund", days_ago=30)
        cls.recent = cls._invoice(250.0, days_ago=5, term=cls.term_30)
        cls.other_company = cls.setup_other_company(name="Zweite GmbH")["company"]
        cls.reports = cls.env["ir.actions.report"]

    def _html(self, report, partners, data=None, user=None):
        reports = self.reports.with_user(user) if user else self.reports
        return reports._render_qweb_html(report, partners.ids, data=data)[0].decode()

    def _text(self, report, partners, data=None, user=None):
        return re.sub(r"\s+", " ", html2plaintext(self._html(report, partners, data, user)))

    def test_statement_as_of_a_date_with_running_balance(self):
        as_of = self.today - timedelta(days=20)
        values = self.env["report.credit_control.report_credit_statement"]._get_report_values(
            self.customer.ids, {"date": fields.Date.to_string(as_of)}
        )
        statement = values["statements"][self.customer.id]
        # the invoice after the partial payment, then the credit note; the recent invoice is later
        self.assertEqual(
            [(line["name"], line["amount"], line["balance"]) for line in statement["lines"]],
            [(self.invoice.name, 600.0, 600.0), (self.refund.name, -100.0, 500.0)],
        )
        self.assertEqual(statement["total"], 500.0)
        # the open credit note offsets the oldest invoice: 600 - 100 overdue, no negative bucket
        self.assertEqual(statement["overdue"], 500.0, "overdue net of the open credit note")
        self.assertEqual(dict(statement["buckets"])["61_90"], 500.0)
        self.assertEqual(dict(statement["buckets"])["1_30"], 0.0)
        self.assertEqual(sum(dict(statement["buckets"]).values()), statement["total"])
        text = self._text(STATEMENT, self.customer, {"date": fields.Date.to_string(as_of)})
        self.assertIn("Account Statement as of", text)
        self.assertIn(self.invoice.name, text)
        self.assertNotIn(self.recent.name, text, "dated after the statement")
        self.assertRegex(text, r"Balance due\s*\$?\s*500\.00")
        # today: the invoice is still partly open, the recent invoice joins
        today = self.env["report.credit_control.report_credit_statement"]._get_statements(
            self.customer, self.today, self.company
        )[self.customer.id]
        self.assertEqual([line["balance"] for line in today["lines"]], [600.0, 500.0, 750.0])

    def test_statement_in_the_customers_language_and_empty(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.customer.lang = "de_DE"
        html = self._html(STATEMENT, self.customer)
        self.assertIn(self.invoice.invoice_date.strftime("%d.%m.%Y"), html, "German date format")
        nobody = self.env["res.partner"].create({"name": "Leer AG", "is_company": True})
        self.assertIn("shows no open items", self._text(STATEMENT, nobody))

    def test_statement_and_report_access(self):
        with self.assertRaises(AccessError) as caught:
            self._html(STATEMENT, self.customer, user=self.sales_user)
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        with self.assertRaises(AccessError) as caught:
            self._html(CREDIT_REPORT, self.customer, user=self.sales_user)
        self.assertRegex(str(caught.exception), r"Only the credit team may export credit control data\.")
        self.assertIn(self.invoice.name, self._html(STATEMENT, self.customer, user=self.collector))
        with self.assertRaisesRegex(AccessError, "not one of your companies"):
            self._html(STATEMENT, self.customer, {"company_id": self.other_company.id}, user=self.collector)
        with self.assertRaisesRegex(AccessError, "not one of your companies"):
            self._html(
                CREDIT_REPORT, self.customer, {"company_id": self.other_company.id}, user=self.collector
            )
        with self.assertRaises(UserError) as caught:
            self._html(
                STATEMENT, self.customer, {"date": fields.Date.to_string(self.today + timedelta(days=1))}
            )
        self.assertRegex(str(caught.exception), r"A statement cannot be dated in the future")
        wizard = self.env["credit.statement.print"].create({"partner_ids": [(6, 0, self.contact.ids)]})
        data = wizard._get_report_data()
        self.assertEqual(data["partner_ids"], self.customer.ids, "contacts print their company")
        self.assertTrue(wizard.action_print())
        html = self.reports._render_qweb_html(STATEMENT, None, data=data)[0].decode()
        self.assertIn(self.invoice.name, html)

    def test_credit_report_sections(self):
        rating = self.env["credit.rating"].search([("code", "=", "B")], limit=1)
        self.customer.write({"credit_limit": 5000.0, "credit_limit_set": True})  # not tracked
        self.env.cr.precommit.run()
        partner = self.customer.with_env(self.env(context={}))  # with chatter tracking
        partner.write({"credit_limit": 8000.0, "credit_rating_id": rating.id})
        self.env.cr.precommit.run()
        self.env["credit.check"].create(
            {"partner_id": self.customer.id, "kind": "bureau", "provider_name": "Creditreform Test"}
        )
        self.env.flush_all()
        text = self._text(CREDIT_REPORT, self.customer)
        for title in (
            "Rating and Limit",
            "Scorecard",
            "Exposure",
            "Payment Behaviour",
            "Credit Checks",
            "Limit, Hold and Rating History",
            "Dunning History",
        ):
            self.assertIn(title, text)
        self.assertIn(rating.display_name, text)
        self.assertIn("Creditreform Test", text)
        self.assertIn("No dunning letters.", text)
        values = self.env["report.credit_control.report_credit_partner"]._get_report_values(self.customer.ids)
        report = values["report_values"][self.customer.id]
        changes = [(c["field"], c["old"], c["new"]) for c in report["limit_history"]["changes"]]
        money = self.currency.symbol + "\xa0%s"
        self.assertEqual(
            changes,
            [
                ("Credit Limit", money % "5,000.00", money % "8,000.00"),
                ("Risk Rating", "", rating.display_name),
            ],
        )
        self.assertIn(("Risk Rating", "", rating.display_name), changes)
        self.assertEqual(report["exposure"]["exposure"]["total"], 750.0)
        self.assertEqual(
            report["rating"]["scorecard"]["score"], self.customer._get_credit_scorecard()["score"]
        )
        # messages stamped with a company belong to it (a customer without company has none:
        # its history shows in every company, see the README notes)
        messages = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        messages.sudo().record_company_id = self.company
        other = self.env["report.credit_control.report_credit_partner"].with_company(self.other_company)
        self.assertEqual(
            other._section_limit_history(self.customer, self.other_company)[self.customer.id]["changes"], []
        )

    def test_credit_report_dunning_history(self):
        run = self._propose()
        letter = run.letter_ids.filtered(lambda lt: lt.partner_id == self.customer)
        self.assertTrue(letter)
        letter.state = "done"
        report = self.env["report.credit_control.report_credit_partner"]
        history = report._section_dunning(self.customer, self.company)[self.customer.id]
        self.assertEqual(history["letters"], letter)
        text = self._text(CREDIT_REPORT, self.customer)
        self.assertIn(letter.level_id.name, text)

    def test_credit_report_promises_and_disputes(self):
        common = {"partner_id": self.customer.id, "move_ids": [(6, 0, self.invoice.ids)]}
        common["currency_id"] = self.currency.id
        promise = self.env["credit.promise"].create({**common, "amount": 300.0, "date_promised": self.today})
        dispute = self.env["credit.dispute"].create({**common, "amount": 100.0})
        text = self._text(CREDIT_REPORT, self.customer)
        self.assertIn("Promises to Pay", text)
        self.assertIn(promise.name, text)
        self.assertIn("Disputes", text)
        self.assertIn(dispute.name, text)
        nobody = self.env["res.partner"].create({"name": "Leer AG", "is_company": True})
        text = self._text(CREDIT_REPORT, nobody)
        self.assertIn("No promises to pay.", text)
        self.assertIn("No disputes.", text)

    def test_statement_pdf(self):
        """Rendered by wkhtmltopdf, read back with Odoo's PDF library (pypdf / PyPDF2)."""
        pdf = self.reports.with_context(force_report_rendering=True)._render_qweb_pdf(
            STATEMENT, self.customer.ids
        )[0]
        self.assertTrue(pdf.startswith(b"%PDF"))
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        # the library reads word gaps as tabs: compare with single spaces
        text = re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in reader.pages))
        self.assertIn("Account Statement as of", text)
        self.assertIn(self.invoice.name, text)
        self.assertIn("750.00", text)


@tagged("post_install", "-at_install")
class TestCreditReportsPdf(ManifestsReadMixin, DunningCommon, HttpCase):
    """The PDFs as printed in production (an HttpCase: wkhtmltopdf loads the report CSS and its
    web fonts from the test server): a text layer, the company's details, no layout dialog."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin"})
        cls._invoice(1000.0, days_ago=40)
        cls.company.write({"company_registry": "HRB 99999 B", "vat": "DE123456788"})

    def _pdf_text(self, report, ids):
        pdf = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report, ids)[0]
        )
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], f"{report}.pdf"), "wb") as file:
                file.write(pdf)
        reader = PdfFileReader(io.BytesIO(pdf))
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    def test_statement_and_credit_report_have_a_text_layer(self):
        for report, heading in ((STATEMENT, "Account Statement as of"), (CREDIT_REPORT, "Credit Report")):
            text = self._pdf_text(report, self.customer.ids)
            self.assertIn(heading, text, report)
            self.assertIn("Hauptstraße 1", text, report)
            if not wkhtmltopdf_renders_header_footer():
                self.assertIn("HRB 99999 B", text, report)
                self.assertIn("DE89370400440532013000", text, report)

    def test_first_print_without_layout_dialog(self):
        self.company.external_report_layout_id = False
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [Command.link(self.company.id)], "company_id": self.company.id})
        action = (
            self.env.ref("credit_control.credit_statement_report_action")
            .with_user(admin)
            .with_company(self.company)
            .report_action(self.customer)
        )
        self.assertEqual(action["type"], "ir.actions.report", "no 'configure your document layout' dialog")
        self.assertEqual(self.company.external_report_layout_id, self.env.ref("web.external_layout_standard"))

    def _din5008_stand_in(self):
        """Odoo's DIN 5008 layout as far as its page width goes (l10n_din5008 is not installed
        in the test database): the article with a fixed width of 180 mm, as its CSS sets it."""
        key = "l10n_din5008.external_layout_din5008"
        view = self.env["ir.ui.view"].search([("key", "=", key)], limit=1) or self.env["ir.ui.view"].create(
            {
                "name": "DIN 5008 stand-in",
                "type": "qweb",
                "key": key,
                "arch": """<t t-name="l10n_din5008.external_layout_din5008">
                    <div class="din_page invoice_note article din_page_pdf"
                         style="width: 180mm; margin-left: -1rem;">
                        <table class="din_company_info"><tr>
                            <td><div class="address" style="width: 85mm;"><t t-out="address"/></div></td>
                            <td><t t-out="din5008_document_information"/></td>
                        </tr></table>
                        <h2 t-out="din5008_document_title"/>
                        <t t-out="0"/>
                    </div>
                </t>""",
            }
        )
        self.company.external_report_layout_id = view

    def _right_edges(self, report, ids):
        """Start (x, mm from the left page edge) of every text run on page 1."""
        pdf = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report, ids)[0]
        )
        page = PyPDF2.PdfReader(io.BytesIO(pdf)).pages[0]
        starts, start = [], {}

        # as TestDunningLetterWindow._text_positions: the start of a run is the matrix of its
        # first text-showing operator
        def before(operator, operands, cm, tm):
            if operator in (b"Tj", b"TJ") and "at" not in start:
                start["at"] = (tm[4] * cm[0] + tm[5] * cm[2] + cm[4]) * 25.4 / 72

        def visitor(text, cm, tm, font_dict, font_size):
            if text.strip() and "at" in start:
                starts.append(start["at"])
            start.clear()

        page.extract_text(visitor_operand_before=before, visitor_text=visitor)
        return starts

    def test_din5008_reports_use_the_text_width(self):
        """With the DIN 5008 layout the statement and the credit report use the page's text
        width (the right column ends near the 10 mm right margin), not 70 % of it: a wkhtmltopdf
        without patched Qt printed the layout's 180 mm as 127 mm (a right margin of 60 mm)."""
        self._din5008_stand_in()
        for report in (STATEMENT, CREDIT_REPORT):
            html = self.env["ir.actions.report"]._render_qweb_html(report, self.customer.ids)[0].decode()
            self.assertIn(".din_page.din_page_pdf.article { width: auto !important;", html, report)
            starts = self._right_edges(report, self.customer.ids)
            self.assertTrue(starts, report)
            # the amounts of the rightmost column start beyond 165 mm (A4: 210 mm wide); in
            # 70 % of the width nothing started right of about 150 mm
            self.assertGreater(max(starts), 165.0, f"{report}: rightmost text starts at {max(starts):.0f} mm")
