from odoo import api, fields, models
from odoo.tools import format_amount, format_date

# fields of the customer whose chatter tracking makes the limit history
LIMIT_HISTORY_FIELDS = (
    "credit_limit",
    "credit_limit_set",
    "credit_limit_date_end",
    "credit_hold",
    "credit_rating_id",
)


class ReportCreditPartner(models.AbstractModel):
    """Customer credit report (internal, in the user's language): one document per customer
    made of sections (rating and
    scorecard, exposure, payment behaviour, credit checks, limit history, dunning history).

    Adding a section: a QWeb template (``values`` holds the section's data, ``o`` the customer
    in its language, ``company``, ``currency``) and an entry in :meth:`_credit_report_sections`
    whose ``method`` returns the data of every customer at once ({partner id: values})::

        def _credit_report_sections(self):
            return super()._credit_report_sections() + [
                {"key": "promises", "template": "credit_control.report_credit_partner_promises",
                 "method": "_section_promises"},
            ]
    """

    _name = "report.credit_control.report_credit_partner"
    _description = "Customer Credit Report"

    def _credit_report_sections(self):
        return [
            {
                "key": "rating",
                "template": "credit_control.report_credit_partner_rating",
                "method": "_section_rating",
            },
            {
                "key": "exposure",
                "template": "credit_control.report_credit_partner_exposure",
                "method": "_section_exposure",
            },
            {
                "key": "behaviour",
                "template": "credit_control.report_credit_partner_behaviour",
                "method": "_section_behaviour",
            },
            {
                "key": "checks",
                "template": "credit_control.report_credit_partner_checks",
                "method": "_section_checks",
            },
            {
                "key": "limit_history",
                "template": "credit_control.report_credit_partner_limit_history",
                "method": "_section_limit_history",
            },
            {
                "key": "dunning",
                "template": "credit_control.report_credit_partner_dunning",
                "method": "_section_dunning",
            },
            {
                "key": "promises",
                "template": "credit_control.report_credit_partner_promises",
                "method": "_section_promises",
            },
            {
                "key": "disputes",
                "template": "credit_control.report_credit_partner_disputes",
                "method": "_section_disputes",
            },
        ]

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        company = self.env["credit.xlsx.writer"]._check_export_access("res.partner", data.get("company_id"))
        self = self.with_company(company)
        partners = self.env["res.partner"].browse(docids).commercial_partner_id
        partners.check_access("read")
        sections = self._credit_report_sections()
        values = {partner.id: {} for partner in partners}
        for section in sections:
            for partner_id, section_values in getattr(self, section["method"])(partners, company).items():
                values[partner_id][section["key"]] = section_values
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": company,
            "as_of": fields.Date.context_today(self),
            "sections": sections,
            "report_values": values,
        }

    # === SECTIONS: each returns {partner id: values} for all partners at once === #
    def _section_rating(self, partners, company):
        cards = partners._get_credit_scorecards()
        return {partner.id: {"scorecard": cards[partner.id]} for partner in partners}

    def _section_exposure(self, partners, company):
        exposures = partners._get_credit_exposures()
        statements = self.env["report.credit_control.report_credit_statement"]._get_statements(
            partners, fields.Date.context_today(self), company
        )
        return {
            partner.id: {"exposure": exposures[partner.id], "buckets": statements[partner.id]["buckets"]}
            for partner in partners
        }

    def _section_behaviour(self, partners, company):
        return {partner.id: {} for partner in partners}  # stored fields of the customer, read in QWeb

    def _section_checks(self, partners, company):
        checks = self.env["credit.check"].search(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id)], order="date desc, id desc"
        )
        result = {partner.id: {"checks": checks.browse()} for partner in partners}
        for check in checks:
            if len(result[check.partner_id.commercial_partner_id.id]["checks"]) < 10:
                result[check.partner_id.commercial_partner_id.id]["checks"] |= check
        return result

    def _section_limit_history(self, partners, company):
        """Changes of limit, hold and rating from the chatter tracking, newest first (at most 20)."""
        # sudo: tracking values are readable by administrators only; the user may read the
        # customer's credit profile (checked above), whose history these are
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", "res.partner"),
                    ("mail_message_id.res_id", "in", partners.ids),
                    ("mail_message_id.record_company_id", "in", [company.id, False]),
                    ("field_id.model", "=", "res.partner"),
                    ("field_id.name", "in", LIMIT_HISTORY_FIELDS),
                ],
                order="id desc",
            )
        )
        result = {partner.id: {"changes": []} for partner in partners}
        for tracking in trackings:
            message = tracking.mail_message_id
            changes = result[message.res_id]["changes"]
            if len(changes) >= 20:
                continue
            env = self.env
            field = env["res.partner"]._fields.get(tracking.field_id.name)
            changes.append(
                {
                    "date": message.date,
                    "author": message.author_id.name or "",
                    "field": field._description_string(env) if field else tracking.field_id.field_description,
                    "old": self._tracking_text(env, tracking, "old", company),
                    "new": self._tracking_text(env, tracking, "new", company),
                }
            )
        return result

    @api.model
    def _tracking_text(self, env, tracking, prefix, company):
        ttype = tracking.field_id.ttype
        if ttype in ("float", "monetary"):
            return format_amount(env, tracking["%s_value_float" % prefix], company.currency_id)
        if ttype == "boolean":
            return env._("Yes") if tracking["%s_value_integer" % prefix] else env._("No")
        if ttype == "integer":
            return str(tracking["%s_value_integer" % prefix])
        if ttype == "many2one" and tracking["%s_value_integer" % prefix]:
            # the record's name in the reader's language (the tracking keeps the writer's)
            relation = tracking.field_id.relation
            record = (
                env[relation].browse(tracking["%s_value_integer" % prefix]).exists() if relation else None
            )
            if record:
                return record.display_name
        if ttype in ("date", "datetime"):
            value = tracking["%s_value_datetime" % prefix]
            return format_date(env, value) if value else ""
        return tracking["%s_value_char" % prefix] or ""

    def _section_dunning(self, partners, company):
        letters = self.env["credit.dunning.letter"].search(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id), ("state", "=", "done")],
            order="dunning_date desc, id desc",
        )
        result = {partner.id: {"letters": letters.browse()} for partner in partners}
        for letter in letters:
            entry = result[letter.partner_id.commercial_partner_id.id]
            if len(entry["letters"]) < 20:
                entry["letters"] |= letter
        return result

    def _section_promises(self, partners, company):
        return self._latest(partners, company, "credit.promise", "promises")

    def _section_disputes(self, partners, company):
        return self._latest(partners, company, "credit.dispute", "disputes")

    def _latest(self, partners, company, model, key, limit=20):
        """The latest ``limit`` records of ``model`` per customer in ``company`` (one search)."""
        records = self.env[model].search(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id)]
        )
        result = {partner.id: {key: records.browse()} for partner in partners}
        for record in records:
            entry = result[record.partner_id.commercial_partner_id.id]
            if len(entry[key]) < limit:
                entry[key] |= record
        return result
