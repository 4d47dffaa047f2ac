import hashlib
import hmac
import io
import json
import os
import re
import time
from datetime import timedelta
from unittest.mock import patch

import PyPDF2
import qrcode

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import html2plaintext
from odoo.tools.pdf import PdfFileReader

from odoo.addons.credit_control.models import credit_dunning_run_validation as validation
from odoo.addons.credit_control.reports.credit_report_layout import wkhtmltopdf_renders_header_footer

from .common import ManifestsReadMixin
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
        # the letter's name and the run's chatter note give the date in the user's format
        de = self.env(context=dict(self.env.context, lang="de_DE"))
        letter_date = letter.dunning_date.strftime("%d.%m.%Y")
        letter.invalidate_recordset(["display_name"])
        self.assertTrue(letter.with_env(de).display_name.endswith(" – " + letter_date))
        activity = letter.with_env(de)._prepare_activity(de["mail.activity.type"], letter.dunning_date)
        self.assertIn(letter_date, activity["note"])
        # the customer's note was written by the run's user (English: month/day/year, not ISO)
        notes = letter.partner_id.message_ids.filtered(
            lambda message: "Dunning letter" in (message.body or "")
        )
        self.assertIn(letter.dunning_date.strftime("%m/%d/%Y"), " ".join(notes.mapped("body")))
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], "letter_de.pdf"), "wb") as file:
                file.write(letter.attachment_id.raw)

    def test_contact_person_below_the_company_name(self):
        """A letter to a contact without an address of its own goes to the company's address:
        the contact's name on the line below the company's name, above street and city (DIN
        5008), not after the city."""
        contact = self.env["res.partner"].create(
            {
                "name": "Petra Lang",
                "parent_id": self.customer.id,
                "type": "invoice",
                "email": "pl@example.com",
            }
        )
        self.assertFalse(contact.street)
        letter = self._propose().letter_ids
        letter.recipient_id = contact
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[0]
            .decode()
        )
        window = html[html.index('name="din5008_address"') :]
        window = window[window.index(">") + 1 : window.index("</td>")]
        lines = [line for line in html2plaintext(window).splitlines() if line.strip()]
        self.assertEqual(
            [line.strip() for line in lines[1:4]],
            [self.customer.name, "Petra Lang", "Hauptstraße 1"],
            f"window: {lines}",
        )
        self.assertIn("10115", lines[4])
        self.assertIn("Berlin", lines[4])
        self.assertEqual(" ".join(lines).count("Petra Lang"), 1)

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
        original_start = validation._start_wkhtmltopdf

        def counting(this, bodies, *args, **kwargs):
            calls.append(len(bodies))
            return original(this, bodies, *args, **kwargs)

        def counting_start(report_model, report, body, *args):
            # the letters converted in the background (one document per process)
            calls.append(1)
            return original_start(report_model, report, body, *args)

        with (
            patch.object(report_model, "_run_wkhtmltopdf", counting),
            patch.object(validation, "_start_wkhtmltopdf", counting_start),
        ):
            run.action_validate()
        self.assertEqual(calls, [1], "all letters in one wkhtmltopdf call")
        for letter in run.letter_ids:
            self.assertIn(letter.partner_id.name, self._pdf_text(letter.attachment_id.raw))
            self.assertNotIn(
                (run.letter_ids - letter)[0].partner_id.name, self._pdf_text(letter.attachment_id.raw)
            )
        merged = PdfFileReader(io.BytesIO(run.attachment_id.raw))
        self.assertGreaterEqual(len(merged.pages), 5)


