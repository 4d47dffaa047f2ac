from odoo import api, fields, models


class CreditBureauIdentifier(models.Model):
    """The number a credit bureau gives a customer (e.g. the Creditreform number): the first key
    the bureau import matches a row by. Learnt by the import when a row matched by VAT, register
    number or name."""

    _name = "credit.bureau.identifier"
    _description = "Credit Bureau Identifier of a Customer"
    _order = "provider_id, name"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(string="Identifier", required=True, index=True)
    provider_id = fields.Many2one("credit.bureau.provider", required=True, ondelete="cascade", index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        ondelete="cascade",
        index=True,
        domain="[('is_company', '=', True)]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    _sql_constraints = [
        (
            "provider_name_company_uniq",
            "unique(provider_id, name, company_id)",
            "A bureau identifier belongs to one customer per bureau and company.",
        )
    ]

    # === CRUD === #
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name"):
                vals["name"] = vals["name"].strip()
            if vals.get("partner_id"):
                vals["partner_id"] = (
                    self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
                )
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("name"):
            vals["name"] = vals["name"].strip()
        if vals.get("partner_id"):
            vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        return super().write(vals)
