from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The company's settings of the customer portal for collections."""

    _inherit = "res.company"

    credit_portal_enabled = fields.Boolean(
        string="Customer Portal for Collections",
        help="Customers see their open items on the portal (/my/credit) and answer reminders there: "
        "promise to pay, dispute, payment plan request, pay now. Dunning e-mails and letters link to it.",
    )
    credit_portal_show_available_credit = fields.Boolean(
        string="Portal: Show Available Credit", help="The portal page shows the customer's available credit."
    )
    credit_portal_partial_payment = fields.Boolean(
        string="Portal: Partial Payments", help="Customers may pay less than the open amount of an invoice."
    )
    credit_portal_max_requests = fields.Integer(
        string="Portal: Requests per Day",
        default=5,
        help="Most promises, disputes and payment plan requests a customer may submit per day.",
    )
    credit_portal_token_days = fields.Integer(
        string="Portal: Link Validity (Days)",
        default=30,
        help="Days a link to the portal page in a dunning e-mail or letter stays valid.",
    )

    @api.constrains("credit_portal_max_requests", "credit_portal_token_days")
    def _check_credit_portal_settings(self):
        for company in self:
            if company.credit_portal_max_requests < 1 or company.credit_portal_token_days < 1:
                raise ValidationError(
                    self.env._("The portal's requests per day and link validity must be at least 1.")
                )
