from odoo import fields, models


class CreditAgencyHandover(models.Model):
    """Übergabe an ein Inkassobüro: invoices handed over to a collection agency leave normal
    dunning."""

    _name = "credit.agency.handover"
    _description = "Collection Agency Handover"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, tracking=True, check_company=True
    )
    agency_id = fields.Many2one("res.partner", string="Collection Agency", required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(
        string="Handover Date", required=True, default=fields.Date.context_today, tracking=True
    )
    move_ids = fields.Many2many(
        "account.move",
        "credit_agency_handover_account_move_rel",
        "handover_id",
        "move_id",
        string="Invoices",
        check_company=True,
        required=True,
    )
    amount = fields.Monetary(string="Handed-over Amount", readonly=True)
    state = fields.Selection(
        [("draft", "Draft"), ("handed_over", "Handed Over"), ("closed", "Closed"), ("returned", "Returned")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    note = fields.Text()
