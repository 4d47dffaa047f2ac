from odoo import _, api, models

PROBLEM_CASE = "credit.problem.case"


class CreditProblemCaseXlsx(models.AbstractModel):
    """The weekly problem-case list as an XLSX workbook (the shared ``credit.xlsx.writer``): one
    row per case, as the user may see it (access rights and record rules of the problem cases
    apply)."""

    _name = "credit.problem.case.xlsx"
    _description = "Problem Cases Export (XLSX)"

    def _columns(self):
        return [
            {"key": "case", "field": (PROBLEM_CASE, "case_type"), "width": 20},
            {"key": "partner", "field": (PROBLEM_CASE, "partner_id"), "width": 32},
            {"key": "reference", "field": (PROBLEM_CASE, "reference"), "width": 22},
            {"key": "owner", "field": (PROBLEM_CASE, "user_id"), "width": 22},
            {"key": "date", "field": (PROBLEM_CASE, "date"), "type": "date"},
            {"key": "days", "field": (PROBLEM_CASE, "age_days"), "type": "integer", "width": 8},
            {"key": "amount", "field": (PROBLEM_CASE, "amount"), "type": "money", "total": True},
            {"key": "facts", "field": (PROBLEM_CASE, "facts"), "width": 44},
            {"key": "next_step", "field": (PROBLEM_CASE, "next_step"), "width": 54},
        ]

    @api.model
    def _generate(self, domain=None):
        writer = self.env["credit.xlsx.writer"]
        writer._check_export_access(PROBLEM_CASE)
        cases = self.env[PROBLEM_CASE].search(domain or [])
        labels = dict(cases._fields["case_type"]._description_selection(self.env))
        currency = self.env.company.currency_id
        book = writer._new_book(currency)
        sheet = book.add_sheet(
            _("Problem Cases"), self._columns(), title="%s (%s)" % (cases._report_title(), currency.name)
        )
        for case in cases:
            sheet.write_row(
                {
                    "case": labels.get(case.case_type),
                    "partner": case.partner_id.display_name,
                    "reference": case.reference,
                    "owner": case.user_id.name,
                    "date": case.date,
                    "days": case.age_days if case.date else None,
                    "amount": case.amount,
                    "facts": case.facts,
                    "next_step": case.next_step,
                }
            )
        sheet.write_total(_("Total"))
        return book.close()

    @api.model
    def action_download(self, domain=None):
        return self.env["credit.xlsx.writer"]._download_action(
            self._generate(domain),
            _("Problem cases %(date)s.xlsx", date=str(self.env[PROBLEM_CASE]._problem_date())),
        )
