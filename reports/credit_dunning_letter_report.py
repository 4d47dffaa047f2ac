import ast
import logging
from collections import defaultdict

import babel.dates
from markupsafe import Markup, escape

from odoo import api, models
from odoo.tools import format_date, formatLang
from odoo.tools.misc import babel_locale_parse, get_lang, posix_to_ldml

from odoo.addons.base.models.res_lang import intersperse

from .credit_report_layout import DIN5008_LAYOUT

_logger = logging.getLogger(__name__)

# the SEPA credit transfer QR code ("GiroCode") of Odoo's account_qr_code_sepa module
SEPA_QR_METHOD = "sct_qr"
# table rows per page: the first page also holds the window address, the title and the
# introduction. The letter paginates itself (each page its own table with its header) because
# wkhtmltopdf without patched Qt neither repeats a thead nor keeps rows whole at a page break.
FIRST_PAGE_ROWS = 20
NEXT_PAGE_ROWS = 32


class ReportDunningLetter(models.AbstractModel):
    _name = "report.credit_control.report_dunning_letter"
    _description = "Dunning Letter Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        letters = self.env["credit.dunning.letter"].browse(docids)
        formats = {}  # shared by the letters: each date and amount formatted once per language
        return {
            "doc_ids": docids,
            "doc_model": "credit.dunning.letter",
            "docs": letters,
            "letter_values": {letter.id: self._get_letter_values(letter, formats) for letter in letters},
        }

    @api.model
    def _get_letter_values(self, letter, formats=None):
        """Everything the letter shows, computed here and not in QWeb: invoice and credit lines
        (their cells formatted as ``t-field`` would, see ``_line_cells``), totals per currency
        (open balance + interest + fees: never the original total), the company's bank account
        and the earlier letters. ``formats``: the formatted values of earlier letters."""
        company = letter.company_id
        lines = letter.line_ids.sorted(
            lambda line: (line.line_type != "invoice", line.date_due or line.date_invoice)
        )
        total_list = self._letter_totals(letter, lines)
        # the first account with an IBAN (the one a transfer and the GiroCode need)
        banks = company.partner_id.bank_ids
        bank = banks.filtered(lambda b: b.acc_type == "iban")[:1] or banks[:1]
        references = self._letter_payment_reference(letter, lines)
        invoice_lines = lines.filtered(lambda line: line.line_type == "invoice")
        credit_lines = lines.filtered(lambda line: line.line_type == "credit")
        rows = [("invoice", line) for line in invoice_lines]
        if credit_lines:
            rows += [("section", None)] + [("credit", line) for line in credit_lines]
        lang_env = letter.with_context(
            lang=letter.recipient_id.lang or letter.partner_id.lang or self.env.lang
        ).env
        return {
            "cells": self._line_cells(lang_env, lines, {} if formats is None else formats),
            # sudo: the layout is a view (ir.ui.view), readable by administrators only; a
            # Credit Manager or collector previewing a proposed letter got HTTP 403 here
            "din5008": company.sudo().external_report_layout_id.key == DIN5008_LAYOUT,
            "interest_info": self._get_interest_info(lang_env, letter, invoice_lines),
            "pages": self._paginate(rows),
            "qr_code": self._get_qr_code(letter, bank, total_list, references),
            "invoice_lines": lines.filtered(lambda line: line.line_type == "invoice"),
            "credit_lines": lines.filtered(lambda line: line.line_type == "credit"),
            "totals": total_list,
            "has_charges": any(t["interest"] or t["flat_fee"] or t["fee"] for t in total_list),
            "bank": bank,
            "payment_reference": references,
            "previous_letters": letter.previous_letter_ids[:5],
            "charge_invoices": letter.charge_move_ids.filtered(lambda move: move.state == "posted"),
            "sender_line": self._letter_sender_line(company),
        }

    @api.model
    def _line_cells(self, lang_env, lines, formats):
        """{line id: {cell: HTML}} of the line table, each value formatted as the converter a
        ``t-field`` of the line's field formats it (same HTML, in the letter's language, see
        ``_CellFormatter``), each distinct date or amount once per language (``formats``,
        shared by the letters of a run) instead of once per cell."""
        lang = lang_env.lang
        formatter = formats.get(("formatter", lang))
        if formatter is None:
            formatter = formats[("formatter", lang)] = _CellFormatter(lang_env)

        def fmt(kind, value, currency=None):
            if value is False or value is None:
                return ""
            key = (lang, kind, value, currency and currency.id)
            if key not in formats:
                formats[key] = formatter.format(kind, value, currency)
            return formats[key]

        return {
            line.id: {
                "name": line.move_id.name or "",
                "date_invoice": fmt("date", line.date_invoice),
                "date_due": fmt("date", line.date_due),
                "days_overdue": fmt("integer", line.days_overdue),
                "amount_total": fmt("monetary", line.amount_total, line.currency_id),
                "amount_residual": fmt("monetary", line.amount_residual, line.currency_id),
                "interest": fmt("monetary", line.interest_amount, line.currency_id),
                "flat_fee": fmt("monetary", line.flat_fee_amount, line.currency_id),
            }
            for line in lines
        }

    @api.model
    def _letter_totals(self, letter, lines):
        """Totals per currency: open balance, interest, flat fees, the letter's fee and their sum
        (never the documents' original totals)."""
        totals = defaultdict(lambda: {"open": 0.0, "interest": 0.0, "flat_fee": 0.0, "fee": 0.0})
        for line in lines:
            total = totals[line.currency_id]
            total["open"] += line.amount_residual
            total["interest"] += line.interest_amount
            total["flat_fee"] += line.flat_fee_amount
        if letter.fee_amount:
            totals[letter.currency_id]["fee"] += letter.fee_amount
        return [
            {
                "currency": currency,
                **values,
                "total": currency.round(
                    values["open"] + values["interest"] + values["flat_fee"] + values["fee"]
                ),
            }
            for currency, values in totals.items()
        ]

    @api.model
    def _letter_payment_reference(self, letter, lines):
        """The transfer's reference: the invoice numbers, or the customer and the letter's date
        when they do not fit."""
        references = ", ".join(
            name
            for name in lines.filtered(lambda line: line.line_type == "invoice").move_id.mapped("name")
            if name
        )
        if len(references) > 60:
            # too many numbers for a transfer's reference (140 characters in SEPA): the customer
            # and the letter identify the payment
            lang_env = letter.with_context(
                lang=letter.recipient_id.lang or letter.partner_id.lang or self.env.lang
            ).env
            references = lang_env._(
                "Customer %(customer)s, letter of %(date)s",
                customer=letter.partner_id.ref or letter.partner_id.name,
                date=format_date(lang_env, letter.dunning_date),
            )
        return references

    @api.model
    def _letter_sender_line(self, company):
        """The sender line above the address window."""
        return " · ".join(
            part
            for part in (company.name, company.street, " ".join(p for p in (company.zip, company.city) if p))
            if part
        )

    @api.model
    def _get_interest_info(self, lang_env, letter, lines):
        """Per line with interest: its period and annual rate in words, e.g.
        "15.10.2026 – 02.12.2026 at 11.27 %" (several rates when the base rate changed)."""
        info = {}
        base_rates = self.env["credit.base.rate"]
        company = letter.company_id
        for line in lines.filtered(lambda line: line.interest_amount and line.interest_date_from):
            business = line.partner_id.is_company
            points = company.credit_interest_points_consumer
            if business:
                points = company.credit_interest_points_business
            date_to = letter.dunning_date
            try:
                periods = base_rates._get_rate_periods(line.interest_date_from, date_to)
            except Exception:  # noqa: BLE001 - a missing base rate must not stop the letter
                periods = []
            rates = []
            for _first, _last, base_rate in periods:
                rate = max(base_rate + points, 0.0)
                if rate not in rates:
                    rates.append(rate)
            info[line.id] = lang_env._(
                "%(date_from)s – %(date_to)s at %(rate)s p.a.",
                date_from=format_date(lang_env, line.interest_date_from),
                date_to=format_date(lang_env, date_to),
                rate=" / ".join(f"{formatLang(lang_env, rate, digits=2)} %" for rate in rates),
            )
        return info

    @api.model
    def _paginate(self, rows):
        """The table rows cut into pages: FIRST_PAGE_ROWS, then NEXT_PAGE_ROWS each."""
        pages = [rows[:FIRST_PAGE_ROWS]]
        for start in range(FIRST_PAGE_ROWS, len(rows), NEXT_PAGE_ROWS):
            pages.append(rows[start : start + NEXT_PAGE_ROWS])
        return pages

    @api.model
    def _get_qr_code(self, letter, bank, totals, reference):
        """A SEPA payment QR code (data URI) for the letter's EUR total, made by Odoo's own
        ``res.partner.bank`` QR API, whenever the SEPA QR module is installed and the company's
        account qualifies (a SEPA IBAN), whatever the invoices' QR setting; else None."""
        if not bank:
            return None
        if SEPA_QR_METHOD not in dict(bank.get_available_qr_methods_in_sequence()):
            return None
        total = next((t for t in totals if t["currency"].name == "EUR" and t["total"] > 0), None)
        if not total:
            return None
        try:
            return bank.build_qr_code_base64(
                total["total"],
                reference[:140],
                None,
                total["currency"],
                letter.partner_id,
                qr_method=SEPA_QR_METHOD,
                silent_errors=True,
            )
        except Exception as error:  # noqa: BLE001 - a missing barcode backend must not stop the letter
            _logger.warning("Dunning letter %s: no payment QR code (%s)", letter.id, error)
            return None


