import csv
import io

from odoo import _, api, models
from odoo.tools import format_amount, format_date

from ..lib.xlsx import XLSX_MIMETYPE


class CreditLegalCaseExport(models.AbstractModel):
    """The data of a court dunning application in the order of the official online form
    (online-mahnantrag.de): authorised representative, applicant, respondent, main claims,
    interest, costs and ancillary claims, general details. The data sheet (PDF), the CSV and the
    XLSX export all print these rows, so that a clerk types them into the form in order."""

    _name = "credit.legal.case.export"
    _description = "Court Dunning Application Data"

    @api.model
    def _sections(self):
        return [
            ("lawyer", _("Authorised Representative")),
            ("applicant", _("Applicant")),
            ("respondent", _("Respondent")),
            ("claims", _("Main Claims")),
            ("interest", _("Interest")),
            ("costs", _("Costs and Ancillary Claims")),
            ("general", _("General Details")),
        ]

    @api.model
    def _party_rows(self, partner):
        kind = _("Company") if partner.is_company else _("Natural Person")
        return [
            (_("Kind"), kind),
            (_("Name"), partner.name or ""),
            (_("Legal Form"), partner.credit_legal_form or ""),
            (_("Legal Representatives"), partner.credit_legal_representatives or ""),
            (_("Street"), " ".join(filter(None, [partner.street, partner.street2]))),
            (_("ZIP"), partner.zip or ""),
            (_("City"), partner.city or ""),
            (_("Country"), partner.country_id.code or ""),
        ]

    @api.model
    def _rows(self, case):
        """Long for the fields of the official form, listed in its order.

        [(section key, section, label, value)] of ``case``, in the form's order; amounts and
        dates as the user's language writes them."""
        case.ensure_one()
        env, currency = self.env, case.currency_id

        def money(amount):
            return format_amount(env, amount, currency)

        def date(value):
            return format_date(env, value) if value else ""

        rows = {key: [] for key, _label in self._sections()}
        lawyer = case.lawyer_id
        if lawyer:
            rows["lawyer"] += [
                (_("Name"), lawyer.name or ""),
                (_("Street"), lawyer.street or ""),
                (_("ZIP"), lawyer.zip or ""),
                (_("City"), lawyer.city or ""),
                (_("Reference"), case.lawyer_reference or ""),
            ]
        else:
            rows["lawyer"].append((_("Name"), _("none (the applicant applies itself)")))
        rows["applicant"] += self._party_rows(case.company_id.partner_id)
        rows["respondent"] += self._party_rows(case.partner_id.commercial_partner_id)
        for index, claim in enumerate(case.claim_ids, start=1):
            prefix = _("Claim %(index)s", index=index)
            rows["claims"] += [
                (_("%(claim)s: Catalogue Number", claim=prefix), claim.claim_type_id.code or ""),
                (_("%(claim)s: Claim", claim=prefix), claim.claim_type_id.name or ""),
                (
                    _("%(claim)s: Document", claim=prefix),
                    _("Invoice %(number)s", number=claim.document_number),
                ),
                (_("%(claim)s: Document Date", claim=prefix), date(claim.document_date)),
                (_("%(claim)s: Amount", claim=prefix), money(claim.principal)),
            ]
            rows["interest"] += [
                (
                    _("%(claim)s: Rate", claim=prefix),
                    _(
                        "%(points)s percentage points above the base rate",
                        points="%g" % claim.interest_points,
                    ),
                ),
                (_("%(claim)s: From", claim=prefix), date(claim.interest_date_from)),
                (
                    _("%(claim)s: Computed until %(date)s", claim=prefix, date=date(claim.interest_date_to)),
                    money(claim.interest_amount),
                ),
            ]
        for cost in case.cost_ids:
            rows["costs"].append((cost.name, money(cost.amount)))
        rows["general"] += [
            (_("Dunning Court"), case.court_id.name or ""),
            (_("Our Reference"), case.our_reference or case.name),
            (
                _("The claim does not depend on a counter-performance"),
                _("Yes") if case.no_counter_performance else _("No"),
            ),
            (_("Total Claimed"), money(case.amount_total)),
        ]
        return [
            (key, section, label, value) for key, section in self._sections() for label, value in rows[key]
        ]

    @api.model
    def _csv(self, case):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([_("Section"), _("Field"), _("Value")])
        for _key, section, label, value in self._rows(case):
            writer.writerow([section, label, value])
        return buffer.getvalue().encode("utf-8-sig")

    @api.model
    def _xlsx(self, case):
        book = self.env["credit.xlsx.writer"]._new_book(currency=case.currency_id)
        sheet = book.add_sheet(
            _("Application"),
            [
                {"header": _("Section"), "key": "section", "width": 30},
                {"header": _("Field"), "key": "label", "width": 40},
                {"header": _("Value"), "key": "value", "width": 50},
            ],
            title=_("Court dunning application %(case)s", case=case.name),
        )
        for _key, section, label, value in self._rows(case):
            sheet.write_row([section, label, value])
        return book.close()

    @api.model
    def _download(self, case, kind):
        case.check_access("read")
        filename = _("Court dunning application %(case)s", case=case.name.replace("/", "-"))
        if kind == "csv":
            content, mimetype, filename = self._csv(case), "text/csv", filename + ".csv"
        else:
            content, mimetype, filename = self._xlsx(case), XLSX_MIMETYPE, filename + ".xlsx"
        attachment = self.env["ir.attachment"].create(
            {
                "name": filename,
                "raw": content,
                "res_model": case._name,
                "res_id": case.id,
                "mimetype": mimetype,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % attachment.id,
            "target": "download",
        }