@tagged("post_install", "-at_install")
class TestDunningLetterLong(ManifestsReadMixin, DunningCommon, HttpCase):
    """A customer with 30 overdue invoices: the letter runs over two pages, the table header
    repeated on the second. An HttpCase: wkhtmltopdf loads the report's CSS from the test
    server, so the pages break as they do in production."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin"})
        cls.invoices = cls.env["account.move"]
        for index in range(30):
            cls.invoices |= cls._invoice(100.0 + index, days_ago=10 + index)
        # the oldest five reach the second letter: interest and fee columns as well
        cls._set_level(cls.invoices[15:], cls.first, days_ago=14)

    def _pages(self, pdf):
        reader = PdfFileReader(io.BytesIO(pdf))
        return [" ".join(page.extract_text().split()) for page in reader.pages]

    def _check_two_pages(self, headers, name):
        run = self._propose()
        self.assertEqual(len(run.letter_ids.line_ids), 30)
        run.action_validate()
        pdf = run.letter_ids.attachment_id.raw
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], name), "wb") as file:
                file.write(pdf)
        pages = self._pages(pdf)
        self.assertEqual(len(pages), 2, "30 invoices make a two-page letter")
        for number, text in enumerate(pages, start=1):
            for header in headers:
                self.assertIn(header, text, f"table header {header!r} on page {number}")
        # every invoice printed once, some of them on the second page
        all_text = " ".join(pages)
        for invoice in self.invoices:
            self.assertIn(invoice.name, all_text)
        # oldest first: the most recent invoice is a row of the second page
        self.assertIn(self.invoices[0].name, pages[1])
        self.assertNotIn(self.invoices[0].name, pages[0])
        self.assertIn(self.invoices[-1].name, pages[0])
        return pages

    def test_two_pages_english(self):
        pages = self._check_two_pages(
            ["Invoice", "Due Date", "Days Overdue", "Open Amount", "Interest", "Flat Fee (§288(5) BGB)"],
            "long_en.pdf",
        )
        self.assertIn("Amount due", pages[1])
        self.assertIn("Default interest (§288 BGB)", pages[1])

    def test_two_pages_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"])
        self.customer.lang = "de_DE"
        pages = self._check_two_pages(
            [
                "Rechnung",
                "Fälligkeitsdatum",
                "Tage überfällig",
                "Offener Betrag",
                "Zinsen",
                "(§ 288 Abs. 5 BGB)",
            ],
            "long_de.pdf",
        )
        self.assertNotIn("Open Amount", " ".join(pages))


@tagged("post_install", "-at_install")
class TestDunningLetterWindow(ManifestsReadMixin, DunningCommon, HttpCase):
    """The letter as printed in production (an HttpCase: wkhtmltopdf loads the report CSS from
    the test server): the company's details and the address in the envelope's window."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin", "ref": "K-1001"})
        cls._invoice(1000.0, days_ago=60)
        cls._invoice(1100.0, days_ago=45)

    def _pdf_text(self, pdf):
        reader = PdfFileReader(io.BytesIO(pdf))
        return " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    def _validated_letter(self):
        run = self._propose()
        run.action_validate()
        return run.letter_ids

    def _text_positions(self, pdf):
        """(text, x, y) of the text runs of page 1: x in mm from the left page edge, y in mm
        from the top, where the run starts. PyPDF2 hands the text to ``visitor_text`` only when
        the next positioning operator comes (with that operator's matrix): the start is taken
        from the first text-showing operator of the run (``visitor_operand_before``)."""
        page = PyPDF2.PdfReader(io.BytesIO(pdf)).pages[0]
        height = float(page.mediabox.height)
        runs, start = [], {}

        def position(cm, tm):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            return x * 25.4 / 72, (height - y) * 25.4 / 72

        def before(operator, operands, cm, tm):
            if operator in (b"Tj", b"TJ") and "at" not in start:
                start["at"] = position(cm, tm)

        def visitor(text, cm, tm, font_dict, font_size):
            if text.strip():
                if "at" in start:
                    runs.append((" ".join(text.split()), *start["at"]))
                start.clear()

        page.extract_text(visitor_operand_before=before, visitor_text=visitor)
        return runs

    def test_letter_company_details_and_window(self):
        """The letter carries the company's legal details (in the page body: Debian's
        wkhtmltopdf renders no layout footer) and its address sits in the window of a DIN 5008
        envelope: 20 mm from the left edge, below 45 mm from the top."""
        self.company.write(
            {
                "company_registry": "HRB 123456 B, Amtsgericht Charlottenburg",
                "report_footer": "<p>Geschäftsführerin: Erika Mustermann</p>",
                "vat": "DE123456788",
                "city": "Berlin",
            }
        )
        letter = self._validated_letter()
        pdf = letter.attachment_id.raw
        if os.environ.get("CC_DUNNING_PDF_DIR"):
            with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], "letter_window.pdf"), "wb") as file:
                file.write(pdf)
        text = self._pdf_text(pdf)
        if not wkhtmltopdf_renders_header_footer():
            # with a patched wkhtmltopdf these are in the layout's footer (not in the text layer
            # of the body), the layout's own business
            self.assertIn("HRB 123456 B, Amtsgericht Charlottenburg", text)
            self.assertIn("Geschäftsführerin: Erika Mustermann", text)
            self.assertIn("DE123456788", text)
        self.assertIn("DE89370400440532013000", text)
        positions = self._text_positions(pdf)
        street = [run for run in positions if run[0].startswith("Hauptstraße 1")]
        self.assertTrue(street, f"street of the address block in the text layer: {positions[:20]}")
        _text, left, top = street[0]
        self.assertAlmostEqual(left, 20.0, delta=1.0, msg=f"address block's left edge at {left:.1f} mm")
        self.assertGreaterEqual(top, 45.0, "the address starts below the window's top edge")
        self.assertLessEqual(top, 90.0, "the address is inside the window (45 mm high)")
        customer = [run for run in positions if run[0].startswith(self.customer.name)]
        self.assertTrue(customer)
        self.assertAlmostEqual(customer[0][1], 20.0, delta=1.0)


