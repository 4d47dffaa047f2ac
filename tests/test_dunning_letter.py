import io
import os
from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from .dunning_common import DunningCommon


@tagged("post_install", "-at_install")
class TestDunningLetter(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "ref": "K-1001"})
        cls.invoices = cls.env["account.move"]
        for index, days in enumerate((60, 45, 12)):
            cls.invoices |= cls._invoice(1000.0 + index * 100, days_ago=days)
        cls.refund = cls._invoice(50.0, days_ago=5, move_type="out_refund")
        cls._set_level(cls.invoices[:2], cls.first, days_ago=20)

    def _pdf_text(self, pdf):
        reader = PdfFileReader(io.BytesIO(pdf))
        # text extraction renders spaces as tabs and breaks lines: compare on single spaces
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    def _validated_letter(self):
        run = self._propose()
        run.action_validate()
        return run.letter_ids

    def test_letter_english(self):
        letter = self._validated_letter()
        self.assertEqual(letter.level_id, self.second)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[0]
            .decode()
        )
        self.assertIn("Second Dunning Letter", html)
        self.assertIn("Hauptstraße 1", html)
        self.assertIn("DE89370400440532013000", html)
        for invoice in self.invoices:
            self.assertIn(invoice.name, html)
        self.assertIn(self.refund.name, html)
        self.assertIn("Default interest (§288 BGB)", html)
        self.assertIn("Dunning fee", html)
        pdf = letter.attachment_id.raw
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], "letter_en.pdf"), "wb") as file:
                file.write(pdf)
        text = self._pdf_text(pdf)
        self.assertIn("Second Dunning Letter", text)
        self.assertIn(self.invoices[0].name, text)
        # the amount asked for is the open balance net of the credit note plus charges
        lines = letter.line_ids
        open_balance = sum(lines.mapped("amount_residual"))
        self.assertEqual(open_balance, 1000.0 + 1100.0 + 1200.0 - 50.0)
        self.assertIn("Amount due", text)

    def test_letter_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"])
        self.second.with_context(lang="de_DE").name = "2. Mahnung"
        self.customer.lang = "de_DE"
        letter = self._validated_letter()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[0]
            .decode()
        )
        self.assertIn("2. Mahnung", html)
        self.assertNotIn("Second Dunning Letter", html)
        german_date = (self.today - timedelta(days=60)).strftime("%d.%m.%Y")
        self.assertIn(german_date, html)
        text = self._pdf_text(letter.attachment_id.raw)
        self.assertIn("2. Mahnung", text)
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], "letter_de.pdf"), "wb") as file:
                file.write(letter.attachment_id.raw)

    def test_many_letters_one_render(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Kunde {i}", "is_company": True, "email": f"k{i}@example.com"} for i in range(4)]
        )
        for partner in partners:
            self._invoice(100.0, partner=partner, days_ago=10)
        run = self._propose()
        self.assertEqual(len(run.letter_ids), 5)
        calls = []
        report_model = type(self.env["ir.actions.report"])
        original = report_model._run_wkhtmltopdf

        def counting(this, bodies, *args, **kwargs):
            calls.append(len(bodies))
            return original(this, bodies, *args, **kwargs)

        with patch.object(report_model, "_run_wkhtmltopdf", counting):
            run.action_validate()
        self.assertEqual(calls, [1], "all letters in one wkhtmltopdf call")
        for letter in run.letter_ids:
            self.assertIn(letter.partner_id.name, self._pdf_text(letter.attachment_id.raw))
            self.assertNotIn(
                (run.letter_ids - letter)[0].partner_id.name, self._pdf_text(letter.attachment_id.raw)
            )
        merged = PdfFileReader(io.BytesIO(run.attachment_id.raw))
        self.assertGreaterEqual(len(merged.pages), 5)
