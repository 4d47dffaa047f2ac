from odoo import _, api, models
from odoo.tools import format_date


class CreditDunningRunXlsx(models.AbstractModel):
    """A dunning run as an XLSX workbook: a sheet of its letters and a sheet of their lines."""

    _name = "credit.dunning.run.xlsx"
    _description = "Dunning Run Export (XLSX)"

    def _letter_columns(self):
        letter = "credit.dunning.letter"
        return [
            {"key": "partner_id", "field": (letter, "partner_id"), "width": 36},
            {"key": "recipient_id", "field": (letter, "recipient_id"), "width": 30},
            {"key": "level_id", "field": (letter, "level_id"), "width": 18},
            {"key": "state", "field": (letter, "state"), "width": 12},
            {"key": "invoice_count", "field": (letter, "invoice_count"), "type": "integer"},
            {"key": "amount_residual", "field": (letter, "amount_residual"), "type": "money", "total": True},
            {"key": "fee_amount", "field": (letter, "fee_amount"), "type": "money", "total": True},
            {"key": "currency_id", "field": (letter, "currency_id"), "width": 10},
            {"key": "channel_email", "field": (letter, "channel_email"), "width": 9},
            {"key": "channel_letter", "field": (letter, "channel_letter"), "width": 9},
            {"key": "channel_phone", "field": (letter, "channel_phone"), "width": 9},
            {"key": "email_state", "field": (letter, "email_state"), "width": 14},
            {"key": "letter_state", "field": (letter, "letter_state"), "width": 14},
        ]

    def _line_columns(self):
        line = "credit.dunning.line"
        return [
            {"key": "partner_id", "field": (line, "partner_id"), "width": 36},
            {"key": "move_id", "field": (line, "move_id"), "width": 22},
            {"key": "line_type", "field": (line, "line_type"), "width": 16},
            {"key": "date_invoice", "field": (line, "date_invoice"), "type": "date"},
            {"key": "date_due", "field": (line, "date_due"), "type": "date"},
            {"key": "days_overdue", "field": (line, "days_overdue"), "type": "integer"},
            {"key": "previous_level_id", "field": (line, "previous_level_id"), "width": 18},
            {"key": "level_id", "field": (line, "level_id"), "width": 18},
            {"key": "currency_id", "field": (line, "currency_id"), "width": 10},
            {"key": "amount_total", "field": (line, "amount_total"), "type": "float"},
            {"key": "amount_residual", "field": (line, "amount_residual"), "type": "float"},
            {
                "key": "amount_residual_company",
                "field": (line, "amount_residual_company"),
                "type": "money",
                "total": True,
            },
            {"key": "interest_amount", "field": (line, "interest_amount"), "type": "float"},
            {"key": "flat_fee_amount", "field": (line, "flat_fee_amount"), "type": "float"},
        ]

    @staticmethod
    def _cells(records, columns, selections):
        """Row dicts of ``records`` read in one go: many2one as names, selections as labels."""
        keys = [column["key"] for column in columns]
        for row in records.read(keys):
            values = {}
            for key in keys:
                value = row[key]
                if key in selections:
                    value = selections[key].get(value)
                elif isinstance(value, tuple | list):
                    value = value[1] if value else None
                elif isinstance(value, bool) and key.startswith("channel_"):
                    value = "x" if value else None
                values[key] = value
            yield values

    @api.model
    def _generate(self, run):
        """XLSX bytes of ``run`` (one credit.dunning.run): AccessError for a run of a company that
        is not one of the user's or without read access to dunning runs."""
        run.ensure_one()
        writer = self.env["credit.xlsx.writer"]
        company = writer._check_export_access("credit.dunning.run", run.sudo().company_id)
        run = run.with_company(company)
        run.check_access("read")
        env = run.env
        book = writer.with_company(company)._new_book(company.currency_id)
        title = _(
            "Dunning run %(name)s of %(date)s, %(company)s",
            name=run.name,
            date=format_date(env, run.date),
            company=company.name,
        )

        def selections(model, names):
            return {name: dict(env[model]._fields[name]._description_selection(env)) for name in names}

        letters = run.letter_ids.sorted(lambda letter: (letter.partner_id.display_name or "", letter.id))
        letter_columns = self._letter_columns()
        sheet = book.add_sheet(_("Letters"), letter_columns, title=title)
        sheet.write_rows(
            self._cells(
                letters, letter_columns, selections(letters._name, ["state", "email_state", "letter_state"])
            )
        )
        sheet.write_total(_("Total"))
        lines = run.line_ids.sorted(
            lambda line: (line.partner_id.display_name or "", line.date_due or run.date, line.id)
        )
        line_columns = self._line_columns()
        sheet = book.add_sheet(_("Lines"), line_columns, title=title)
        sheet.write_rows(self._cells(lines, line_columns, selections(lines._name, ["line_type"])))
        sheet.write_total(_("Total"))
        return book.close()

    @api.model
    def action_download(self, run_id):
        """Download the dunning run ``run_id``; callable over RPC."""
        run = self.env["credit.dunning.run"].browse(run_id)
        return self.env["credit.xlsx.writer"]._download_action(
            self._generate(run), _("Dunning run %(name)s.xlsx", name=run.name.replace("/", "-"))
        )
