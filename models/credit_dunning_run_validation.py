"""Dunning run: validation and sending (re-check, invoices, PDFs, e-mails, calls, chatter)."""

import contextlib
import io
import logging
import os
import secrets
import subprocess
import tempfile
from collections import defaultdict
from urllib.parse import urlparse

import lxml.html
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo import http as odoo_http
from odoo.exceptions import UserError
from odoo.http import request as odoo_request
from odoo.service import security
from odoo.tools import float_compare, format_date
from odoo.tools.mail import generate_tracking_message_id
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, merge_pdf

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

from .account_move import DUNNING_WRITE

_logger = logging.getLogger(__name__)


class CreditDunningRun(models.Model):
    _inherit = "credit.dunning.run"

    # === BUSINESS METHODS: validation === #
    def _action_validate(self):
        """Send the letters: PDFs (the HTML rendered once, one wkhtmltopdf process per chunk
        of letters, running while the e-mails are queued), e-mails queued, letters to print,
        phone calls; invoice levels, dates and chatter updated. Every line is checked again
        first (``_recheck_letters``)."""
        self.ensure_one()
        self = self.with_context(credit_dunning_write=DUNNING_WRITE)  # noqa: PLW0642
        letters = self.letter_ids.filtered(lambda letter: letter.state == "draft")
        (letters.filtered(lambda letter: not letter.line_ids)).unlink()
        letters = letters.exists()
        if not letters:
            raise UserError(_("This dunning run has no letters left to validate."))
        letters = self._recheck_letters(letters)
        if not letters:
            self.write(
                {
                    "state": "cancel",
                    "cancel_reason": _("Nothing left to send at validation: every letter was cancelled."),
                    "cancel_user_id": self.env.user.id,
                    "cancel_date": fields.Datetime.now(),
                }
            )
            return
        lines = letters.line_ids
        escalations = lines.filtered("is_escalation")
        self._update_invoices(escalations)
        # the run's state is tracked; a tracking message on each letter would add nothing
        letters.with_context(mail_notrack=True).state = "done"
        # before rendering: the letters name their charge invoices
        letters._create_charge_invoices()
        # the PDFs are converted in the background while the e-mails are queued: each letter's
        # attachment is created now and gets its PDF once wkhtmltopdf is done
        pdfs = self._start_letter_pdfs(letters)
        try:
            contents = None
            if self.env.registry.in_test_mode():
                # in tests the server answering wkhtmltopdf's requests shares the test's
                # cursor: nothing else may use it meanwhile
                contents = self._finish_letter_pdfs(pdfs)
            letters._attach_pdfs({})
            letters.filtered("channel_letter").letter_state = "to_print"
            self._queue_emails(letters.filtered("channel_email"))
            # while wkhtmltopdf still runs: the calls and the chatter notes (the customer's
            # note names the letter's attachment, which gets its PDF below)
            self._schedule_calls(letters.filtered("channel_phone"))
            self._log_letters(letters)
            if contents is None:
                contents = self._finish_letter_pdfs(pdfs)
        finally:
            self._discard_letter_pdfs(pdfs)
        self._store_letters(letters, contents, pages=pdfs["pages"])
        self.state = "done"
        letters.partner_id.with_company(self.company_id)._refresh_credit_dunning_count()

    def _queue_emails(self, emails):
        """Render and queue the e-mails of the letters ``emails``, all together; a letter whose
        e-mail fails goes by post instead, noted in its chatter."""
        try:
            # all e-mails rendered together; should that fail, each letter renders its own
            with self.env.cr.savepoint():
                contents = emails._render_emails()
        except Exception:  # noqa: BLE001 - the letter that fails is found below
            contents = {}
        try:
            # all e-mails queued together; should one fail, each letter queues its own
            with self.env.cr.savepoint():
                emails._send_email(contents=contents)
        except Exception:  # noqa: BLE001 - the letter that fails is found below
            # the savepoint flushed everything before: drop what the failed batch left in the cache
            self.env.clear()
            for letter in emails:
                try:
                    with self.env.cr.savepoint():
                        letter._send_email(contents=contents)
                except Exception as error:  # noqa: BLE001 - one failing e-mail must not stop the run
                    _logger.warning("Dunning e-mail for letter %s failed: %s", letter.id, error)
                    letter.message_post(body=_("The e-mail could not be queued: %(error)s", error=str(error)))
                    letter.channel_letter = True
                    letter.letter_state = "to_print"

    def _recheck_letters(self, letters):
        """Check every line of ``letters`` again at validation: an item paid or no longer open,
        another customer's, disputed, promised, in a payment plan, paused or handed over since
        the proposal is dropped with a note on its letter; open amounts are brought up to date.
        A letter left without an invoice reaching a new level, or whose open credits now cover
        its overdue items, is cancelled (not sent, no level raised). Set-based: one query for
        the open items, one for the paused customers, one for the exclusion hook. Returns the
        letters still to send."""
        company, date = self.company_id, self.date
        rows = self._get_dunning_candidates(company, date, letters.partner_id)
        current = {(row["move_id"], row["partner_id"]): row for row in rows}
        blocked = self.env["account.move"]._credit_dunning_blocked_move_ids(
            list({row["move_id"] for row in rows}), date
        )
        state = {
            "current": current,
            "paused_partner_ids": self._paused_partner_ids(company, date),
            "blocked": blocked,
            "agency": self.env["account.move"]._credit_blocked_by_agency(list(blocked), date)
            if blocked
            else set(),
        }
        rounding = company.currency_id.rounding
        # the open credits per customer, indexed once (not a scan of all rows per letter)
        credits = defaultdict(list)
        for (__, partner_id), row in current.items():
            if row["residual"] < 0:
                credits[partner_id].append(row)
        to_send = letters.browse()
        for letter in letters:
            self._recheck_letter_lines(letter, state)
            self._recheck_add_new_credits(letter, credits[letter.partner_id.id])
            kept = letter.line_ids
            if not kept.filtered("is_escalation"):
                letter._action_cancel(_("Cancelled at validation: no invoice left that reaches a new level."))
            elif (
                float_compare(sum(kept.mapped("amount_residual_company")), 0.0, precision_rounding=rounding)
                <= 0
            ):
                letter._action_cancel(_("Cancelled at validation: the open credits cover the overdue items."))
            else:
                to_send |= letter
        return to_send

    def _recheck_drop_reason(self, letter, line, row, state):
        """Why ``line`` no longer belongs to ``letter`` (None: it does); ``row``: its open item now."""
        owner = line.move_id.commercial_partner_id
        is_invoice = line.line_type == "invoice"
        if owner and owner != letter.partner_id and not row:
            return _("another customer's document")
        if not row or is_invoice != (row["residual"] > 0):
            return _("paid or no longer open")
        if is_invoice and (row["paused"] or letter.partner_id.id in state["paused_partner_ids"]):
            return _("dunning paused")
        if is_invoice and row["move_id"] in state["agency"]:
            return _("handed over to the collection agency")
        if is_invoice and row["move_id"] in state["blocked"]:
            return _("disputed, under a promise to pay or a payment plan")
        return None

    def _recheck_letter_lines(self, letter, state):
        """Drop the lines of ``letter`` that no longer belong to it (noted on the letter) and
        bring the open amounts of the others up to date."""
        rounding = self.company_id.currency_id.rounding
        drops = []
        for line in letter.line_ids:
            row = state["current"].get((line.move_id.id, letter.partner_id.id))
            reason = self._recheck_drop_reason(letter, line, row, state)
            if reason:
                drops.append((line, reason))
            elif float_compare(row["residual"], line.amount_residual_company, precision_rounding=rounding):
                line.write(
                    {
                        "amount_residual": row["residual_currency"],
                        "amount_residual_company": row["residual"],
                    }
                )
        if drops:
            letter._message_log(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    _("Dropped from the letter at validation:"),
                    Markup().join(
                        Markup("<li>%s</li>")
                        % _("%(document)s: %(reason)s", document=line.move_id.display_name, reason=reason)
                        for line, reason in drops
                    ),
                )
            )
            self.env["credit.dunning.line"].union(*(line for line, __ in drops)).unlink()

    def _recheck_add_new_credits(self, letter, credits):
        """Open credits that arrived after the proposal are shown on the letter and netted too;
        ``credits``: the rows of the customer's open credits now."""
        date = self.date
        known = set(letter.line_ids.move_id.ids)
        new_credits = [row for row in credits if row["move_id"] not in known]
        if new_credits:
            self.env["credit.dunning.line"].create(
                [
                    {
                        "letter_id": letter.id,
                        "move_id": row["move_id"],
                        "line_type": "credit",
                        "currency_id": row["currency_id"],
                        "date_invoice": row["date_invoice"],
                        "date_due": row["date_due"],
                        "days_overdue": max((date - row["date_due"]).days, 0),
                        "amount_total": row["amount_total"],
                        "amount_residual": row["residual_currency"],
                        "amount_residual_company": row["residual"],
                    }
                    for row in new_credits
                ]
            )

    def _update_invoices(self, escalations):
        """Write each escalated invoice's new level and date, grouped by level (one write per
        level, not per invoice)."""
        date = self.date
        by_level = defaultdict(lambda: self.env["account.move"])
        for line in escalations:
            by_level[line.level_id] |= line.move_id
        # only dunning fields change: no need to re-synchronise the invoices' tax and payment
        # term lines (the costliest part of writing a posted invoice); no tracking message
        # either, the note of _log_letters documents the letter, its level and its run
        context = {"credit_dunning_write": DUNNING_WRITE, "skip_invoice_sync": True, "mail_notrack": True}
        for level, moves in by_level.items():
            moves.with_context(**context).write(
                {"credit_dunning_level_id": level.id, "credit_dunning_date": date}
            )
        escalations.filtered("flat_fee_amount").move_id.with_context(**context).write(
            {"credit_dunning_flat_fee_charged": True}
        )

    def _store_letters(self, letters, contents, pages=None):
        """Each letter's PDF (bytes by letter id) into its attachment, the printable letters
        (all when none goes by post) merged into the run's file. ``pages``: the pages of each
        letter in the converted documents (``_finish_letter_pdfs``): the run's file is made of
        them, its fonts and images written once, instead of merging the letters' PDFs again."""
        letters._attach_pdfs(contents)
        printable = letters.filtered("channel_letter") or letters
        if pages and all(letter.id in pages for letter in printable):
            writer = PdfFileWriter()
            for letter in printable:
                for page in pages[letter.id]:
                    writer.add_page(page)
            stream = io.BytesIO()
            writer.write(stream)
            merged = stream.getvalue()
        else:
            merged = merge_pdf([contents[letter.id] for letter in printable])
        self.attachment_id = self.env["ir.attachment"].create(
            {
                "name": "%s.pdf" % self.name.replace("/", "-"),
                "raw": merged,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )

    @api.model
    def _render_letter_pdfs(self, letters):
        """PDF bytes per letter id (``_start_letter_pdfs``, then ``_finish_letter_pdfs``)."""
        pdfs = self._start_letter_pdfs(letters)
        try:
            return self._finish_letter_pdfs(pdfs)
        finally:
            self._discard_letter_pdfs(pdfs)

    @api.model
    def _start_letter_pdfs(self, letters):
        """Render the letters' HTML once and start converting it, in the background: the
        bodies are joined into one document per chunk of letters (one page break between
        letters), each chunk converted by its own wkhtmltopdf process, side by side (one
        process for fewer than ``PDF_CHUNK_MIN_LETTERS`` letters or on one CPU). Joining the
        bodies ourselves keeps this to one document per process and also works with a
        wkhtmltopdf without patched Qt, which refuses several input documents. Returns what
        ``_finish_letter_pdfs`` needs; ``_discard_letter_pdfs`` cleans up in any case."""
        report_model = self.env["ir.actions.report"].with_context(debug=False)
        report = report_model._get_report("credit_control.credit_dunning_letter_report_action")
        # each letter's marker carries a random key of this rendering: text a customer or a
        # user wrote into a letter (a name, a reference) cannot pose as another letter's start
        key = secrets.token_hex(8)
        html = report_model.with_context(credit_letter_marker=key)._render_qweb_html(
            report.report_name, letters.ids
        )[0]
        bodies, html_ids, header, footer, paper_args = report._prepare_html(html, report_model=report.model)
        pdfs = {"letters": letters, "report": report, "chunks": [], "processes": [], "pages": {}, "key": key}
        if len(bodies) == len(letters) and set(html_ids) == set(letters.ids):
            for start, end in _chunks(len(bodies)):
                pdfs["chunks"].append(html_ids[start:end])
                pdfs["processes"].append(
                    _start_wkhtmltopdf(
                        report_model, report, _join_bodies(bodies[start:end]), header, footer, paper_args
                    )
                )
        return pdfs

    @api.model
    def _finish_letter_pdfs(self, pdfs):
        """PDF bytes per letter id of a ``_start_letter_pdfs``: each process waited for and its
        PDF cut at the page carrying each letter's marker. Letters whose marker is not found
        (or whose process failed) are rendered one by one."""
        contents = {}
        for res_ids, process in zip(pdfs["chunks"], pdfs["processes"], strict=True):
            pdf = _finish_wkhtmltopdf(process)
            contents.update(_split_by_marker(pdf, res_ids, pdfs["pages"], pdfs["key"]) if pdf else {})
        report_model = self.env["ir.actions.report"].with_context(debug=False)
        for letter in pdfs["letters"].filtered(lambda lt: lt.id not in contents):
            _logger.warning("Dunning letter %s: rendered on its own", letter.id)
            contents[letter.id] = report_model.with_context(force_report_rendering=True)._render_qweb_pdf(
                pdfs["report"].report_name, res_ids=letter.ids
            )[0]
        return contents

    @api.model
    def _discard_letter_pdfs(self, pdfs):
        """Stop the processes of a ``_start_letter_pdfs`` still running, remove their files."""
        for process in pdfs["processes"]:
            _finish_wkhtmltopdf(process, discard=True)

    def _schedule_calls(self, letters):
        # a phone-call level opens a call task for the collector (credit.task)
        for letter in letters:
            values = letter._prepare_activity(self.env["mail.activity.type"], self.date)
            task = self.env["credit.task"]._create_auto(
                "call",
                "dunning_call",
                letter.partner_id,
                values["summary"],
                company=self.company_id,
                user=self.env["res.users"].browse(values["user_id"]),
                dunning_letter_id=letter,
                move_ids=letter.line_ids.move_id,
                date_deadline=self.date,
                description=values["note"],
            )
            letter.activity_id = task.activity_ids[:1]

    def _log_letters(self, letters):
        """Chatter: a note on each customer (with the PDF) and on each dunned invoice, logged
        without notifications (internal notes notify nobody anyway): the customers' notes in
        one batch (the values ``_message_log`` gives each), the invoices' in another."""
        author = self.env.user.partner_id
        # sudo: collectors log on customers they may not edit
        partner_model = self.env["res.partner"].sudo()
        author_id, email_from = partner_model._message_compute_author(author.id, None, raise_on_email=False)
        note_values = {
            "author_id": author_id,
            "email_from": email_from,
            "model": "res.partner",
            "record_alias_domain_id": False,
            "record_company_id": False,
            "record_name": False,
            "message_type": "notification",
            "is_internal": True,
            "subject": False,
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "tracking_value_ids": False,
            "email_add_signature": False,
            "partner_ids": False,
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
        }
        partner_notes, move_bodies = [], {}
        for letter in letters:
            channels = ", ".join(
                label
                for flag, label in (
                    (letter.channel_email, _("e-mail")),
                    (letter.channel_letter, _("letter")),
                    (letter.channel_phone, _("phone call")),
                )
                if flag
            )
            body = Markup("%s") % _(
                "Dunning letter %(level)s of %(date)s (%(run)s) sent by %(channels)s.",
                level=letter.level_id.name,
                date=format_date(self.env, self.date),
                run=self.name,
                channels=channels or _("no channel"),
            )
            partner_notes.append(
                {
                    **note_values,
                    "res_id": letter.partner_id.id,
                    "body": body,
                    "attachment_ids": letter.attachment_id.ids,
                    "message_id": generate_tracking_message_id("message-notify"),
                }
            )
            moves = letter.line_ids.filtered(lambda line: line.line_type == "invoice").move_id
            move_bodies.update(dict.fromkeys(moves.ids, body))
        partner_model._message_create(partner_notes)
        moves = self.env["account.move"].browse(move_bodies)
        moves._message_log_batch(move_bodies, author_id=author.id)


# the marker of a letter in a rendering: the rendering's random key and the letter's id, closed
# by "X" (so that the marker of letter 1 is not a prefix of letter 12's)
LETTER_MARKER = "CCDUNNINGLETTER%sX%sX"
# letters per wkhtmltopdf process at least: below, one process for all (its start-up, about
# 0.3 s, and the shared fonts written into each PDF again cost more than the parallelism gains)
PDF_CHUNK_MIN_LETTERS = 20
PDF_MAX_PROCESSES = 4


def _chunks(count):
    """[(start, end)] of ``count`` letters cut into one chunk per CPU (at most
    PDF_MAX_PROCESSES, each at least PDF_CHUNK_MIN_LETTERS letters)."""
    processes = max(1, min(os.cpu_count() or 1, PDF_MAX_PROCESSES, count // PDF_CHUNK_MIN_LETTERS))
    size = -(-count // processes)
    return [(start, min(start + size, count)) for start in range(0, count, size)] or [(0, 0)]


def _start_wkhtmltopdf(report_model, report, body, header, footer, paper_args):
    """Start wkhtmltopdf on ``body`` in the background with the arguments, header and footer
    ``ir.actions.report._run_wkhtmltopdf`` would give it (the web session's cookie included,
    for the report's internal links); finished by ``_finish_wkhtmltopdf``."""
    command_args = report_model._build_wkhtmltopdf_args(
        report.get_paperformat(), False, specific_paperformat_args=paper_args, set_viewport_size=False
    )
    files, session = [], None
    if odoo_request and odoo_request.db:
        # as _run_wkhtmltopdf: a temporary session that creates no device logs
        session = odoo_http.root.session_store.new()
        session.update({**odoo_request.session, "_trace_disable": True})
        if session.uid:
            session.session_token = security.compute_session_token(session, report_model.env)
        odoo_http.root.session_store.save(session)
        domain = urlparse(report_model._get_report_url()).hostname
        cookie = f"session_id={session.sid}; HttpOnly; domain={domain}; path=/;"
        command_args += ["--cookie-jar", _temporary_file(files, ".txt", cookie)]
    if header:
        command_args += ["--header-html", _temporary_file(files, ".html", header)]
    if footer:
        command_args += ["--footer-html", _temporary_file(files, ".html", footer)]
    body_path = _temporary_file(files, ".html", body)
    pdf_path = _temporary_file(files, ".pdf", "")
    process = subprocess.Popen(  # noqa: S603 - the binary and arguments of Odoo's report engine
        [_get_wkhtmltopdf_bin(), *command_args, body_path, pdf_path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    )
    return {"process": process, "files": files, "session": session, "pdf_path": pdf_path, "done": False}


def _temporary_file(files, suffix, text):
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="credit.dunning.tmp.")
    with os.fdopen(fd, "wb") as file:
        file.write(text.encode())
    files.append(path)
    return path


def _finish_wkhtmltopdf(started, discard=False):
    """The PDF bytes of a process of ``_start_wkhtmltopdf`` (None when it failed: its letters
    are then rendered one by one), its temporary files and session removed. ``discard``: only
    clean up (the process killed if it still runs). Once per process; later calls do nothing."""
    if started["done"]:
        return None
    started["done"] = True
    process = started["process"]
    try:
        if discard:
            if process.poll() is None:
                process.kill()
            process.communicate()
            return None
        __, err = process.communicate()
        if process.returncode not in (0, 1):
            _logger.warning("wkhtmltopdf failed (error code: %s): %s", process.returncode, err[-1000:])
            return None
        if err:
            _logger.warning("wkhtmltopdf: %s", err)
        with open(started["pdf_path"], "rb") as pdf:
            return pdf.read()
    finally:
        if started["session"]:
            odoo_http.root.session_store.delete(started["session"])
        for path in started["files"]:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _join_bodies(bodies):
    """One HTML document holding the articles of all ``bodies`` (each a complete document from
    ``_prepare_html``), a page break before each but the first."""
    root = lxml.html.fromstring(bodies[0])
    first_article = root.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]")[0]
    parent = first_article.getparent()
    for body in bodies[1:]:
        for article in lxml.html.fromstring(body).xpath(
            "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"
        ):
            article.set("style", "page-break-before: always; %s" % (article.get("style") or ""))
            parent.append(article)
    return lxml.html.tostring(root, encoding="unicode")


def _split_by_marker(pdf, res_ids, pages_by_id=None, key=""):
    """PDF bytes per record id (``res_ids`` in the order of the document), cut at the page
    holding each record's marker; empty when a marker is missing. ``pages_by_id``: filled
    with each record's pages (PyPDF2 page objects of the document). ``key``: the rendering's
    random key printed in each marker.

    Fast path: the marker is the only text in a monospaced font, and wkhtmltopdf lists the fonts
    each page uses, so the pages using one are the letters' first pages, in order (checked on
    the last by its text). Otherwise every page's text is searched (PyPDF2's
    text extraction costs about 0.1 s per page)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    pages = reader.pages
    starts = _marker_pages_by_font(pages, res_ids, key)
    if starts is None:
        starts = {}
        markers = {LETTER_MARKER % (key, res_id): res_id for res_id in res_ids}
        for number, page in enumerate(pages):
            text = _page_text(page)
            for marker, res_id in markers.items():
                if res_id not in starts and marker in text:
                    starts[res_id] = number
    ordered = sorted(starts.items(), key=lambda item: item[1])
    if len(ordered) != len(res_ids) or ordered[0][1] != 0:
        return {}
    contents = {}
    for index, (res_id, first) in enumerate(ordered):
        last = ordered[index + 1][1] if index + 1 < len(ordered) else len(pages)
        if last <= first:
            return {}
        writer = PdfFileWriter()
        for number in range(first, last):
            writer.add_page(pages[number])
        stream = io.BytesIO()
        writer.write(stream)
        contents[res_id] = stream.getvalue()
    if pages_by_id is not None:
        for index, (res_id, first) in enumerate(ordered):
            last = ordered[index + 1][1] if index + 1 < len(ordered) else len(pages)
            pages_by_id[res_id] = [pages[number] for number in range(first, last)]
    return contents


def _page_text(page):
    return (page.extract_text() or "").replace(" ", "")


def _marker_pages_by_font(pages, res_ids, key=""):
    """{res_id: first page} from the pages using a monospaced font, or None when they do not
    match the records one to one."""
    numbers = []
    for number, page in enumerate(pages):
        fonts = page.get("/Resources", {}).get("/Font")
        fonts = fonts.get_object() if fonts else {}
        names = [str(fonts[key].get_object().get("/BaseFont", "")) for key in fonts]
        if any("Mono" in name or "Courier" in name for name in names):
            numbers.append(number)
    if len(numbers) != len(res_ids) or not numbers or numbers[0] != 0:
        return None
    # one page's text checked (PyPDF2's extraction is slow): the last letter's marker, on the
    # last page using the font; a letter without its marker or with two would shift it
    if LETTER_MARKER % (key, res_ids[-1]) not in _page_text(pages[numbers[-1]]):
        return None
    return dict(zip(res_ids, numbers, strict=True))
