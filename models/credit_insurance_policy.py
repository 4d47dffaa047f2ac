from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CreditInsurancePolicy(models.Model):
    """Kreditversicherungspolice: what an insured company must do to keep its cover: report
    overdue items by a deadline (N days after the due date), file a claim within a period after
    the notification, extend payment terms at most so far."""

    _name = "credit.insurance.policy"
    _description = "Credit Insurance Policy"
    _inherit = ["mail.thread"]
    _order = "insurer_id, name"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(string="Policy Number", required=True, tracking=True)
    insurer_id = fields.Many2one(
        "res.partner", string="Insurer", tracking=True, check_company=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id, tracking=True
    )
    date_from = fields.Date(string="Valid From", tracking=True)
    date_to = fields.Date(string="Valid To", tracking=True)
    max_payment_term_days = fields.Integer(
        string="Maximum Payment Term (Days)",
        tracking=True,
        help="The longest payment term (or extension of it) the policy covers.",
    )
    reporting_days = fields.Integer(
        string="Reporting Deadline (Days after Due Date)",
        default=60,
        tracking=True,
        help="An item still open this many days after its due date must be reported to the insurer "
        "(overdue notification, Nichtzahlungsmeldung).",
    )
    claim_days = fields.Integer(
        string="Claim Period (Days after Notification)",
        default=90,
        tracking=True,
        help="The claim (Schadensmeldung) must be filed within this many days after the overdue "
        "notification.",
    )
    active = fields.Boolean(default=True)
    partner_count = fields.Integer(string="Insured Customers", compute="_compute_partner_count")

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)", "The policy number must be unique per company."),
    ]

    # === COMPUTE === #
    def _compute_partner_count(self):
        Partner = self.env["res.partner"]
        for policy in self:
            policy.partner_count = Partner.with_company(policy.company_id).search_count(
                [("credit_insurance_policy_id", "=", policy.id)]
            )

    # === CONSTRAINTS === #
    @api.constrains("name", "insurer_id")
    def _check_insurer(self):
        for policy in self:
            if not policy.insurer_id:
                raise ValidationError(
                    _("The credit insurance policy %(policy)s needs an insurer.", policy=policy.name)
                )

    @api.constrains("reporting_days", "claim_days", "max_payment_term_days", "date_from", "date_to")
    def _check_periods(self):
        for policy in self:
            if min(policy.reporting_days, policy.claim_days, policy.max_payment_term_days) < 0:
                raise ValidationError(
                    _(
                        "The days of the credit insurance policy %(policy)s cannot be negative.",
                        policy=policy.name,
                    )
                )
            if policy.date_from and policy.date_to and policy.date_to < policy.date_from:
                raise ValidationError(
                    _("The credit insurance policy %(policy)s ends before it starts.", policy=policy.name)
                )

    # === ACTIONS === #
    def action_view_partners(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Insured Customers"),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("credit_insurance_policy_id", "=", self.id)],
        }
