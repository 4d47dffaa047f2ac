"""Import of credit bureau result files (CSV or XLSX): each matched row becomes a credit check.

All rows are read and validated first; the valid rows are then created in one batch (inside a
savepoint: if that batch fails, nothing of it stays). A rejected row (unknown customer, bad
number, score outside the scale, unknown currency, duplicate) is listed with its reason and
never written; the other rows are imported."""

import base64
import csv
import io
import re
from datetime import date, datetime

from markupsafe import Markup
from stdnum.eu import vat as stdnum_eu_vat

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..models.credit_bureau_provider import FLAG_EMPTY_VALUES

_NON_ALNUM = re.compile(r"[^0-9A-Z]")


def compact_vat(value):
    """The VAT number as stdnum compacts it (country prefix kept), else upper-case letters and
    digits only (a number without a valid EU prefix)."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return stdnum_eu_vat.compact(value)
    except Exception:  # noqa: BLE001 - stdnum raises its own errors for unknown prefixes
        return _NON_ALNUM.sub("", value.upper())


def normalize_register(value):
    """Commercial register number without spaces, punctuation and a leading ``HRB``."""
    value = _NON_ALNUM.sub("", (value or "").upper())
    return value[3:] if value.startswith("HRB") else value


class _RowError(Exception):
    pass


class CreditBureauImport(models.TransientModel):
    _name = "credit.bureau.import"
    _description = "Import Credit Bureau Results"

    # === FIELDS === #
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    provider_id = fields.Many2one(
        "credit.bureau.provider",
        string="Bureau",
        required=True,
        domain="[('company_id', 'in', [False, company_id])]",
    )
    file = fields.Binary(required=True, attachment=False)
    filename = fields.Char()
    state = fields.Selection([("upload", "Upload"), ("done", "Done")], default="upload", required=True)
    line_ids = fields.One2many("credit.bureau.import.line", "import_id", string="Rows")
    imported_count = fields.Integer(compute="_compute_counts")
    rejected_count = fields.Integer(compute="_compute_counts")
    alert_count = fields.Integer(readonly=True)
    reject_file = fields.Binary(string="Rejected Rows", readonly=True, attachment=False)
    reject_filename = fields.Char(readonly=True)

    # === COMPUTE === #
    @api.depends("line_ids.status")
    def _compute_counts(self):
        for wizard in self:
            wizard.imported_count = len(wizard.line_ids.filtered(lambda line: line.status == "imported"))
            wizard.rejected_count = len(wizard.line_ids.filtered(lambda line: line.status == "rejected"))

    # === ACTIONS === #
    def action_import(self):
        self.ensure_one()
        if self.state != "upload":
            raise UserError(self.env._("This file has been imported already."))
        if not self.env.user.has_group("credit_control.credit_control_group_user"):
            raise UserError(self.env._("Only the credit team imports bureau results."))
        header, rows = self._read_file()
        parsed = self._parse_rows(header, rows)
        self._match_rows(parsed)
        self._check_duplicates(parsed)
        lines = self._create_checks(parsed)
        self.line_ids = [fields.Command.create(vals) for vals in lines]
        rejected = [row for row in parsed if row["error"]]
        if rejected:
            self.reject_file = base64.b64encode(self._reject_csv(header, rejected))
            self.reject_filename = "%s-rejected.csv" % (self.filename or "bureau").rsplit(".", 1)[0]
        self.state = "done"
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Bureau Import Result"),
        }

    def action_view_checks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_check_action")
        action["domain"] = [("id", "in", self.line_ids.check_id.ids)]
        action["context"] = {}
        return action

    # === BUSINESS METHODS: reading === #
    def _read_file(self):
        """(header, rows): the header as stripped strings, the rows as lists of cell values."""
        data = base64.b64decode(self.file or b"")
        if not data:
            raise UserError(self.env._("Choose a file to import."))
        provider = self.provider_id
        if provider.file_format == "xlsx":
            table = self._read_xlsx(data)
        else:
            try:
                text = data.decode(provider.csv_encoding or "utf-8-sig")
            except UnicodeDecodeError as error:
                raise UserError(
                    self.env._(
                        "The file cannot be read as %(encoding)s text (%(error)s): check the encoding "
                        "of bureau %(bureau)s.",
                        encoding=provider.csv_encoding,
                        error=error,
                        bureau=provider.name,
                    )
                ) from error
            table = list(csv.reader(io.StringIO(text, newline=""), delimiter=provider.csv_delimiter or ";"))
        table = [row for row in table if any(cell not in (None, "") for cell in row)]
        if not table:
            raise UserError(self.env._("The file is empty."))
        header = [str(cell or "").strip() for cell in table[0]]
        columns = {name.lower(): index for index, name in enumerate(header) if name}
        wanted = list(provider._column_map().values()) + provider._negative_flag_columns()
        missing = sorted({name for name in wanted if name.lower() not in columns})
        if missing:
            raise UserError(
                self.env._(
                    "The file lacks the columns %(columns)s that bureau %(bureau)s maps: check the "
                    "bureau's column mapping, the delimiter and the file format.",
                    columns=", ".join(missing),
                    bureau=provider.name,
                )
            )
        return header, table[1:]

    def _read_xlsx(self, data):
        try:
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - any broken workbook is the user's file
            raise UserError(
                self.env._("The file is not a readable Excel workbook (%(error)s).", error=error)
            ) from error
        try:
            return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()

    def _parse_rows(self, header, rows):
        """One dict per data row: the raw cells, the parsed values and the first error found."""
        provider = self.provider_id
        index = {name.lower(): position for position, name in enumerate(header) if name}
        colmap = {key: index[name.lower()] for key, name in provider._column_map().items()}
        flag_columns = [(name, index[name.lower()]) for name in provider._negative_flag_columns()]
        currencies = self._currencies(rows, colmap.get("currency"))
        parsed = []
        for number, cells in enumerate(rows, start=2):
            cells = list(cells) + [None] * (len(header) - len(cells))

            def cell(key, cells=cells):
                return cells[colmap[key]] if key in colmap else None

            row = {
                "row": number,
                "cells": cells,
                "error": None,
                "identifier": self._text(cell("identifier")),
                "vat": compact_vat(self._text(cell("vat"))),
                "register": normalize_register(self._text(cell("register"))),
                "name": self._text(cell("name")),
                "partner": None,
                "matched_by": None,
            }
            try:
                row["values"] = self._row_values(row, cell, flag_columns, currencies)
            except _RowError as error:
                row["error"] = str(error)
            parsed.append(row)
        return parsed

    def _row_values(self, row, cell, flag_columns, currencies):
        """The credit check's values of one row, or a _RowError naming what is wrong."""
        provider = self.provider_id
        score = self._row_score(cell)
        probability = self._number(cell("default_probability"), self.env._("probability of default"))
        if probability is not None and not 0 <= probability <= 100:
            raise _RowError(
                self.env._("probability of default %(value)s is not a percentage", value=probability)
            )
        report_date = self._date(cell("report_date"), self.env._("report date")) or fields.Date.context_today(
            self
        )
        valid_until = self._date(cell("valid_until"), self.env._("valid until"))
        if valid_until and valid_until <= report_date:
            raise _RowError(self.env._("valid until %(date)s is not after the report date", date=valid_until))
        note = [self.env._("Imported from %(file)s, line %(row)s.", file=self.filename or "", row=row["row"])]
        limit = self._row_limit(cell, currencies, report_date, note)
        flags = self._negative_flags(row, flag_columns)
        return {
            "kind": "bureau",
            "company_id": self.company_id.id,
            "provider_name": provider.name,
            "provider_ref": row["identifier"] or False,
            "bureau_provider_id": provider.id,
            "has_score": True,
            "provider_score": score,
            "score_scale_min": provider.score_scale_min,
            "score_scale_max": provider.score_scale_max,
            "score_lower_is_better": provider.score_direction == "lower",
            "bureau_risk_class": self._text(cell("risk_class")) or False,
            "bureau_default_probability": probability or 0.0,
            "bureau_negative_flags": ", ".join(flags) or False,
            "recommended_limit": limit or 0.0,
            "date": report_date,
            "date_end": valid_until or False,
            "note": Markup("<p>%s</p>") % " ".join(note),
        }

    def _row_score(self, cell):
        """The row's score, required and inside the provider's scale."""
        provider = self.provider_id
        score = self._number(cell("score"), self.env._("score"))
        if score is None:
            raise _RowError(self.env._("no score"))
        if not provider.score_scale_min <= score <= provider.score_scale_max:
            raise _RowError(
                self.env._(
                    "score %(score)s outside the scale %(min)s to %(max)s",
                    score=score,
                    min=provider.score_scale_min,
                    max=provider.score_scale_max,
                )
            )
        return score

    def _row_limit(self, cell, currencies, report_date, note):
        """The recommended limit in the company's currency (converted at the report date's rate,
        which ``note`` then says), None when the row has none."""
        limit = self._number(cell("recommended_limit"), self.env._("recommended limit"))
        if limit is not None and limit < 0:
            raise _RowError(self.env._("negative recommended limit %(value)s", value=limit))
        company_currency = self.company_id.currency_id
        currency = company_currency
        code = self._text(cell("currency")).upper()
        if code:
            currency = currencies.get(code)
            if not currency:
                raise _RowError(self.env._("unknown currency %(code)s", code=code))
        if limit and currency != company_currency:
            note.append(
                self.env._(
                    "Recommended limit %(amount)s %(currency)s, converted at the rate of %(date)s.",
                    amount=limit,
                    currency=currency.name,
                    date=report_date,
                )
            )
            limit = currency._convert(limit, company_currency, self.company_id, report_date)
        return limit

    def _negative_flags(self, row, flag_columns):
        """The negative flags of a row: the column's header, with the value unless it is a plain yes."""
        flags = []
        for name, position in flag_columns:
            value = self._text(row["cells"][position])
            if value.lower() not in FLAG_EMPTY_VALUES:
                is_yes = value.lower() in ("1", "x", "yes", "y", "true", "ja", "j")
                flags.append(name if is_yes else f"{name}: {value}")
        return flags

    def _currencies(self, rows, position):
        """{ISO code: currency} of the codes in the currency column, in one search."""
        if position is None:
            return {}
        codes = {self._text(row[position]).upper() for row in rows if position < len(row)} - {""}
        if not codes:
            return {}
        found = self.env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))])
        return {currency.name: currency for currency in found}

    @api.model
    def _text(self, value):
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def _number(self, value, label):
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip().replace("%", "").replace(" ", "").replace("\xa0", "")
        if not text:
            return None
        if self.provider_id.decimal_comma:
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
        try:
            return float(text)
        except ValueError:
            raise _RowError(
                self.env._("%(label)s %(value)s is not a number", label=label, value=str(value).strip())
            ) from None

    def _date(self, value, label):
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not text:
            return None
        for pattern in (self.provider_id.date_format, "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).date()
            except (TypeError, ValueError):
                continue
        raise _RowError(self.env._("%(label)s %(value)s is not a date", label=label, value=text))

    # === BUSINESS METHODS: matching === #
    def _match_rows(self, parsed):
        """Find each row's customer: by the bureau identifier, else the VAT number, else the
        register number, else the exact name if only one customer has it. One query per key kind
        for all rows."""
        rows = [row for row in parsed if not row["error"]]
        by_identifier = self._partners_by_identifier({row["identifier"] for row in rows} - {""})
        by_vat = self._partners_by_vat({row["vat"] for row in rows} - {""})
        by_register = self._partners_by_register({row["register"] for row in rows} - {""})
        by_name = self._partners_by_name({row["name"] for row in rows} - {""})
        Partner = self.env["res.partner"]
        for row in rows:
            for kind, table in (
                ("identifier", by_identifier),
                ("vat", by_vat),
                ("register", by_register),
                ("name", by_name),
            ):
                key = row[kind]
                if not key or key not in table:
                    continue
                ids = table[key]
                if len(ids) > 1:
                    row["error"] = self._ambiguous_message(kind, key, len(ids))
                    break
                row["partner"] = Partner.browse(ids[0])
                row["matched_by"] = kind
                break
            if not row["partner"] and not row["error"]:
                row["error"] = self.env._("no customer found")

    def _ambiguous_message(self, kind, key, count):
        labels = {
            "identifier": self.env._("bureau identifier"),
            "vat": self.env._("VAT number"),
            "register": self.env._("register number"),
            "name": self.env._("name"),
        }
        return self.env._(
            "%(count)s customers have the %(key_kind)s %(key)s", count=count, key_kind=labels[kind], key=key
        )

    def _partners_by_identifier(self, identifiers):
        if not identifiers:
            return {}
        records = self.env["credit.bureau.identifier"].search_fetch(
            [
                ("provider_id", "=", self.provider_id.id),
                ("company_id", "=", self.company_id.id),
                ("name", "in", list(identifiers)),
            ],
            ["name", "partner_id"],
        )
        result = {}
        for record in records:
            result.setdefault(record.name, []).append(record.partner_id.id)
        return result

    def _partner_rows(self, key_sql, keys):
        """[(id, key)] of the company's active commercial partners whose ``key_sql`` is in ``keys``."""
        if not keys:
            return []
        self.env["res.partner"].flush_model(
            ["vat", "company_registry", "name", "active", "company_id", "commercial_partner_id"]
        )
        return self.env.execute_query(
            SQL(
                """
                SELECT id, %(key)s
                  FROM res_partner
                 WHERE active
                   AND id = commercial_partner_id
                   AND (company_id IS NULL OR company_id = %(company)s)
                   AND %(key)s = ANY(%(keys)s)
                 ORDER BY id
                """,
                key=key_sql,
                company=self.company_id.id,
                keys=list(keys),
            )
        )

    def _partners_by_vat(self, vats):
        # compare compacted numbers: the partner's VAT cleaned in SQL, then compacted as the file's
        candidates = {_NON_ALNUM.sub("", vat) for vat in vats}
        rows = self._partner_rows(SQL("regexp_replace(upper(vat), '[^0-9A-Z]', '', 'g')"), candidates)
        result = {}
        partners = self.env["res.partner"].browse([partner_id for partner_id, _cleaned in rows])
        partners.fetch(["vat"])
        for partner in partners:
            key = compact_vat(partner.vat)
            if key in vats:
                result.setdefault(key, []).append(partner.id)
        return result

    def _partners_by_register(self, registers):
        rows = self._partner_rows(
            SQL("regexp_replace(regexp_replace(upper(company_registry), '[^0-9A-Z]', '', 'g'), '^HRB', '')"),
            registers,
        )
        result = {}
        for partner_id, key in rows:
            result.setdefault(key, []).append(partner_id)
        return result

    def _partners_by_name(self, names):
        rows = self._partner_rows(SQL("name"), names)
        result = {}
        for partner_id, key in rows:
            result.setdefault(key, []).append(partner_id)
        return result

    def _check_duplicates(self, parsed):
        """Rows that share a bureau identifier, or that matched the same customer, are all
        rejected: which one is right is for the credit team to say."""
        by_identifier, by_partner = {}, {}
        for row in parsed:
            if row["identifier"]:
                by_identifier.setdefault(row["identifier"], []).append(row)
            if row["partner"]:
                by_partner.setdefault(row["partner"].id, []).append(row)
        for identifier, rows in by_identifier.items():
            if len(rows) > 1:
                lines = ", ".join(str(row["row"]) for row in rows)
                for row in rows:
                    row["error"] = row["error"] or self.env._(
                        "identifier %(identifier)s appears in lines %(lines)s",
                        identifier=identifier,
                        lines=lines,
                    )
        for rows in by_partner.values():
            rows = [row for row in rows if not row["error"]]
            if len(rows) > 1:
                lines = ", ".join(str(row["row"]) for row in rows)
                for row in rows:
                    row["error"] = self.env._(
                        "lines %(lines)s are for the same customer %(customer)s",
                        lines=lines,
                        customer=row["partner"].display_name,
                    )

    # === BUSINESS METHODS: writing === #
    def _create_checks(self, parsed):
        """Create the credit checks of the valid rows in one batch, learn the bureau identifiers
        of customers matched otherwise, run the monitoring; return the result lines' values."""
        valid = [row for row in parsed if not row["error"]]
        checks = self.env["credit.check"]
        if valid:
            vals_list = [dict(row["values"], partner_id=row["partner"].id) for row in valid]
            try:
                with self.env.cr.savepoint():
                    checks = checks.create(vals_list)
                    self._learn_identifiers(valid)
                    alerted = checks._bureau_monitor()
            except (UserError, ValidationError) as error:
                raise UserError(
                    self.env._("Nothing was imported: %(error)s", error=getattr(error, "args", [error])[0])
                ) from error
            self.alert_count = len(alerted)
        results = dict(zip([row["row"] for row in valid], checks, strict=True))
        return [
            {
                "row": row["row"],
                "status": "rejected" if row["error"] else "imported",
                "identifier": row["identifier"] or False,
                "name": row["name"] or False,
                "partner_id": row["partner"].id if row["partner"] else False,
                "matched_by": row["matched_by"] or False,
                "check_id": results[row["row"]].id if row["row"] in results else False,
                "reason": row["error"] or False,
            }
            for row in parsed
        ]

    def _learn_identifiers(self, rows):
        """Store the bureau identifier of customers a row matched by VAT, register number or name,
        so that the next file matches them by identifier."""
        vals_list = [
            {
                "name": row["identifier"],
                "provider_id": self.provider_id.id,
                "partner_id": row["partner"].id,
                "company_id": self.company_id.id,
            }
            for row in rows
            if row["identifier"] and row["matched_by"] != "identifier"
        ]
        if vals_list:
            self.env["credit.bureau.identifier"].create(vals_list)

    def _reject_csv(self, header, rows):
        """The rejected rows as they were in the file, with the reason in a last column."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.provider_id.csv_delimiter or ";")
        writer.writerow([*header, self.env._("Reason")])
        for row in rows:
            writer.writerow([*(self._text(cell) for cell in row["cells"][: len(header)]), row["error"]])
        return buffer.getvalue().encode("utf-8-sig")
