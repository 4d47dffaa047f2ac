import io
import logging
from collections import defaultdict
from datetime import timedelta

import lxml.html
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, float_compare
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, merge_pdf

from .account_move import DUNNING_WRITE

_logger = logging.getLogger(__name__)


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
    line_ids = fields.One2many("credit.dunning.line", "run_id", string="Lines")
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

    # === BUSINESS METHODS: proposal === #
    def _check_draft(self):
        if any(run.state != "draft" for run in self):
            raise UserError(_("Only proposed dunning runs can be changed, validated or cancelled."))

    @api.model
    def _get_dunning_candidates(self, company, date, partners=None):
        """Open receivable items of ``company`` grouped by document, in ONE query for all
        customers: rows with the document's open amount (its currency and company currency),
        earliest due date, current dunning level and pause."""
        aml = self.env["account.move.line"]
        domain = [
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("partner_id", "!=", False),
        ]
        if partners:
            domain.append(("partner_id.commercial_partner_id", "in", partners.commercial_partner_id.ids))
        query = aml._search(domain)
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        aml.flush_model(
            ["amount_residual", "amount_residual_currency", "date_maturity", "reconciled", "currency_id"]
        )
        self.env["account.move"].flush_model(
            [
                "move_type",
                "invoice_date",
                "amount_total_in_currency_signed",
                "credit_dunning_level_id",
                "credit_dunning_date",
                "credit_dunning_pause",
                "credit_dunning_pause_until",
                "credit_dunning_flat_fee_charged",
                "credit_dunning_interest_date",
                "credit_dunning_charge_letter_id",
            ]
        )
        return self.env.execute_query_dict(
            SQL(
                """
            SELECT account_move_line.move_id AS move_id,
                   dun_partner.commercial_partner_id AS partner_id,
                   dun_move.move_type AS move_type,
                   dun_move.currency_id AS currency_id,
                   COALESCE(dun_move.invoice_date, dun_move.date) AS date_invoice,
                   dun_move.amount_total_in_currency_signed AS amount_total,
                   dun_move.credit_dunning_level_id AS level_id,
                   dun_move.credit_dunning_date AS dunning_date,
                   dun_move.credit_dunning_flat_fee_charged AS flat_fee_charged,
                   dun_move.credit_dunning_interest_date AS interest_date,
                   dun_move.credit_dunning_charge_letter_id IS NOT NULL AS is_charge,
                   COALESCE(dun_move.credit_dunning_pause, FALSE)
                       AND (dun_move.credit_dunning_pause_until IS NULL
                            OR dun_move.credit_dunning_pause_until > %(date)s) AS paused,
                   MIN(COALESCE(account_move_line.date_maturity, account_move_line.date)) AS date_due,
                   SUM(account_move_line.amount_residual) AS residual,
                   SUM(account_move_line.amount_residual_currency) AS residual_currency
              FROM %(from_clause)s
              JOIN account_move dun_move ON dun_move.id = account_move_line.move_id
              JOIN res_partner dun_partner ON dun_partner.id = account_move_line.partner_id
             WHERE %(where_clause)s
          GROUP BY account_move_line.move_id, dun_partner.commercial_partner_id, dun_move.id
            HAVING SUM(account_move_line.amount_residual) != 0
          ORDER BY dun_partner.commercial_partner_id, MIN(COALESCE(account_move_line.date_maturity,
                   account_move_line.date)), account_move_line.move_id
                """,
                date=date,
                from_clause=query.from_clause,
                where_clause=query.where_clause or SQL("TRUE"),
            )
        )

    @api.model
    def _paused_partner_ids(self, company, date):
        """Customers excluded or paused in ``company`` on ``date`` (company-dependent fields)."""
        partner_model = self.env["res.partner"].with_company(company)
        return set(
            partner_model.with_context(active_test=False)
            .search(
                [
                    ("credit_dunning_pause", "=", True),
                    "|",
                    ("credit_dunning_pause_until", "=", False),
                    ("credit_dunning_pause_until", ">", date),
                ]
            )
            .ids
        )

    @api.model
    def _prepare_proposal(
        self,
        company,
        date,
        partners=None,
        levels=None,
        min_amount=0.0,
        automatic=False,
        exclude_partner_ids=(),
    ):
        """Letter values (with their lines) for every customer of ``company`` having an invoice
        that reaches its next dunning level on ``date``. Set-based: one query for the open items,
        one for paused customers, one for invoices in other proposals, one for the base rates.

        Open credits (credit notes, unallocated payments) are netted: a customer is dunned only
        when the letter's total (its overdue items less all open credits) is positive and at
        least ``min_amount``. An automatic run leaves out the items due before the company's
        "dun items due from" date and starts never-dunned invoices at the level the company
        chose (the first level, or the level matching their age: one letter either way)."""
        all_levels = self.env["credit.dunning.level"].search(
            [("company_id", "=", company.id)], order="sequence, id"
        )
        if not all_levels:
            return []
        rank = {level.id: index for index, level in enumerate(all_levels)}
        allowed = all_levels & levels if levels else all_levels
        items_from = False
        if automatic:
            allowed = allowed.filtered("is_automatic")
            items_from = company.credit_dunning_items_from
        start_by_age = company.credit_dunning_start_level == "age"
        rows = self._get_dunning_candidates(company, date, partners)
        if not rows:
            return []
        paused_partner_ids = self._paused_partner_ids(company, date) | set(exclude_partner_ids)
        move_ids = [row["move_id"] for row in rows]
        blocked_move_ids = self.env["account.move"]._credit_dunning_blocked_move_ids(move_ids, date)
        # invoices already in a proposal not yet validated: never propose them twice
        blocked_move_ids |= {
            move.id
            for [move] in self.env["credit.dunning.line"]._read_group(
                [
                    ("run_id.state", "=", "draft"),
                    ("letter_id.state", "=", "draft"),
                    ("company_id", "=", company.id),
                    ("line_type", "=", "invoice"),
                ],
                groupby=["move_id"],
            )
        }

        by_partner = defaultdict(list)
        for row in rows:
            if row["partner_id"] not in paused_partner_ids:
                by_partner[row["partner_id"]].append(row)

        rounding = company.currency_id.rounding
        proposals = []
        for partner_id, partner_rows in by_partner.items():
            lines = []
            has_escalation = False
            for row in partner_rows:
                if items_from and row["residual"] > 0 and row["date_due"] < items_from:
                    continue
                line = self._prepare_line(
                    row, date, all_levels, rank, allowed, blocked_move_ids, start_by_age=start_by_age
                )
                if line:
                    lines.append(line)
                    has_escalation |= line["level_id"] != line["previous_level_id"]
            if not has_escalation:
                continue
            # open credits netted: only a positive balance is dunned
            open_company = sum(line["amount_residual_company"] for line in lines)
            if float_compare(open_company, 0.0, precision_rounding=rounding) <= 0 or (
                float_compare(open_company, min_amount or 0.0, precision_rounding=rounding) < 0
            ):
                continue
            proposals.append({"partner_id": partner_id, "lines": lines})
        return proposals

    @api.model
    def _prepare_line(self, row, date, all_levels, rank, allowed, blocked_move_ids, start_by_age=False):
        """Line values for one open item, or None when it is not part of the letter."""
        residual = row["residual"]
        is_credit = residual < 0
        date_due = row["date_due"]
        days_overdue = (date - date_due).days
        values = {
            "move_id": row["move_id"],
            "line_type": "credit" if is_credit else "invoice",
            "currency_id": row["currency_id"],
            "date_invoice": row["date_invoice"],
            "date_due": date_due,
            "days_overdue": max(days_overdue, 0),
            "amount_total": row["amount_total"],
            "amount_residual": row["residual_currency"],
            "amount_residual_company": residual,
            "previous_level_id": row["level_id"],
            "level_id": row["level_id"],
            "flat_fee_charged": row["flat_fee_charged"],
            "interest_date": row["interest_date"],
            "is_charge": row["is_charge"],
        }
        if is_credit:
            values["level_id"] = values["previous_level_id"] = False
            return values
        if (
            row["paused"]
            or row["move_id"] in blocked_move_ids
            or row["move_type"] not in ("out_invoice", "entry")
        ):
            return None
        if row["is_charge"]:
            # a charge invoice (interest and fees claimed by an earlier letter) is shown while
            # overdue, never escalated, charged nothing
            return values if days_overdue > 0 else None
        current = rank.get(row["level_id"], -1)
        next_level = all_levels[current + 1] if current + 1 < len(all_levels) else None
        if current < 0 and start_by_age:
            # never dunned: the level matching its age (one letter, never several at once)
            reached = all_levels.filtered(lambda lvl: lvl in allowed and days_overdue >= lvl.days)
            next_level = reached[-1:] or None
        if (
            next_level
            and next_level in allowed
            and days_overdue >= next_level.days
            and row["dunning_date"] != date
            and (
                not row["dunning_date"]
                or current < 0
                or (date - row["dunning_date"]).days >= next_level.min_days_since_previous
            )
        ):
            values["level_id"] = next_level.id
            return values
        # not escalated: still shown when overdue
        return values if days_overdue > 0 else None

    @api.model
    def _create_runs(self, company, date, partners=None, levels=None, min_amount=0.0, automatic=False):
        """Create the proposal (a draft run with its letters and lines); returns the run, or an
        empty recordset when nothing is to be dunned."""
        # before reading anything: only who may create runs proposes them (collectors, managers)
        self.check_access("create")
        proposals = self._prepare_proposal(company, date, partners, levels, min_amount, automatic)
        if not proposals:
            return self.browse()
        run = self.with_context(credit_dunning_write=DUNNING_WRITE).create(
            {
                "date": date,
                "company_id": company.id,
                "partner_ids": [fields.Command.set(partners.ids)] if partners else [],
                "level_ids": [fields.Command.set(levels.ids)] if levels else [],
                "min_amount": min_amount,
                "is_automatic": automatic,
            }
        )
        run._create_letters(proposals)
        return run.with_env(self.env)

    def _create_letters(self, proposals):
        """Letters and lines of the proposal, created in two batches, charges computed set-based.
        An item whose interest cannot be computed (e.g. due before the first base rate of the
        table) is proposed without interest and flagged for the collector (``charge_error``)."""
        self.ensure_one()
        self = self.with_context(credit_dunning_write=DUNNING_WRITE)  # noqa: PLW0642
        company, date = self.company_id, self.date
        levels = self.env["credit.dunning.level"].search([("company_id", "=", company.id)])
        partners = self.env["res.partner"].browse([proposal["partner_id"] for proposal in proposals])
        partners.fetch(["is_company", "name"])
        addresses = {partner.id: partner.address_get(["invoice"])["invoice"] for partner in partners}
        currencies = self.env["res.currency"].browse(
            {line["currency_id"] for proposal in proposals for line in proposal["lines"]}
        )
        base_rates = self.env["credit.base.rate"]
        earliest_due = min(line["date_due"] for proposal in proposals for line in proposal["lines"])
        periods = None
        if any(levels.mapped("charge_interest")):
            periods = (
                self._get_rate_periods_from(min(earliest_due, date), date) if earliest_due < date else []
            )
        line_model = self.env["credit.dunning.line"]
        flat_fee = {currency: line_model._flat_fee_in(currency, company, date) for currency in currencies}
        letter_vals, line_vals_per_letter = [], []
        for proposal in proposals:
            partner = partners.browse(proposal["partner_id"])
            business = partner.is_company
            lines_vals = []
            for line in proposal["lines"]:
                line = dict(line)  # the proposal stays intact for a retry  # noqa: PLW2901
                level = levels.browse(line["level_id"]) if line["level_id"] else levels.browse()
                currency = currencies.browse(line["currency_id"])
                flat_fee_charged = line.pop("flat_fee_charged")
                is_charge = line.pop("is_charge")
                # interest already invoiced up to a date runs on from the day after it
                interest_due = max(line["date_due"], line.pop("interest_date") or line["date_due"])
                escalates = line["level_id"] != line["previous_level_id"]
                interest = fee = 0.0
                interest_from = False
                charge_error = False
                if line["line_type"] == "invoice" and level and not is_charge:
                    if level.charge_interest and periods is not None:
                        try:
                            interest = base_rates._interest_for_periods(
                                periods,
                                line["amount_residual"],
                                interest_due,
                                date,
                                business,
                                currency,
                                company,
                            )
                        except ValidationError as error:
                            charge_error = _(
                                "Interest not computed: %(error)s",
                                error=error.args[0] if error.args else error,
                            )
                        interest_from = interest_due + timedelta(days=1) if interest else False
                    if level.charge_flat_fee and business and not flat_fee_charged and escalates:
                        fee = flat_fee[currency]
                lines_vals.append(
                    {
                        **line,
                        "interest_amount": interest,
                        "interest_date_from": interest_from,
                        "flat_fee_amount": fee,
                        "charge_error": charge_error,
                    }
                )
            line_currencies = {line["currency_id"] for line in lines_vals}
            currency = (
                currencies.browse(line_currencies.pop()) if len(line_currencies) == 1 else company.currency_id
            )
            top = max(
                (levels.browse(line["level_id"]) for line in lines_vals if line["level_id"]),
                key=lambda lvl: (lvl.sequence, lvl.days, lvl.id),
            )
            no_email = not partners.browse(addresses[partner.id]).email
            letter_vals.append(
                {
                    "run_id": self.id,
                    "partner_id": partner.id,
                    "recipient_id": addresses[partner.id],
                    "currency_id": currency.id,
                    "fee_amount": company.currency_id._convert(top.fee, currency, company, date)
                    if top.fee
                    else 0.0,
                    "channel_email": top.channel_email and not no_email,
                    # no e-mail address: the letter goes by post
                    "channel_letter": top.channel_letter or (top.channel_email and no_email),
                    "channel_phone": top.channel_phone,
                }
            )
            line_vals_per_letter.append(lines_vals)
        # a proposal's letters get no creation message and no follower each (the run has its
        # chatter; nothing is tracked at creation): no chatter work per letter
        letters = (
            self.env["credit.dunning.letter"]
            .with_context(tracking_disable=True)
            .create(letter_vals)
            .with_env(self.env)
        )
        self.env["credit.dunning.line"].create(
            [
                {**line, "letter_id": letter.id}
                for letter, lines_vals in zip(letters, line_vals_per_letter, strict=True)
                for line in lines_vals
            ]
        )
        return letters

    @api.model
    def _get_rate_periods_from(self, date_start, date_end):
        """Base-rate periods for ``date_start``..``date_end``; when the table starts later, the
        periods it covers (items due before it then get no interest, flagged, instead of
        stopping the whole run)."""
        base_rates = self.env["credit.base.rate"]
        try:
            return base_rates._get_rate_periods(date_start, date_end)
        except ValidationError:
            first = base_rates.sudo().search([("date_from", "<=", date_end)], order="date_from", limit=1)
            return base_rates._get_rate_periods(first.date_from, date_end) if first else []

    # === BUSINESS METHODS: validation === #
    def _action_validate(self):
        """Send the letters: PDFs (one wkhtmltopdf call for all), e-mails queued, letters to
        print, phone calls; invoice levels, dates and chatter updated. Every line is checked
        again first (``_recheck_letters``)."""
        self.ensure_one()
        self = self.with_context(credit_dunning_write=DUNNING_WRITE)  # noqa: PLW0642
        letters = self.letter_ids.filtered(lambda letter: letter.state == "draft")
        (letters.filtered(lambda letter: not letter.line_ids)).unlink()
        letters = letters.exists()
        if not letters:
            raise UserError(_("This dunning run has no letters left to validate."))
        letters = self._recheck_letters(letters)
        if not letters:
            self.write(
                {
                    "state": "cancel",
                    "cancel_reason": _("Nothing left to send at validation: every letter was cancelled."),
                    "cancel_user_id": self.env.user.id,
                    "cancel_date": fields.Datetime.now(),
                }
            )
            return
        lines = letters.line_ids
        escalations = lines.filtered("is_escalation")
        self._update_invoices(escalations)
        # the run's state is tracked; a tracking message on each letter would add nothing
        letters.with_context(mail_notrack=True).state = "done"
        # before rendering: the letters name their charge invoices
        letters._create_charge_invoices()
        self._render_letters(letters)
        letters.filtered("channel_letter").letter_state = "to_print"
        emails = letters.filtered("channel_email")
        for letter in emails:
            try:
                with self.env.cr.savepoint():
                    letter._send_email()
            except Exception as error:  # noqa: BLE001 - one failing e-mail must not stop the run
                _logger.warning("Dunning e-mail for letter %s failed: %s", letter.id, error)
                letter.message_post(body=_("The e-mail could not be queued: %(error)s", error=str(error)))
                letter.channel_letter = True
                letter.letter_state = "to_print"
        self._schedule_calls(letters.filtered("channel_phone"))
        self._log_letters(letters)
        self.state = "done"
        letters.partner_id.with_company(self.company_id)._refresh_credit_dunning_count()

    def _recheck_letters(self, letters):
        """Check every line of ``letters`` again at validation: an item paid or no longer open,
        another customer's, disputed, promised, in a payment plan, paused or handed over since
        the proposal is dropped with a note on its letter; open amounts are brought up to date.
        A letter left without an invoice reaching a new level, or whose open credits now cover
        its overdue items, is cancelled (not sent, no level raised). Set-based: one query for
        the open items, one for the paused customers, one for the exclusion hook. Returns the
        letters still to send."""
        company, date = self.company_id, self.date
        rows = self._get_dunning_candidates(company, date, letters.partner_id)
        current = {(row["move_id"], row["partner_id"]): row for row in rows}
        paused_partner_ids = self._paused_partner_ids(company, date)
        blocked = self.env["account.move"]._credit_dunning_blocked_move_ids(
            list({row["move_id"] for row in rows}), date
        )
        agency = self.env["account.move"]._credit_blocked_by_agency(list(blocked), date) if blocked else set()
        rounding = company.currency_id.rounding
        to_send = letters.browse()
        for letter in letters:
            drops = []
            for line in letter.line_ids:
                row = current.get((line.move_id.id, letter.partner_id.id))
                reason = None
                owner = line.move_id.commercial_partner_id
                if owner and owner != letter.partner_id and not row:
                    reason = _("another customer's document")
                elif not row or (line.line_type == "invoice") != (row["residual"] > 0):
                    reason = _("paid or no longer open")
                elif line.line_type == "invoice" and (
                    row["paused"] or letter.partner_id.id in paused_partner_ids
                ):
                    reason = _("dunning paused")
                elif line.line_type == "invoice" and row["move_id"] in agency:
                    reason = _("handed over to the collection agency")
                elif line.line_type == "invoice" and row["move_id"] in blocked:
                    reason = _("disputed, under a promise to pay or a payment plan")
                if reason:
                    drops.append((line, reason))
                elif float_compare(
                    row["residual"], line.amount_residual_company, precision_rounding=rounding
                ):
                    line.write(
                        {
                            "amount_residual": row["residual_currency"],
                            "amount_residual_company": row["residual"],
                        }
                    )
            if drops:
                letter._message_log(
                    body=Markup("<p>%s</p><ul>%s</ul>")
                    % (
                        _("Dropped from the letter at validation:"),
                        Markup().join(
                            Markup("<li>%s</li>")
                            % _("%(document)s: %(reason)s", document=line.move_id.display_name, reason=reason)
                            for line, reason in drops
                        ),
                    )
                )
                self.env["credit.dunning.line"].union(*(line for line, __ in drops)).unlink()
            # open credits that arrived after the proposal are shown and netted too
            known = set(letter.line_ids.move_id.ids)
            new_credits = [
                row
                for (move_id, partner_id), row in current.items()
                if partner_id == letter.partner_id.id and row["residual"] < 0 and move_id not in known
            ]
            if new_credits:
                self.env["credit.dunning.line"].create(
                    [
                        {
                            "letter_id": letter.id,
                            "move_id": row["move_id"],
                            "line_type": "credit",
                            "currency_id": row["currency_id"],
                            "date_invoice": row["date_invoice"],
                            "date_due": row["date_due"],
                            "days_overdue": max((date - row["date_due"]).days, 0),
                            "amount_total": row["amount_total"],
                            "amount_residual": row["residual_currency"],
                            "amount_residual_company": row["residual"],
                        }
                        for row in new_credits
                    ]
                )
            kept = letter.line_ids
            if not kept.filtered("is_escalation"):
                letter._action_cancel(_("Cancelled at validation: no invoice left that reaches a new level."))
            elif (
                float_compare(sum(kept.mapped("amount_residual_company")), 0.0, precision_rounding=rounding)
                <= 0
            ):
                letter._action_cancel(_("Cancelled at validation: the open credits cover the overdue items."))
            else:
                to_send |= letter
        return to_send

    def _update_invoices(self, escalations):
        """Write each escalated invoice's new level and date, grouped by level (one write per
        level, not per invoice)."""
        date = self.date
        by_level = defaultdict(lambda: self.env["account.move"])
        for line in escalations:
            by_level[line.level_id] |= line.move_id
        # only dunning fields change: no need to re-synchronise the invoices' tax and payment
        # term lines (the costliest part of writing a posted invoice); no tracking message
        # either, the note of _log_letters documents the letter, its level and its run
        context = {"credit_dunning_write": DUNNING_WRITE, "skip_invoice_sync": True, "mail_notrack": True}
        for level, moves in by_level.items():
            moves.with_context(**context).write(
                {"credit_dunning_level_id": level.id, "credit_dunning_date": date}
            )
        escalations.filtered("flat_fee_amount").move_id.with_context(**context).write(
            {"credit_dunning_flat_fee_charged": True}
        )

    def _render_letters(self, letters):
        """Render every letter's PDF in ONE wkhtmltopdf call, store each as the letter's
        attachment and the merged file on the run."""
        contents = self._render_letter_pdfs(letters)
        letters._attach_pdfs(contents)
        printable = letters.filtered("channel_letter") or letters
        merged = merge_pdf([contents[letter.id] for letter in printable])
        self.attachment_id = self.env["ir.attachment"].create(
            {
                "name": "%s.pdf" % self.name.replace("/", "-"),
                "raw": merged,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )

    @api.model
    def _render_letter_pdfs(self, letters):
        """PDF bytes per letter id from a single wkhtmltopdf call: the letters' HTML bodies are
        joined into one document (one page break between letters) and the resulting PDF is cut
        at the page carrying each letter's marker. Joining the bodies ourselves keeps this to one
        process and also works with a wkhtmltopdf without patched Qt, which refuses several
        input documents. Letters whose marker is not found are rendered one by one."""
        report_model = self.env["ir.actions.report"].with_context(debug=False)
        report = report_model._get_report("credit_control.credit_dunning_letter_report_action")
        html = report_model._render_qweb_html(report.report_name, letters.ids)[0]
        bodies, html_ids, header, footer, paper_args = report._prepare_html(html, report_model=report.model)
        contents = {}
        if len(bodies) == len(letters) and set(html_ids) == set(letters.ids):
            pdf = report_model._run_wkhtmltopdf(
                [_join_bodies(bodies)],
                report_ref=report.report_name,
                header=header,
                footer=footer,
                specific_paperformat_args=paper_args,
            )
            contents = _split_by_marker(pdf, html_ids)
        for letter in letters.filtered(lambda lt: lt.id not in contents):
            _logger.warning("Dunning letter %s: rendered on its own", letter.id)
            contents[letter.id] = report_model.with_context(force_report_rendering=True)._render_qweb_pdf(
                report.report_name, res_ids=letter.ids
            )[0]
        return contents

    def _schedule_calls(self, letters):
        # a phone-call level opens a call task for the collector (credit.task)
        for letter in letters:
            values = letter._prepare_activity(self.env["mail.activity.type"], self.date)
            task = self.env["credit.task"]._create_auto(
                "call",
                "dunning_call",
                letter.partner_id,
                values["summary"],
                company=self.company_id,
                user=self.env["res.users"].browse(values["user_id"]),
                dunning_letter_id=letter,
                move_ids=letter.line_ids.move_id,
                date_deadline=self.date,
                description=values["note"],
            )
            letter.activity_id = task.activity_ids[:1]

    def _log_letters(self, letters):
        """Chatter: a note on each customer (with the PDF) and on each dunned invoice, logged
        without notifications (internal notes notify nobody anyway), the invoices of a letter in
        one batch."""
        author = self.env.user.partner_id
        for letter in letters:
            channels = ", ".join(
                label
                for flag, label in (
                    (letter.channel_email, _("e-mail")),
                    (letter.channel_letter, _("letter")),
                    (letter.channel_phone, _("phone call")),
                )
                if flag
            )
            body = Markup("%s") % _(
                "Dunning letter %(level)s of %(date)s (%(run)s) sent by %(channels)s.",
                level=letter.level_id.name,
                date=fields.Date.to_string(self.date),
                run=self.name,
                channels=channels or _("no channel"),
            )
            # sudo: collectors log on customers they may not edit
            letter.partner_id.sudo()._message_log(
                body=body, attachment_ids=letter.attachment_id.ids, author_id=author.id
            )
            moves = letter.line_ids.filtered(lambda line: line.line_type == "invoice").move_id
            moves._message_log_batch(dict.fromkeys(moves.ids, body), author_id=author.id)

    @api.model
    def _cron_dunning(self, batch_size=200):
        """Daily: propose and validate the automatic levels of each company that went live
        (dunning start date set and reached), in batches of customers; the scheduler re-runs the
        job at once while customers remain. Each company and each batch is processed on its
        own (savepoints): a failure is listed on the run, the credit managers are told, and
        the other customers and companies go on. Until a person has validated the company's
        first automatic proposal, the automatic dunning only proposes when the company asks
        for a review of the first run."""
        today = fields.Date.context_today(self)
        done = 0
        remaining = 0
        # sudo: the scheduler's user runs the dunning of every company
        for company in self.env["res.company"].sudo().search([]):
            if not company._credit_dunning_automatic_active(today):
                continue
            runs = self.sudo().with_company(company).with_context(credit_dunning_write=DUNNING_WRITE)
            today_runs = runs.search(
                [("company_id", "=", company.id), ("is_automatic", "=", True), ("date", "=", today)]
            )
            if today_runs.filtered(lambda run: run.state == "cancel" and run.failure_note):
                continue  # the company's proposal failed today: the managers were told
            try:
                with self.env.cr.savepoint():
                    levels = runs.env["credit.dunning.level"].search(
                        [("company_id", "=", company.id), ("is_automatic", "=", True)]
                    )
                    proposals = []
                    if levels:
                        runs.env["res.partner"].with_company(company)._credit_dunning_resume_expired(today)
                        proposals = runs._prepare_proposal(
                            company,
                            today,
                            levels=levels,
                            automatic=True,
                            exclude_partner_ids=today_runs.failed_partner_ids.ids,
                        )
            except Exception as error:  # noqa: BLE001 - one company never stops the others
                _logger.exception("Automatic dunning of %s failed", company.name)
                runs._cron_company_failed(company, today, error)
                continue
            if not proposals:
                continue
            if done:
                remaining += len(proposals)
                continue
            batch, rest = proposals[:batch_size], proposals[batch_size:]
            runs._cron_run_batch(company, today, batch, validate=not company._credit_dunning_review_pending())
            done = len(batch)
            remaining += len(rest)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _cron_run_batch(self, company, date, proposals, validate=True):
        """One automatic run for ``proposals``: letters created together, else customer by
        customer (a failing customer is listed and left out); validated unless ``validate`` is
        off or validation fails (the run then stays a proposal, with the failure listed)."""
        run = self.create({"date": date, "company_id": company.id, "is_automatic": True})
        failures = []
        try:
            with self.env.cr.savepoint():
                run._create_letters(proposals)
        except Exception:  # noqa: BLE001 - isolate the customer that fails
            for proposal in proposals:
                try:
                    with self.env.cr.savepoint():
                        run._create_letters([proposal])
                except Exception as error:  # noqa: BLE001
                    _logger.exception("Automatic dunning: customer %s failed", proposal["partner_id"])
                    failures.append((proposal["partner_id"], error))
        if validate and run.letter_ids:
            try:
                with self.env.cr.savepoint():
                    run._action_validate()
            except Exception as error:  # noqa: BLE001 - the proposal stays for a person
                _logger.exception("Automatic dunning run %s could not be validated", run.name)
                failures.append((False, error))
        run._record_failures(failures, proposal_only=not validate)
        if not run.letter_ids and run.state == "draft":
            run.write(
                {
                    "state": "cancel",
                    "cancel_reason": _("The automatic dunning could not create any letter."),
                    "cancel_date": fields.Datetime.now(),
                }
            )
        return run

    @api.model
    def _cron_company_failed(self, company, date, error):
        """A company's automatic proposal failed: kept as a cancelled run naming the error."""
        run = self.create({"date": date, "company_id": company.id, "is_automatic": True})
        run._record_failures([(False, error)])
        run.write(
            {
                "state": "cancel",
                "cancel_reason": _("The automatic dunning proposal failed; see the failures."),
                "cancel_date": fields.Datetime.now(),
            }
        )
        return run

    def _record_failures(self, failures, proposal_only=False):
        """List ``failures`` ((customer id or False, exception) pairs) and the letters with items
        proposed without interest on the run, and tell the company's credit managers."""
        self.ensure_one()
        notes = []
        partners = self.env["res.partner"].browse([partner_id for partner_id, __ in failures if partner_id])
        for partner_id, error in failures:
            message = str(error.args[0]) if getattr(error, "args", None) else str(error)
            if partner_id:
                notes.append(
                    _(
                        "%(customer)s: %(error)s",
                        customer=partners.browse(partner_id).display_name,
                        error=message,
                    )
                )
            else:
                notes.append(message)
        review = self.letter_ids.filtered("needs_review")
        if review:
            notes.append(
                _(
                    "Proposed without interest, to be checked: %(customers)s",
                    customers=", ".join(review.partner_id.mapped("display_name")),
                )
            )
        if not notes and not proposal_only:
            return
        if notes:
            self.write(
                {
                    "failure_note": "\n".join(filter(None, [self.failure_note, *notes])),
                    "failed_partner_ids": [fields.Command.link(partner.id) for partner in partners],
                }
            )
        managers = self._credit_managers()
        body = (
            _("The automatic dunning needs your attention: %(notes)s", notes="; ".join(notes))
            if notes
            else _("The first automatic dunning run after go-live is a proposal: review and validate it.")
        )
        self.message_post(
            body=body,
            partner_ids=managers.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def _credit_managers(self):
        """Active credit managers of the run's company (not the superuser)."""
        group = self.env.ref("credit_control.credit_control_group_manager")
        return group.sudo().users.filtered(
            lambda user: user.active and not user._is_superuser() and self.company_id in user.company_ids
        )


LETTER_MARKER = "CCDUNNINGLETTER%s"


def _join_bodies(bodies):
    """One HTML document holding the articles of all ``bodies`` (each a complete document from
    ``_prepare_html``), a page break before each but the first."""
    root = lxml.html.fromstring(bodies[0])
    first_article = root.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]")[0]
    parent = first_article.getparent()
    for body in bodies[1:]:
        for article in lxml.html.fromstring(body).xpath(
            "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"
        ):
            article.set("style", "page-break-before: always; %s" % (article.get("style") or ""))
            parent.append(article)
    return lxml.html.tostring(root, encoding="unicode")


def _split_by_marker(pdf, res_ids):
    """PDF bytes per record id (``res_ids`` in the order of the document), cut at the page
    holding each record's marker; empty when a marker is missing.

    Fast path: the marker is the only text in a monospaced font, and wkhtmltopdf lists the fonts
    each page uses, so the pages using one are the letters' first pages, in order (checked on
    the first and the last by their text). Otherwise every page's text is searched (PyPDF2's
    text extraction costs about 0.1 s per page)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    pages = reader.pages
    starts = _marker_pages_by_font(pages, res_ids)
    if starts is None:
        starts = {}
        markers = {LETTER_MARKER % res_id: res_id for res_id in res_ids}
        for number, page in enumerate(pages):
            text = _page_text(page)
            for marker, res_id in markers.items():
                if res_id not in starts and marker in text:
                    starts[res_id] = number
    ordered = sorted(starts.items(), key=lambda item: item[1])
    if len(ordered) != len(res_ids) or ordered[0][1] != 0:
        return {}
    contents = {}
    for index, (res_id, first) in enumerate(ordered):
        last = ordered[index + 1][1] if index + 1 < len(ordered) else len(pages)
        if last <= first:
            return {}
        writer = PdfFileWriter()
        for number in range(first, last):
            writer.add_page(pages[number])
        stream = io.BytesIO()
        writer.write(stream)
        contents[res_id] = stream.getvalue()
    return contents


def _page_text(page):
    return (page.extract_text() or "").replace(" ", "")


def _marker_pages_by_font(pages, res_ids):
    """{res_id: first page} from the pages using a monospaced font, or None when they do not
    match the records one to one."""
    numbers = []
    for number, page in enumerate(pages):
        fonts = page.get("/Resources", {}).get("/Font")
        fonts = fonts.get_object() if fonts else {}
        names = [str(fonts[key].get_object().get("/BaseFont", "")) for key in fonts]
        if any("Mono" in name or "Courier" in name for name in names):
            numbers.append(number)
    if len(numbers) != len(res_ids) or not numbers or numbers[0] != 0:
        return None
    for res_id, number in ((res_ids[0], numbers[0]), (res_ids[-1], numbers[-1])):
        if LETTER_MARKER % res_id not in _page_text(pages[number]):
            return None
    return dict(zip(res_ids, numbers, strict=True))