@tagged("post_install", "-at_install")
class TestDunningLetterQrCode(DunningCommon):
    """The SEPA payment QR code through Odoo's res.partner.bank QR API (account_qr_code_sepa)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")
        cls.company.qr_code = True
        cls.invoice = cls._invoice(1190.0, days_ago=10, currency=cls.eur)

    def _html(self, letter):
        return (
            self.env["ir.actions.report"]
            ._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[0]
            .decode()
        )

    def test_no_qr_code_without_sepa_module(self):
        bank_model = type(self.env["res.partner.bank"])
        with patch.object(bank_model, "_get_available_qr_methods", lambda self: []):
            run = self._propose()
            run.action_validate()
            html = self._html(run.letter_ids)
        self.assertNotIn('name="qr_code"', html)
        self.assertIn("DE89370400440532013000", html)

    def test_qr_code_with_sepa_method(self):
        """Stand-in for account_qr_code_sepa (not installed in the test database): the method
        and the payload the module produces; the letter calls Odoo's own build_qr_code_base64."""
        bank_model = type(self.env["res.partner.bank"])
        calls = []
        available = bank_model._get_available_qr_methods

        def methods(self):
            return available(self) + [("sct_qr", "SEPA Credit Transfer QR", 20)]

        def params(self, qr_method, amount, currency, debtor_partner, free_communication, structured):
            if qr_method != "sct_qr":
                raise NotImplementedError()
            calls.append((amount, currency.name, debtor_partner, free_communication))
            value = "\n".join(
                [
                    "BCD",
                    "002",
                    "1",
                    "SCT",
                    "",
                    "Company",
                    self.sanitized_acc_number,
                    f"EUR{amount}",
                    "",
                    "",
                    free_communication or "",
                    "",
                ]
            )
            return {"barcode_type": "QR", "width": 128, "height": 128, "humanreadable": 1, "value": value}

        def barcode(self, barcode_type, value, **kwargs):
            # reportlab's PNG backend is optional: draw the code with the qrcode library
            image = qrcode.make(value, box_size=4, border=2)
            stream = io.BytesIO()
            image.save(stream, format="PNG")
            return stream.getvalue()

        with (
            patch.object(bank_model, "_get_available_qr_methods", methods),
            patch.object(bank_model, "_get_qr_code_generation_params", params),
            patch.object(type(self.env["ir.actions.report"]), "barcode", barcode),
        ):
            run = self._propose()
            run.action_validate()
            html = self._html(run.letter_ids)
            self.assertIn('name="qr_code"', html)
            self.assertIn("data:image/png;base64,", html)
            self.assertEqual(calls[-1][:3], (1190.0, "EUR", self.customer))
            self.assertIn(self.invoice.name, calls[-1][3])
            # the PDF carries the image
            pdf = run.letter_ids.attachment_id.raw
            self.assertIn(b"/Image", pdf)
            if os.environ.get("CC_DUNNING_PDF_DIR"):
                with open(os.path.join(os.environ["CC_DUNNING_PDF_DIR"], "letter_qr.pdf"), "wb") as file:
                    file.write(pdf)
            # the GiroCode whenever the company has an IBAN, even with the invoices' QR codes off;
            # none for a total in another currency
            self.company.qr_code = False
            self.assertIn('name="qr_code"', self._html(run.letter_ids))
            self.company.qr_code = True
            run_usd = self.run_model._create_runs(self.company, self.today, partners=self._usd_customer())
            self.assertNotIn('name="qr_code"', self._html(run_usd.letter_ids))

    def _usd_customer(self):
        partner = self.env["res.partner"].create(
            {"name": "Dollar Inc", "is_company": True, "email": "d@x.example"}
        )
        self._invoice(500.0, partner=partner, days_ago=10)
        return partner


