from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditDunningRunCreate(models.TransientModel):
    _name = "credit.dunning.run.create"
    _description = "Propose a Dunning Run"
    _check_company_auto = True

    date = fields.Date(string="Dunning Date", required=True, default=fields.Date.context_today)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        domain=[("parent_id", "=", False)],
        help="Only these customers; all customers when empty.",
    )
    level_ids = fields.Many2many(
        "credit.dunning.level",
        string="Levels",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Only invoices reaching one of these levels; all levels when empty.",
    )
    min_amount = fields.Monetary(
        string="Minimum Open Amount",
        currency_field="currency_id",
        help="Customers whose open balance in the letter is below this amount get no letter.",
    )

    @api.constrains("min_amount")
    def _check_min_amount(self):
        if any(wizard.min_amount < 0 for wizard in self):
            raise UserError(_("The minimum open amount cannot be negative."))

    def action_create_run(self):
        self.ensure_one()
        run = (
            self.env["credit.dunning.run"]
            .with_company(self.company_id)
            ._create_runs(
                self.company_id,
                self.date,
                partners=self.partner_ids,
                levels=self.level_ids,
                min_amount=self.min_amount,
            )
        )
        if not run:
            raise UserError(_("Nothing to dun on %(date)s: no invoice reaches a new level.", date=self.date))
        return {
            "type": "ir.actions.act_window",
            "name": _("Dunning Run"),
            "res_model": "credit.dunning.run",
            "res_id": run.id,
            "view_mode": "form",
        }
