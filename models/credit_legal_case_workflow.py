from dateutil.relativedelta import relativedelta

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, format_amount, format_date

from .credit_collection_document_mixin import workflow_write
from .credit_legal_case import CLOSED_STATES


class CreditLegalCase(models.Model):
    """The court dunning case's steps after preparation: application, order for payment,
    service, objection or enforcement order, bailiff, closing; each with its date, its note in
    the chatter and its deadline tasks."""

    _inherit = "credit.legal.case"

    # === ACTIONS === #
    def action_apply(self):
        """The application was filed at the dunning court."""
        self._check_manager()
        for case in self:
            case._check_state("prepared")
            case._check_application_data()
            if not case.no_counter_performance:
                raise UserError(
                    _("Confirm that the claim does not depend on a counter-performance before applying.")
                )
            if not case.court_id:
                raise UserError(_("Select the dunning court."))
        self._step("applied", "date_applied", _("Application filed at the dunning court."))
        return True

    def action_order_issued(self):
        """The court issued the order for payment (Mahnbescheid)."""
        self._check_manager()
        self._check_state("applied")
        self._step("order_issued", "date_order_issued", _("Order for payment issued."))
        return True

    def action_served(self):
        """The order for payment was served: the objection period and the six-month deadline of
        the enforcement order start; a task watches each."""
        self._check_manager()
        self._check_state("order_issued")
        self._step("served", "date_served", _("Order for payment served."))
        for case in self:
            case._open_task(
                "legal_objection_period",
                _("Objection period of %(case)s ends: apply for the enforcement order", case=case.name),
                case.date_objection_end + relativedelta(days=1),
            )
            case._open_task(
                "legal_enforcement_deadline",
                _("Apply for the enforcement order of %(case)s (§701 ZPO)", case=case.name),
                case.date_enforcement_deadline,
            )
        return True

    def action_objection(self):
        """The respondent objected (Widerspruch): the case goes to trial, the lawyer takes over."""
        self._check_manager()
        self._check_state("served")
        self._step("objection", "date_objection", _("The respondent objected: the case goes to trial."))
        for case in self:
            case._close_tasks(_("The respondent objected."))
            case._open_task(
                "legal_trial",
                _("Objection in %(case)s: instruct the lawyer for the trial", case=case.name),
                fields.Date.add(case.date_objection, days=14),
            )
        return True

    def action_apply_enforcement(self):
        """Apply for the enforcement order (Vollstreckungsbescheid): after the objection period,
        within six months of service."""
        self._check_manager()
        self._check_state("served")
        today = fields.Date.context_today(self)
        for case in self:
            if today <= case.date_objection_end:
                raise UserError(
                    _(
                        "The objection period of %(case)s runs until %(date)s: the enforcement order can "
                        "be applied for afterwards.",
                        case=case.name,
                        date=format_date(self.env, case.date_objection_end),
                    )
                )
            if today > case.date_enforcement_deadline:
                raise UserError(
                    _(
                        "The order for payment of %(case)s lapsed on %(date)s (six months after service, "
                        "§701 ZPO).",
                        case=case.name,
                        date=format_date(self.env, case.date_enforcement_deadline),
                    )
                )
        self._step("enforcement_applied", "date_enforcement_applied", _("Enforcement order applied for."))
        for case in self:
            case._close_tasks(_("Enforcement order applied for."))
        return True

    def action_enforcement_issued(self):
        self._check_manager()
        self._check_state("enforcement_applied")
        self._step("enforcement_issued", "date_enforcement_issued", _("Enforcement order issued."))
        for case in self:
            case._open_task(
                "legal_bailiff",
                _("Instruct the bailiff for %(case)s", case=case.name),
                fields.Date.add(case.date_enforcement_issued, days=14),
            )
        return True

    def action_enforcement(self):
        """The bailiff (Gerichtsvollzieher) was instructed."""
        self._check_manager()
        self._check_state("enforcement_issued")
        self._step("enforcement", "date_enforcement", _("Bailiff instructed."))
        for case in self:
            case._close_tasks(_("Bailiff instructed."))
        return True

    def action_close_paid(self):
        self._check_manager()
        for case in self:
            if float_compare(case.amount_remaining, 0.0, precision_rounding=case.currency_id.rounding) > 0:
                raise UserError(
                    _(
                        "%(case)s still has %(amount)s open: close it as partly paid or uncollectable.",
                        case=case.name,
                        amount=format_amount(self.env, case.amount_remaining, case.currency_id),
                    )
                )
        return self._close("paid", _("Court dunning case closed: paid."))

    def action_close_partly_paid(self):
        self._check_manager()
        return self._close("partly_paid", _("Court dunning case closed: partly paid."))

    def action_close_uncollectable(self):
        self._check_manager()
        return self._close("uncollectable", _("Court dunning case closed: uncollectable."))

    def action_cancel(self):
        """Withdraw a case before it was applied for (a Credit Manager also later)."""
        for case in self:
            if case.state not in ("draft", "prepared"):
                case._check_manager()
        return self._close("cancel", _("Court dunning case cancelled."))

    # === BUSINESS METHODS === #
    def _check_state(self, *states):
        for case in self:
            if case.state not in states:
                raise UserError(
                    _(
                        "%(case)s is %(state)s: this step needs %(states)s.",
                        case=case.name,
                        state=dict(case._fields["state"]._description_selection(self.env))[case.state],
                        states=", ".join(
                            dict(case._fields["state"]._description_selection(self.env))[s] for s in states
                        ),
                    )
                )

    def _check_costs_editable(self):
        """Ancillary items change while the case is a draft; later only by Credit Managers."""
        if self.env.su or self.env.user.has_group("credit_control.credit_control_group_manager"):
            return
        if any(case.state != "draft" for case in self):
            raise UserError(
                _("The ancillary items of a prepared court dunning case change only by a Credit Manager.")
            )

    def _check_manager(self):
        if not self.env.su and not self.env.user.has_group("credit_control.credit_control_group_manager"):
            raise AccessError(
                _("Only Credit Managers may take the court dunning case beyond the preparation.")
            )

    def _step(self, state, date_field, message):
        today = fields.Date.context_today(self)
        for case in self:
            workflow_write(case, {"state": state, date_field: case[date_field] or today})
            case.message_post(body=message)
        return True

    def _close(self, state, message):
        for case in self:
            if case.state in CLOSED_STATES:
                raise UserError(_("%(case)s is closed already.", case=case.name))
        self._step(state, "date_closed", message)
        for case in self:
            case._close_tasks(message)
            case.partner_id.sudo().message_post(
                body=_("%(case)s: %(message)s", case=case.name, message=message)
            )
        return True

    def _open_task(self, origin, name, deadline):
        self.ensure_one()
        return self.env["credit.task"]._create_auto(
            "legal",
            origin,
            self.partner_id,
            name,
            company=self.company_id,
            team="credit",
            user=self.user_id or self.env.user,
            legal_case_id=self,
            move_ids=self.claim_ids.move_id,
            date_deadline=deadline,
        )

    def _close_tasks(self, message):
        return self.env["credit.task"]._close_auto(message, legal_case_id=self)
