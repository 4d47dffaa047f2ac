import io
from datetime import timedelta
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.credit_control.models import credit_dunning_run_validation as validation
from odoo.addons.credit_control.models.account_move import DUNNING_WRITE
from odoo.addons.credit_control.reports.credit_dunning_letter_report import _CellFormatter as cell_formatter

from .dunning_common import DunningCommon

# queries the validation of N letters may run more than that of one letter (issue #16): the
# e-mails are posted in one batch, like the rest (1 letter: 90 queries, 6 letters: 96 on
# 2026-12-04; message_post per letter added about 12 per letter)
QUERIES_PER_EXTRA_LETTER = 2
QUERIES_CONSTANT = 5


@tagged("post_install", "-at_install")
class TestDunningValidateBatch(DunningCommon):
    """Validating a run: the work done for all letters together (e-mails queued in one batch,
    PDFs by one wkhtmltopdf process per chunk of letters), nothing lost on the way."""

    def _run_for(self, count):
        partners = self.env["res.partner"].create(
            [
                {"name": f"Batch Kunde {count}-{i}", "is_company": True, "email": f"b{count}-{i}@example.com"}
                for i in range(count)
            ]
        )
        for partner in partners:
            self._invoice(100.0, partner=partner, days_ago=10)
        run = self._propose(partners=partners)
        self.assertEqual(len(run.letter_ids), count)
        return run

    def _validate_queries(self, run):
        self.env.flush_all()
        self.env.invalidate_all()
        count = self.cr.sql_log_count
        run.action_validate()
        self.env.flush_all()
        return self.cr.sql_log_count - count

    def test_query_count_does_not_grow_beyond_the_emails(self):
        """The validation of 6 letters runs at most QUERIES_PER_EXTRA_LETTER queries per extra
        letter (+ QUERIES_CONSTANT) more than that of one letter."""
        self._run_for(1).action_validate()  # warm-up: the first validation fills caches
        one = self._validate_queries(self._run_for(1))
        six = self._validate_queries(self._run_for(6))
        self.assertLessEqual(
            six - one,
            5 * QUERIES_PER_EXTRA_LETTER + QUERIES_CONSTANT,
            f"1 letter: {one} queries, 6 letters: {six} queries",
        )

    def test_every_letter_keeps_pdf_email_and_trace(self):
        run = self._run_for(6)
        run.action_validate()
        for letter in run.letter_ids:
            self.assertEqual(letter.state, "done")
            self.assertTrue(letter.attachment_id.raw.startswith(b"%PDF"))
            message = letter.email_message_id
            self.assertTrue(message, letter.partner_id.name)
            self.assertEqual(message.attachment_ids, letter.attachment_id)
            # queued while the PDFs were rendered: the attachment got its PDF afterwards
            self.assertTrue(message.attachment_ids.raw.startswith(b"%PDF"))
            self.assertGreater(message.attachment_ids.file_size, 1000)
            self.assertEqual(message.record_name, letter.display_name)
            self.assertEqual(letter.email_state, "queued")
            mail = message.notification_ids.mail_mail_id
            self.assertEqual(mail.recipient_ids, letter.recipient_id)
            self.assertEqual(mail.state, "outgoing")
            # the author follows the letter, as message_post would have made them
            self.assertIn(self.env.user.partner_id, letter.message_partner_ids)
            note = self.env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "=", letter.partner_id.id)]
            )
            self.assertIn(letter.attachment_id, note.attachment_ids)

    def test_previous_letters_per_customer(self):
        """Each letter of a run lists its own customer's earlier letters only, newest first."""
        first_run = self._run_for(2)
        first_run.action_validate()
        partners = first_run.letter_ids.partner_id
        second_run = self._propose(date=self.today + timedelta(days=15), partners=partners)
        second_run.action_validate()
        third_run = self._propose(date=self.today + timedelta(days=30), partners=partners)
        self.assertEqual(len(third_run.letter_ids), 2)
        for letter in third_run.letter_ids:
            earlier = (second_run.letter_ids | first_run.letter_ids).filtered(
                lambda other, letter=letter: other.partner_id == letter.partner_id
            )
            self.assertEqual(len(earlier), 2)
            self.assertEqual(letter.previous_letter_ids.ids, earlier.sorted("dunning_date", reverse=True).ids)
        # a letter of the first run has none, one of the second run the first's
        self.assertFalse(first_run.letter_ids.previous_letter_ids)
        for letter in second_run.letter_ids:
            self.assertEqual(
                letter.previous_letter_ids,
                first_run.letter_ids.filtered(
                    lambda other, letter=letter: other.partner_id == letter.partner_id
                ),
            )

    def test_one_failing_email_does_not_stop_the_others(self):
        run = self._run_for(3)
        failing = run.letter_ids[1]
        model = type(self.env["credit.dunning.letter"])
        original = model._post_emails

        def post_emails(this, post_values):
            if failing in this:
                raise ValueError("broken template")
            return original(this, post_values)

        with patch.object(model, "_post_emails", post_emails):
            run.action_validate()
        self.assertEqual(run.state, "done")
        for letter in run.letter_ids - failing:
            self.assertEqual(letter.email_state, "queued")
            self.assertEqual(len(letter.email_message_id), 1)
        self.assertFalse(failing.email_message_id)
        self.assertEqual(failing.letter_state, "to_print")
        self.assertIn("could not be queued", failing.message_ids[0].body)
        # it goes by post: in the run's file of the letters to print
        self.assertIn(failing.partner_id.name, self._pdf_text(run.attachment_id.raw))

    def test_pdfs_in_parallel_chunks(self):
        """With several CPUs the letters are cut into chunks, each converted by its own
        wkhtmltopdf process; every letter still gets its own PDF."""
        run = self._run_for(5)
        self.assertEqual(validation._chunks(5), [(0, 5)], "few letters: one process")
        with (
            patch.object(validation, "PDF_CHUNK_MIN_LETTERS", 2),
            patch.object(validation.os, "cpu_count", return_value=2),
        ):
            self.assertEqual(validation._chunks(5), [(0, 3), (3, 5)])
            run.action_validate()
        for letter in run.letter_ids:
            text = self._pdf_text(letter.attachment_id.raw)
            self.assertIn(letter.partner_id.name, text)
            for other in run.letter_ids - letter:
                self.assertNotIn(other.partner_id.name, text)

    def _pdf_text(self, pdf):
        reader = PdfFileReader(io.BytesIO(pdf))
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@tagged("post_install", "-at_install")
class TestDunningLetterCells(DunningCommon):
    """The line table's cells, formatted in Python once per value (not a t-field per cell),
    give the HTML the t-fields gave, in English and in German."""

    def test_cells_as_t_field(self):
        self.env["res.lang"]._activate_lang("de_DE")
        invoice = self._invoice(12345.67, days_ago=40)
        self._invoice(50.0, days_ago=3, move_type="out_refund")
        run = self._propose()
        letter = run.letter_ids
        letter.line_ids.filtered(lambda line: line.move_id == invoice).with_context(
            credit_dunning_write=DUNNING_WRITE
        ).write({"interest_amount": 1234.5, "flat_fee_amount": 40.0})
        report = self.env["report.credit_control.report_dunning_letter"]
        fields = {
            "name": "move_id.name",
            "date_invoice": "date_invoice",
            "date_due": "date_due",
            "days_overdue": "days_overdue",
            "amount_total": "amount_total",
            "amount_residual": "amount_residual",
            "interest": "interest_amount",
            "flat_fee": "flat_fee_amount",
        }
        for lang in ("en_US", "de_DE"):
            self.customer.lang = lang
            cells = report._get_letter_values(letter)["cells"]
            qweb = self.env["ir.qweb"].with_context(lang=lang)
            for line in letter.line_ids:
                for cell, field in fields.items():
                    if not line.mapped(field)[0] and cell != "days_overdue":
                        continue
                    expected = qweb._render(
                        etree.fromstring(f'<t><span t-field="line.{field}"/></t>'), {"line": line}
                    )
                    got = qweb._render(
                        etree.fromstring('<t><span t-out="value"/></t>'), {"value": cells[line.id][cell]}
                    )
                    self.assertEqual(str(got), str(expected), f"{lang} {cell}")

    def test_cell_formatter_as_converters(self):
        """The cell formatter gives what Odoo's date, integer and monetary converters give, for
        negative, large and zero values, a currency before and after the amount, two languages."""
        self.env["res.lang"]._activate_lang("de_DE")
        usd = self.env.ref("base.USD")
        eur = self.env.ref("base.EUR")
        dates = [fields.Date.to_date("2026-01-05"), fields.Date.to_date("2026-12-31")]
        for lang in ("en_US", "de_DE"):
            lang_env = self.env(context=dict(self.env.context, lang=lang))
            formatter = cell_formatter(lang_env)
            converters = {
                kind: lang_env["ir.qweb.field.%s" % kind] for kind in ("date", "integer", "monetary")
            }
            for value in dates:
                self.assertEqual(formatter.format("date", value), converters["date"].value_to_html(value, {}))
            for value in (0, 7, -12, 1234567):
                self.assertEqual(
                    formatter.format("integer", value), converters["integer"].value_to_html(value, {})
                )
            for currency in (usd, eur):
                for value in (0.0, 0.005, 40.0, -50.0, 1234.5, -1234567.891):
                    expected = converters["monetary"].value_to_html(value, {"display_currency": currency})
                    got = formatter.format("monetary", value, currency)
                    self.assertEqual(str(got), str(expected), f"{lang} {currency.name} {value}")