class _CellFormatter:
    """The ``value_to_html`` of Odoo's date, integer and monetary QWeb converters (what a
    ``t-field`` shows, options left at their defaults) for one language, with the language's
    data (date format, grouping, separators) read once instead of through the registry cache at
    every value (about 2.5 ms a value, 0.5 s for a run of 100 letters). Checked against the
    converters by ``test_cells_as_t_field``."""

    def __init__(self, env):
        lang = get_lang(env)
        self.locale = babel_locale_parse(lang.code)
        self.date_format = posix_to_ldml(lang.date_format, locale=self.locale)
        self.grouping = ast.literal_eval(lang.grouping)
        self.thousands_sep = lang.thousands_sep or ""
        self.decimal_point = lang.decimal_point

    def format(self, kind, value, currency=None):
        if kind == "date":
            # ir.qweb.field.date -> odoo.tools.format_date (a date: no time zone)
            return babel.dates.format_date(value, format=self.date_format, locale=self.locale)
        if kind == "integer":
            # ir.qweb.field.integer -> res.lang.format("%d", grouping=True)
            return intersperse("%d" % value, self.grouping, self.thousands_sep)[0].replace(
                "-", "-\N{ZERO WIDTH NO-BREAK SPACE}"
            )
        # ir.qweb.field.monetary -> res.lang.format("%.<decimals>f", grouping=True), the symbol
        parts = (f"%.{currency.decimal_places}f" % currency.round(value)).split(".")
        parts[0] = intersperse(parts[0], self.grouping, self.thousands_sep)[0]
        amount = (
            self.decimal_point.join(parts)
            .replace(" ", "\N{NO-BREAK SPACE}")
            .replace("-", "-\N{ZERO WIDTH NO-BREAK SPACE}")
        )
        pre = post = ""
        if currency.position == "before":
            pre = "{}\N{NO-BREAK SPACE}".format(currency.symbol or "")
        else:
            post = "\N{NO-BREAK SPACE}{}".format(currency.symbol or "")
        # as Markup(...).format(), escaping each part, without its (slow) string.Formatter
        return Markup(
            '%s<span class="oe_currency_value">%s</span>%s' % (escape(pre), escape(amount), escape(post))
        )
