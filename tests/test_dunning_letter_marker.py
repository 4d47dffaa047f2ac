from odoo.tests import TransactionCase, tagged

from ..models import credit_dunning_run_validation as validation


@tagged("post_install", "-at_install")
class TestLetterMarker(TransactionCase):
    """The PDF of a run is cut into letters at each letter's marker; text written into a letter
    (a customer's name, a reference) cannot pose as another letter's marker."""

    def _pdf(self, pages):
        html = "".join(
            f'<div style="{"page-break-before: always; " if number else ""}font-size: 14px;">{text}</div>'
            for number, text in enumerate(pages)
        )
        return self.env["ir.actions.report"]._run_wkhtmltopdf([f"<html><body>{html}</body></html>"])

    def test_forged_and_prefix_markers_ignored(self):
        key = "0f1e2d3c4b5a6978"
        marker = validation.LETTER_MARKER
        pdf = self._pdf(
            [
                f"{marker % (key, 12)} Letter twelve, page one",
                # letter 12's second page: its customer calls itself like another letter's marker
                "Kunde CCDUNNINGLETTER1 CCDUNNINGLETTERX1X CCDUNNINGLETTER0000000000000000X1X",
                f"{marker % (key, 1)} Letter one",
            ]
        )
        pages = {}
        contents = validation._split_by_marker(pdf, [12, 1], pages, key)
        self.assertEqual(set(contents), {12, 1})
        self.assertEqual(len(pages[12]), 2)
        self.assertEqual(len(pages[1]), 1)
        self.assertIn(marker % (key, 1), validation._page_text(pages[1][0]))
        self.assertIn(marker % (key, 12), validation._page_text(pages[12][0]))

    def test_missing_marker_gives_nothing(self):
        key = "0f1e2d3c4b5a6978"
        pdf = self._pdf([f"{validation.LETTER_MARKER % (key, 12)} Letter twelve", "no marker here"])
        # letter 1's marker is missing: nothing is cut (the letters are then rendered one by one)
        self.assertEqual(validation._split_by_marker(pdf, [12, 1], None, key), {})
