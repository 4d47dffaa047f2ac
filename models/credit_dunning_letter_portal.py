from odoo import models


class CreditDunningLetter(models.Model):
    """The dunning e-mail's button opens the customer's portal page: a signed link,
    valid without a password like Odoo's invoice links, when the company's portal is on."""

    _inherit = "credit.dunning.letter"

    def _notify_get_recipients_groups(self, message, model_description, msg_vals=None):
        groups = super()._notify_get_recipients_groups(message, model_description, msg_vals=msg_vals)
        if len(self) != 1 or not self.company_id.credit_portal_enabled:
            return groups
        customer = self.partner_id.commercial_partner_id
        recipients = set((self.recipient_id | self.partner_id).ids)
        url = customer._credit_portal_url(self.company_id)
        group = (
            "credit_portal_customer",
            lambda pdata: pdata["id"] in recipients,
            {
                "active": True,
                "has_button_access": True,
                "button_access": {"url": url, "title": self.env._("View My Account")},
            },
        )
        return [group, *groups]
