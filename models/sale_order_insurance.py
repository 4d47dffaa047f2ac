from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    credit_uninsured_amount = fields.Monetary(
        string="Uninsured Part",
        compute="_compute_credit_uninsured_amount",
        currency_field="credit_insured_currency_id",
        help="For a customer with credit insurance: how far the exposure with this order goes above "
        "the insured limit (company currency).",
    )
    credit_insured_limit = fields.Monetary(
        string="Insured Limit",
        compute="_compute_credit_uninsured_amount",
        currency_field="credit_insured_currency_id",
    )
    credit_insured_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")

    @api.depends("partner_id", "amount_total", "currency_id", "company_id", "state")
    def _compute_credit_uninsured_amount(self):
        for order in self:
            order.credit_uninsured_amount = 0.0
            order.credit_insured_limit = 0.0
            if order.state not in ("draft", "sent") or not order.partner_id or not order.company_id:
                continue
            order = order.with_company(order.company_id)
            partner = order.partner_id.commercial_partner_id
            if not partner._credit_is_insured():
                continue
            # sudo: salespeople see the banner; the exposure reads items they may not read
            exposure = partner.sudo()._get_credit_exposure(exclude_orders=order._origin)
            uninsured = partner._credit_uninsured_part(exposure["total"] + order._credit_amount_company())
            order.credit_uninsured_amount = uninsured
            order.credit_insured_limit = partner.sudo().credit_insured_limit
