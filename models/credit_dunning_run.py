from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL

from .account_move import DUNNING_WRITE

# === GUARD: validated dunning is history === #
# Runs, letters and lines are written by the dunning code: it puts the sentinel DUNNING_WRITE
# (models/account_move.py, a Python object RPC cannot forge) under the key
# ``credit_dunning_write`` in the context. Otherwise:
# - nobody (Credit Managers and the superuser included) changes or deletes a validated or
#   cancelled record, except the chatter's own bookkeeping;
# - a collector changes only the few fields of a proposal listed per model
#   (``_dunning_editable_fields``) and creates nothing by hand;
# - a Credit Manager (or the superuser) may create records (e.g. history taken over from another
#   system) and correct a proposal.


def is_dunning_code(env):
    """True when the dunning code itself writes (sentinel in the context)."""
    return env.context.get("credit_dunning_write") is DUNNING_WRITE


def is_credit_manager(env):
    return env.su or env.user.has_group("credit_control.credit_control_group_manager")


def dunning_context(env):
    """The context of ``env`` without any ``default_*`` key: a default in the caller's context
    must never pre-set a field of a dunning run, letter or line."""
    return {key: value for key, value in env.context.items() if not key.startswith("default_")}


def check_dunning_write(records, vals):
    """Refuse a write of ``vals`` on dunning ``records`` unless the dunning code writes: fields
    outside the model's editable ones for who is not a Credit Manager (AccessError), anything
    on a record that is history (UserError). Chatter bookkeeping (followers, main attachment)
    is always allowed."""
    if is_dunning_code(records.env) or not records:
        return
    written = set(vals) - set(records.env["mail.thread"]._fields)
    if not written:
        return
    # who may not write the model at all is told so first
    records.check_access("write")
    forbidden = written - records._dunning_editable_fields()
    if forbidden and not is_credit_manager(records.env):
        raise AccessError(
            _(
                "%(model)s: %(fields)s cannot be written by hand; it is set by the dunning itself "
                "(propose, validate, cancel with a reason).",
                model=records._description,
                fields=", ".join(sorted(records._fields[name].string for name in forbidden)),
            )
        )
    locked = records.filtered(lambda record: record._dunning_is_history())
    if locked:
        raise UserError(
            _(
                "%(records)s: a validated or cancelled dunning record is history and cannot be "
                "changed or deleted. Cancel a letter with a reason instead.",
                records=", ".join(locked.mapped("display_name")),
            )
        )


def check_dunning_create(model, parents=None):
    """Dunning runs, letters and lines are created by a dunning proposal, not by hand (Credit
    Managers excepted: history taken over from another system, created in one go). Nothing is
    ever added to a validated or cancelled run or letter (``parents``)."""
    if is_dunning_code(model.env):
        return
    if not is_credit_manager(model.env):
        raise AccessError(
            _(
                "%(model)s records are created by a dunning proposal (Dunning → Propose a Dunning "
                "Run), not by hand.",
                model=model._description,
            )
        )
    locked = (parents or model.browse()).filtered(lambda record: record._dunning_is_history())
    if locked:
        raise UserError(
            _(
                "%(records)s: a validated or cancelled dunning record is history: nothing can be "
                "added to it.",
                records=", ".join(locked.mapped("display_name")),
            )
        )


def companies_consistent(records, fnames=None, by_company=None):
    """Odoo's ``_check_company`` of ``records`` set-based: True when, per company and
    relational field checking companies, all values match the company's domain, checked with
    one query over the distinct values (those outside the domain counted) instead of one per
    record. False: let Odoo's own check name the inconsistency. ``by_company``: {company: ids
    of ``records``} when the caller has it (else grouped by ``records.company_id``)."""
    if fnames is None or {"company_id", "company_ids"} & set(fnames):
        fnames = records._fields
    names = [
        name for name in fnames if records._fields[name].relational and records._fields[name].check_company
    ]
    if by_company is None:
        companies = records.company_id
        if len(companies) == 1:
            # one company (a proposal): no grouping record by record
            by_company = {companies: records.ids}
        else:
            by_company = defaultdict(list)
            for record in records:
                by_company[record.company_id].append(record.id)
    for company, ids in by_company.items():
        group = records.browse(ids).sudo()
        for name in names:
            values = group[name].with_context(active_test=False)
            domain = values._check_company_domain(company) if values else None
            if not domain:
                continue
            # one query: is any value outside the domain (12,000 invoices of a proposal are
            # not read into the cache and filtered in Python)
            if values.search_count(
                expression.AND([[("id", "in", values.ids)], ["!", *expression.normalize_domain(domain)]]),
                limit=1,
            ):
                return False
    return True


