from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.res_partner import CREDIT_PROFILE_WRITE


class CreditProfileUpdate(models.TransientModel):
    """A Credit Manager changes limit, hold or rating of a customer, saying why: the reason
    goes into the customer's chatter beside the tracked values."""

    _name = "credit.profile.update"
    _description = "Change of a Credit Profile"

    partner_id = fields.Many2one("res.partner", required=True, readonly=True)
    currency_id = fields.Many2one(related="partner_id.credit_currency_id")
    credit_limit_set = fields.Boolean(
        string="Own Credit Limit",
        help="On: the credit limit below applies (0 = prepayment only). Off: the company's default "
        "credit limit applies, if the company has one.",
    )
    credit_limit = fields.Float()
    credit_limit_date_end = fields.Date(string="Limit Valid Until")
    credit_review_date = fields.Date(string="Next Credit Review")
    credit_hold = fields.Boolean()
    credit_hold_reason = fields.Char()
    credit_rating_id = fields.Many2one("credit.rating", string="Risk Rating")
    reason = fields.Text(required=True, help="Why the profile changes; kept in the customer's chatter.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        partner = self.env["res.partner"].browse(values.get("partner_id")).commercial_partner_id
        if partner:
            values["partner_id"] = partner.id
            for name in (
                "credit_limit_set",
                "credit_limit",
                "credit_limit_date_end",
                "credit_review_date",
                "credit_hold",
                "credit_hold_reason",
            ):
                values[name] = partner[name]
            values["credit_rating_id"] = partner.credit_rating_id.id
        return values

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(_("Only Credit Managers may change the credit profile of a customer."))
        if not (self.reason or "").strip():
            raise UserError(_("Say why the credit profile changes."))
        partner = self.partner_id.commercial_partner_id
        vals = {
            "credit_limit_set": self.credit_limit_set,
            "credit_limit": self.credit_limit,
            "credit_limit_date_end": self.credit_limit_date_end,
            "credit_review_date": self.credit_review_date,
            "credit_hold": self.credit_hold,
            "credit_hold_reason": self.credit_hold_reason if self.credit_hold else False,
            "credit_rating_id": self.credit_rating_id.id,
        }
        changed = {
            name: value
            for name, value in vals.items()
            if partner._fields[name].convert_to_write(partner[name], partner) != value
        }
        if "credit_limit" in changed:
            # the amount alone would give the customer an own limit: say whether it has one
            changed["credit_limit_set"] = self.credit_limit_set
        if "credit_rating_id" in changed:
            changed.update(credit_rating_source="manual", credit_rating_date=fields.Date.context_today(self))
        if not changed:
            raise UserError(_("Nothing changes."))
        partner.with_context(credit_profile_write=CREDIT_PROFILE_WRITE).write(changed)
        partner.message_post(
            body=_(
                "Credit profile changed by %(user)s: %(reason)s", user=self.env.user.name, reason=self.reason
            )
        )
        return {"type": "ir.actions.act_window_close"}
