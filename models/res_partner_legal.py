from odoo import api, fields, models


class ResPartner(models.Model):
    """What the court dunning application needs of a party (applicant or respondent): the legal
    form and the legal representatives of a company (§690(1) Nr. 1 ZPO)."""

    _inherit = "res.partner"

    credit_legal_form = fields.Char(
        string="Legal Form",
        help="Legal form of a company for the court dunning application, e.g. GmbH, AG, KG, e.K.",
    )
    credit_legal_representatives = fields.Char(
        string="Legal Representatives",
        help="Function and names of the legal representatives, e.g. 'Managing director Jane Doe'.",
    )
    credit_legal_case_count = fields.Integer(
        string="Court Dunning Cases", compute="_compute_credit_legal_case_count"
    )

    @api.depends_context("company")
    def _compute_credit_legal_case_count(self):
        if not self.env["credit.legal.case"].has_access("read"):
            self.credit_legal_case_count = 0
            return
        counts = dict(
            self.env["credit.legal.case"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.credit_legal_case_count = counts.get(partner.commercial_partner_id, 0)

    def action_credit_legal_case(self):
        """The customer's court dunning cases; a new one when there is none."""
        self.ensure_one()
        partner = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_legal_case_action")
        action["domain"] = [("partner_id", "=", partner.id)]
        action["context"] = {"default_partner_id": partner.id}
        if not self.env["credit.legal.case"].search_count([("partner_id", "=", partner.id)]):
            action.update({"view_mode": "form", "views": [(False, "form")]})
        return action