class CreditDunningRun(models.Model):
    _name = "credit.dunning.run"
    _description = "Dunning Run"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    # === FIELDS === #
    name = fields.Char(required=True, readonly=True, copy=False, default=lambda self: _("New"))
    date = fields.Date(
        string="Dunning Date", required=True, default=fields.Date.context_today, readonly=True, tracking=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, readonly=True
    )
    state = fields.Selection(
        [("draft", "Proposal"), ("done", "Validated"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
    )
    is_automatic = fields.Boolean(
        string="Automatic", readonly=True, help="Created by the daily scheduled action."
    )
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", readonly=True, help="Only these customers (all when empty)."
    )
    level_ids = fields.Many2many(
        "credit.dunning.level", string="Levels", readonly=True, help="Only these levels (all when empty)."
    )
    min_amount = fields.Monetary(string="Minimum Open Amount", currency_field="currency_id", readonly=True)
    letter_ids = fields.One2many("credit.dunning.letter", "run_id", string="Letters")
    # the lines of the run's letters (a line's run is its letter's, not stored on the line)
    line_ids = fields.One2many("credit.dunning.line", string="Lines", compute="_compute_line_ids")
    letter_count = fields.Integer(compute="_compute_counts")
    failed_email_count = fields.Integer(compute="_compute_counts")
    to_print_count = fields.Integer(compute="_compute_counts")
    amount_residual = fields.Monetary(
        string="Open Amount", currency_field="currency_id", compute="_compute_counts"
    )
    attachment_id = fields.Many2one("ir.attachment", string="Printable Letters", readonly=True, copy=False)
    # cancellation (kept and visible) and failures of the automatic dunning
    cancel_reason = fields.Text(string="Cancellation Reason", readonly=True, copy=False, tracking=True)
    cancel_user_id = fields.Many2one("res.users", string="Cancelled By", readonly=True, copy=False)
    cancel_date = fields.Datetime(string="Cancelled On", readonly=True, copy=False)
    failure_note = fields.Text(
        string="Failures",
        readonly=True,
        copy=False,
        help="Customers or steps the automatic dunning could not process, and items proposed "
        "without interest; the credit managers were notified.",
    )
    failed_partner_ids = fields.Many2many(
        "res.partner",
        "credit_dunning_run_failed_partner_rel",
        "run_id",
        "partner_id",
        string="Failed Customers",
        readonly=True,
        copy=False,
    )
    review_count = fields.Integer(string="Letters to Review", compute="_compute_counts")

    # === COMPUTE === #
    @api.depends(
        "letter_ids.email_state", "letter_ids.letter_state", "letter_ids.amount_residual", "letter_ids.state"
    )
    def _compute_counts(self):
        for run in self:
            letters = run.letter_ids.filtered(lambda letter: letter.state != "cancel")
            run.letter_count = len(letters)
            run.review_count = len(letters.filtered("needs_review"))
            run.failed_email_count = len(letters.filtered(lambda letter: letter.email_state == "failed"))
            run.to_print_count = len(letters.filtered(lambda letter: letter.letter_state == "to_print"))
            run.amount_residual = sum(letters.mapped("amount_residual"))

    @api.depends("letter_ids.line_ids")
    def _compute_line_ids(self):
        for run in self:
            run.line_ids = run.letter_ids.line_ids

    # === CRUD === #
    @api.model
    def default_get(self, fields_list):
        # a default_* key in the context never pre-sets a field of a run
        # the whole context is replaced on purpose: it drops every default_* key
        # pylint: disable-next=context-overridden
        return super(CreditDunningRun, self.with_context(dunning_context(self.env))).default_get(fields_list)

    @api.model_create_multi
    def create(self, vals_list):
        check_dunning_create(self)
        for vals in vals_list:
            if vals.get("name", _("New")) == _("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("credit.dunning.run") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        check_dunning_write(self, vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_done(self):
        if is_dunning_code(self.env):
            return
        if any(run.state != "draft" for run in self):
            raise UserError(
                _("A validated or cancelled dunning run cannot be deleted: it documents the letters sent.")
            )

    def _dunning_editable_fields(self):
        # letters are removed from a proposal through the run's form
        return {"letter_ids"}

    def _dunning_is_history(self):
        self.ensure_one()
        return self.state != "draft"

    # === ACTIONS === #
    def action_validate(self):
        self._check_draft()
        self._lock_for_update()
        for run in self:
            run._action_validate()
        return True

    def action_cancel(self):
        """Open the cancellation dialog (a reason is required)."""
        return self.env["credit.dunning.cancel"]._open_for(self)

    def _action_cancel(self, reason):
        """Cancel these runs and their letters with ``reason`` (kept with who and when): a
        proposal is discarded, a validated run's letters are withdrawn (their queued e-mails are
        not sent). The invoices keep the levels already reached."""
        self.check_access("write")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Give a reason for the cancellation."))
        if any(run.state == "cancel" for run in self):
            raise UserError(_("This dunning run is already cancelled."))
        runs = self.with_context(credit_dunning_write=DUNNING_WRITE)
        runs.letter_ids.filtered(lambda letter: letter.state != "cancel")._action_cancel(reason)
        runs.write(
            {
                "state": "cancel",
                "cancel_reason": reason,
                "cancel_user_id": self.env.user.id,
                "cancel_date": fields.Datetime.now(),
            }
        )
        return True

    def _lock_for_update(self):
        """Lock the runs (a second validation waits, then finds them validated)."""
        if not self.ids:
            return
        self.env.execute_query(
            SQL("SELECT id FROM credit_dunning_run WHERE id IN %(ids)s FOR UPDATE", ids=tuple(self.ids))
        )
        self.invalidate_recordset(["state"])
        self._check_draft()

    def action_retry_failed_emails(self):
        self.letter_ids.filtered(lambda letter: letter.email_state == "failed")._action_retry_email()
        return True

    def action_download_letters(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("This run has no letters to print."))
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%s?download=true" % self.attachment_id.id,
            "target": "download",
        }

    def action_mark_printed(self):
        self.letter_ids.action_mark_printed()
        return True

    def action_view_review_letters(self):
        action = self.action_view_letters()
        action["domain"] = [("run_id", "=", self.id), ("needs_review", "=", True)]
        return action

    def action_view_letters(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("credit_control.credit_dunning_letter_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # === BUSINESS METHODS === #
    def _check_draft(self):
        if any(run.state != "draft" for run in self):
            raise UserError(_("Only proposed dunning runs can be changed, validated or cancelled."))
