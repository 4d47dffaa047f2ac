from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..lib.protected_fields import drop_protected_defaults

# Server-side sentinel: only the bureau import and the hold buttons write the monitoring fields.
CREDIT_BUREAU_WRITE = object()

# Written by the bureau import / monitoring only.
BUREAU_MONITOR_FIELDS = frozenset({"bureau_hold_state", "bureau_score_drop", "bureau_alert"})


class CreditCheck(models.Model):
    """Credit checks imported from a bureau file: the bureau's own figures and the
    monitoring of watched customers."""

    _inherit = "credit.check"

    # === FIELDS === #
    bureau_provider_id = fields.Many2one(
        "credit.bureau.provider", string="Bureau", index="btree_not_null", readonly=True, ondelete="restrict"
    )
    bureau_risk_class = fields.Char(string="Risk Class", readonly=True)
    bureau_default_probability = fields.Float(
        string="Probability of Default (%)", digits=(16, 2), readonly=True
    )
    bureau_negative_flags = fields.Char(
        string="Negative Flags", readonly=True, help="Negative facts the bureau reported (insolvency ...)."
    )
    bureau_score_drop = fields.Integer(
        string="Score Drop",
        readonly=True,
        help="Points (0-100) the score fell against the previous check of the same bureau.",
    )
    bureau_alert = fields.Boolean(readonly=True, index=True)
    bureau_hold_state = fields.Selection(
        [("proposed", "Hold Proposed"), ("confirmed", "Hold Confirmed"), ("dismissed", "Hold Dismissed")],
        string="Proposed Hold",
        readonly=True,
        copy=False,
    )

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        return drop_protected_defaults(self, values, BUREAU_MONITOR_FIELDS, False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_bureau_write(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_bureau_write(vals)
        return super().write(vals)

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            for name in BUREAU_MONITOR_FIELDS:
                vals.pop(name, None)
        return vals_list

    # === ACTIONS === #
    def action_bureau_confirm_hold(self):
        """Credit Manager: put the customer on credit hold as the bureau alert proposed."""
        self._check_bureau_hold_decision()
        for check in self:
            reason = self.env._(
                "Credit bureau %(bureau)s, check %(check)s: %(alert)s",
                bureau=check.bureau_provider_id.name or check.provider_name or "",
                check=check.name,
                alert=check._bureau_alert_text(),
            )
            check.partner_id.with_company(check.company_id).write(
                {"credit_hold": True, "credit_hold_reason": reason[:250]}
            )
        self._write_bureau({"bureau_hold_state": "confirmed"})
        self._bureau_close_tasks(self.env._("Credit hold confirmed."))
        return True

    def action_bureau_dismiss_hold(self):
        """Credit Manager: leave the customer without a hold."""
        self._check_bureau_hold_decision()
        self._write_bureau({"bureau_hold_state": "dismissed"})
        self._bureau_close_tasks(self.env._("Proposed credit hold dismissed."))
        return True

    # === BUSINESS METHODS === #
    def _write_bureau(self, vals):
        return self.with_context(credit_bureau_write=CREDIT_BUREAU_WRITE).write(vals)

    def _check_bureau_write(self, vals):
        if not BUREAU_MONITOR_FIELDS.intersection(vals) or self.env.su:
            return
        if self.env.context.get("credit_bureau_write") is CREDIT_BUREAU_WRITE:
            return
        if not any(vals.get(name) for name in BUREAU_MONITOR_FIELDS):
            return
        raise AccessError(self.env._("The bureau alert of a credit check is set by the bureau import only."))

    def _check_bureau_hold_decision(self):
        if not self._is_credit_manager():
            raise AccessError(
                self.env._("Only Credit Managers may confirm or dismiss a proposed credit hold.")
            )
        if any(check.bureau_hold_state != "proposed" for check in self):
            raise UserError(self.env._("Only a proposed credit hold can be confirmed or dismissed."))

    def _bureau_close_tasks(self, message):
        tasks = (
            self.env["credit.task"]
            .sudo()
            .search([("bureau_check_id", "in", self.ids), ("is_open", "=", True)])
        )
        tasks._close("done", feedback=message)

    def _bureau_alert_text(self):
        self.ensure_one()
        parts = []
        if self.bureau_score_drop:
            parts.append(
                self.env._(
                    "score fell by %(points)s points to %(score)s",
                    points=self.bureau_score_drop,
                    score=self.score_normalized,
                )
            )
        if self.bureau_negative_flags:
            parts.append(self.env._("negative flags: %(flags)s", flags=self.bureau_negative_flags))
        return "; ".join(parts)

    def _bureau_task_spec(self):
        """The alert task of this check, as :meth:`credit.task._create_auto_batch` takes it."""
        self.ensure_one()
        title = self.env._(
            "Bureau alert for %(customer)s: %(alert)s",
            customer=self.partner_id.display_name,
            alert=self._bureau_alert_text(),
        )
        description = Markup("<p>%s</p>") % self.env._(
            "Credit check %(check)s imported from %(bureau)s.",
            check=self.name,
            bureau=self.bureau_provider_id.name,
        )
        if self.bureau_hold_state == "proposed":
            description += Markup("<p>%s</p>") % self.env._(
                "A credit hold is proposed: confirm or dismiss it on the task or the credit check."
            )
        return {
            "task_type": "credit_check",
            "origin": "bureau_alert",
            "partner": self.partner_id,
            "name": title,
            "company": self.company_id,
            "links": {
                "bureau_check_id": self.id,
                "priority": "2" if self.bureau_negative_flags else "1",
                "description": description,
            },
        }

    def _bureau_previous_scores(self):
        """{check id: normalized score of the previous check of the same customer, bureau and
        company} for the bureau checks of ``self``, in one query: the latest earlier check (by
        date, then id) that is not cancelled."""
        checks = self.filtered("bureau_provider_id")
        if not checks:
            return {}
        self.env["credit.check"].flush_model(
            ["partner_id", "company_id", "bureau_provider_id", "date", "state", "score_normalized"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT new.id, prev.score_normalized
                  FROM credit_check new
                  JOIN LATERAL (
                        SELECT old.score_normalized
                          FROM credit_check old
                         WHERE old.partner_id = new.partner_id
                           AND old.company_id = new.company_id
                           AND old.bureau_provider_id = new.bureau_provider_id
                           AND old.state != 'cancel'
                           AND old.id != ALL(%(ids)s)
                           AND (old.date, old.id) < (new.date, new.id)
                      ORDER BY old.date DESC, old.id DESC
                         LIMIT 1
                  ) prev ON TRUE
                 WHERE new.id = ANY(%(ids)s)
                """,
                ids=checks.ids,
            )
        )
        return dict(rows)

    def _bureau_monitor(self):
        """Monitoring of watched customers after an import: a check whose score fell by more than
        the company's threshold against the previous check of the same bureau, or that carries a
        negative flag, gets an alert, a task for the responsible credit manager and (company
        setting) a proposed credit hold. Set-based: one query for the previous scores, one read of
        the watch flags per company, one batch of tasks. Returns the alerted checks."""
        checks = self.filtered(lambda check: check.bureau_provider_id and check.state != "cancel")
        if not checks:
            return checks
        previous = checks._bureau_previous_scores()
        alerted = self.browse()
        specs = []
        for company in checks.company_id:
            company_checks = checks.filtered(lambda check, company=company: check.company_id == company)
            partners = company_checks.partner_id.with_company(company).sudo()
            watched = partners.filtered("credit_bureau_watch")
            threshold = company.credit_bureau_threshold
            for check in company_checks:
                if check.partner_id not in watched:
                    continue
                drop = 0
                if check.id in previous:
                    drop = max(0, previous[check.id] - check.score_normalized)
                if not (drop > threshold or check.bureau_negative_flags):
                    continue
                vals = {"bureau_alert": True, "bureau_score_drop": drop}
                if company.credit_bureau_propose_hold:
                    vals["bureau_hold_state"] = "proposed"
                check._write_bureau(vals)
                alerted |= check
                specs.append(check._bureau_task_spec())
        if specs:
            tasks = self.env["credit.task"]._create_auto_batch(specs)
            # an open alert task of the customer is reused: it now points at the latest alert
            for spec, task in zip(specs, tasks, strict=True):
                check_id = spec["links"]["bureau_check_id"]
                if task.bureau_check_id.id != check_id:
                    task.write({"bureau_check_id": check_id})
                    task.message_post(body=spec["name"], subtype_xmlid="mail.mt_note")
        return alerted
