from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.credit_control.models import credit_dunning_run_validation as validation

from .dunning_common import DunningCommon

# queries the validation of N letters may run more than that of one letter (issue #16): what
# still grows with the letters is Odoo's notification of each e-mail (message_post per letter)
# and the per-letter writes the ORM flushes in batches; the rest is set-based
QUERIES_PER_EXTRA_LETTER = 20
QUERIES_CONSTANT = 15


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

    def test_one_failing_email_does_not_stop_the_others(self):
        run = self._run_for(3)
        failing = run.letter_ids[1]
        model = type(self.env["credit.dunning.letter"])
        original = model.message_post

        def message_post(this, **kwargs):
            if this == failing and kwargs.get("message_type") == "comment":
                raise ValueError("broken template")
            return original(this, **kwargs)

        with patch.object(model, "message_post", message_post):
            run.action_validate()
        self.assertEqual(run.state, "done")
        for letter in run.letter_ids - failing:
            self.assertEqual(letter.email_state, "queued")
            self.assertEqual(len(letter.email_message_id), 1)
        self.assertFalse(failing.email_message_id)
        self.assertEqual(failing.letter_state, "to_print")
        self.assertIn("could not be queued", failing.message_ids[0].body)

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
        import io

        from odoo.tools.pdf import PdfFileReader

        reader = PdfFileReader(io.BytesIO(pdf))
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())