@tagged("post_install", "-at_install")
class TestDunningLetterTexts(DunningCommon):
    """The letter of every default level (data/credit_dunning_level_data.xml), in English and in
    German, says each sentence once: the level's texts together with the letter's own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._invoice(1000.0, days_ago=60)
        cls._invoice(500.0, days_ago=40)

    LEVELS = (
        "credit_control.credit_dunning_level_reminder",
        "credit_control.credit_dunning_level_first",
        "credit_control.credit_dunning_level_second",
        "credit_control.credit_dunning_level_final",
        "credit_control.credit_dunning_level_collection",
    )

    def _sentences(self, html):
        body = html[html.index("o_credit_dunning_letter") :]
        body = re.sub(r"<style.*?</style>", " ", body, flags=re.S)
        text = " ".join(html2plaintext(body).split())
        return [s.strip() for s in re.split(r"(?<=[.!?:])\s+", text) if len(s.split()) >= 4]

    def _check_levels(self, lang):
        self.customer.lang = lang
        self.company.credit_portal_enabled = True
        run = self._propose()
        letter = run.letter_ids
        self.assertEqual(len(letter), 1)
        report = self.env["ir.actions.report"]
        # the default scale copied for the test company, as every company gets it
        self.levels.sudo().write({"active": False})
        copies = self.env["credit.dunning.level"].with_context(active_test=False)
        for xmlid in self.LEVELS:
            copies |= self.env.ref(xmlid).sudo().copy({"company_id": self.company.id})
        for xmlid, level in zip(self.LEVELS, copies, strict=True):
            # the default level's texts on this letter (a proposal: the level may still change)
            letter.level_id = level
            html = report._render_qweb_html("credit_control.credit_dunning_letter_report_action", letter.ids)[
                0
            ].decode()
            sentences = self._sentences(html)
            self.assertTrue(sentences, xmlid)
            # the letter is in the customer's language (the level's own translation)
            self.assertIn(level.with_context(lang=lang).name, html)
            if lang == "de_DE":
                self.assertNotEqual(level.with_context(lang=lang).name, level.with_context(lang="en_US").name)
            repeated = {s for s in sentences if sentences.count(s) > 1}
            self.assertFalse(repeated, f"{xmlid} ({lang}) repeats: {repeated}")
            lowered = " ".join(sentences).lower()
            for word in ("disregard", "gegenstandslos"):
                self.assertLessEqual(lowered.count(word), 1, f"{xmlid} ({lang}): {word!r} more than once")
            if level.is_collection:
                self.assertNotIn('name="payment_instructions"', html, "after the handover: pay the agency")
                self.assertNotIn("o_credit_portal_letter_link", html, "nor pay online on our portal")
            else:
                self.assertIn("o_credit_portal_letter_link", html, xmlid)

    def test_default_levels_english(self):
        self._check_levels("en_US")

    def test_default_levels_german(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["credit_control"], ["de_DE"])
        self._check_levels("de_DE")


@tagged("post_install", "-at_install")
class TestDunningLetterProposalPdf(ManifestsReadMixin, DunningCommon, HttpCase):
    """A Credit Manager (and a collector) opens the PDF of a proposed letter from the letter's
    form or the run, through the URLs the web client calls: the PDF, not HTTP 403."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"street": "Hauptstraße 1", "zip": "10115", "city": "Berlin"})
        cls._invoice(1000.0, days_ago=60)
        cls._invoice(1100.0, days_ago=45)
        # the demo's Credit Manager: invoicing rights, all sales leads, no accounting settings
        cls.demo_manager = new_test_user(
            cls.env,
            "cc_demo_manager",
            groups="base.group_user,credit_control.credit_control_group_manager,"
            "account.group_account_invoice,sales_team.group_sale_salesman_all_leads",
            company_id=cls.company.id,
        )

    def _proposal_letter(self):
        run = self._propose()
        self.assertEqual(run.state, "draft", "the run is at the proposal stage")
        self.assertTrue(run.letter_ids)
        return run.letter_ids[:1]

    def _csrf_token(self):
        """The token the web client posts with /report/download (as ``request.csrf_token``)."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        max_ts = int(time.time() + 3600)
        digest = hmac.new(secret.encode(), f"{self.session.sid}{max_ts}".encode(), hashlib.sha1).hexdigest()
        return f"{digest}o{max_ts}"

    def _check_pdf(self, login, letter):
        self.session = self.authenticate(login, login)
        report = self.env.ref("credit_control.credit_dunning_letter_report_action")
        # what the letter's Print button returns (the web client opens that action)
        action = letter.with_user(self.env["res.users"].search([("login", "=", login)])).action_print()
        self.assertEqual(action["report_name"], report.report_name)
        url = f"/report/pdf/{report.report_name}/{letter.id}"
        # a test server renders the report's HTML instead of the PDF (its requests share one
        # cursor: wkhtmltopdf could not load the CSS from it while the report request waits);
        # the access error came from the report's values, the same for HTML and PDF
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, f"{login}: {url} -> {response.status_code}")
        self.assertIn(self.customer.name, response.text)
        self.assertIn("o_credit_dunning_letter", response.text)
        # the web client's download: /report/download with [url, type]
        response = self.url_open(
            "/report/download",
            data={
                "data": json.dumps([url, "qweb-pdf"]),
                "context": json.dumps({"lang": "en_US"}),
                "token": "dummy",
                "csrf_token": self._csrf_token(),
            },
        )
        self.assertEqual(response.status_code, 200, f"{login}: /report/download -> {response.status_code}")
        self.assertIn(self.customer.name, response.text)

    def test_credit_manager_opens_proposed_letter(self):
        self._check_pdf("cc_manager", self._proposal_letter())

    def test_demo_credit_manager_opens_proposed_letter(self):
        self._check_pdf("cc_demo_manager", self._proposal_letter())

    def test_collector_opens_proposed_letter(self):
        self._check_pdf("cc_collector", self._proposal_letter())
