from odoo import _, models
from odoo.exceptions import AccessError

# Dunning pause of a customer or an invoice: the credit team's (collectors and managers) decision.
DUNNING_PAUSE_FIELDS = frozenset(
    {"credit_dunning_pause", "credit_dunning_pause_reason", "credit_dunning_pause_until"}
)


class CreditDunningPauseMixin(models.AbstractModel):
    """Pause and resume the dunning of customers (res.partner) and invoices (account.move).

    Both declare the fields of ``DUNNING_PAUSE_FIELDS`` (a customer's per company). The credit
    team pauses (with an end date) or excludes (without) from dunning through the pause wizard,
    resumes by hand; each pause and resume is logged on the record. A model tells where the
    pause is written (``_credit_dunning_pause_records``), what the wizard gets
    (``_credit_dunning_pause_wizard_context``) and its texts."""

    _name = "credit.dunning.pause.mixin"
    _description = "Dunning Pause"

    # === ACTIONS === #
    def action_credit_dunning_pause(self):
        """Open the wizard that pauses or excludes these records from dunning."""
        self._check_credit_dunning_pause_rights()
        return {
            "type": "ir.actions.act_window",
            "name": _("Pause Dunning"),
            "res_model": "credit.dunning.pause",
            "view_mode": "form",
            "target": "new",
            "context": self._credit_dunning_pause_wizard_context(),
        }

    def action_credit_dunning_resume(self):
        self._credit_dunning_resume()
        return True

    # === BUSINESS METHODS === #
    def _credit_is_credit_team(self):
        return self.env.su or self.env.user.has_group("credit_control.credit_control_group_user")

    def _check_credit_dunning_pause_rights(self):
        """Dunning pauses and resumes are the credit team's decision (collectors, managers)."""
        if not self._credit_is_credit_team():
            raise AccessError(self._credit_dunning_pause_refusal())

    def _credit_dunning_pause(self, reason, date_until=False):
        """Pause (with an end date) or exclude (without) from dunning, logged."""
        self._check_credit_dunning_pause_rights()
        records = self._credit_dunning_pause_records()
        records.write(
            {
                "credit_dunning_pause": True,
                "credit_dunning_pause_reason": reason,
                "credit_dunning_pause_until": date_until,
            }
        )
        for record in records:
            record.message_post(
                body=_(
                    "Dunning paused until %(date)s by %(user)s: %(reason)s",
                    date=date_until or _("further notice"),
                    user=self.env.user.name,
                    reason=reason,
                )
            )

    def _credit_dunning_resume(self):
        self._check_credit_dunning_pause_rights()
        records = self._credit_dunning_pause_records().filtered("credit_dunning_pause")
        records.write(dict.fromkeys(DUNNING_PAUSE_FIELDS, False))
        for record in records:
            record.message_post(body=self._credit_dunning_resume_note())

    def _credit_dunning_pause_records(self):
        """The records whose pause is written and logged: ``self`` here."""
        return self

    def _credit_dunning_pause_wizard_context(self):
        """Context of the pause wizard opened on ``self``."""
        return {}

    def _credit_dunning_pause_refusal(self):
        return _("Only the credit team pauses or resumes dunning.")

    def _credit_dunning_resume_note(self):
        return _("Dunning resumed.")
