from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from .credit_dunning_run import (
    check_dunning_create,
    check_dunning_write,
    companies_consistent,
    dunning_context,
    is_dunning_code,
)


class CreditDunningLine(models.Model):
    _name = "credit.dunning.line"
    _inherit = ["credit.dunning.bulk.mixin"]
    _description = "Dunning Letter Line"
    _order = "letter_id, line_type desc, date_due, id"
    _check_company_auto = True

    # === FIELDS === #
    letter_id = fields.Many2one("credit.dunning.letter", required=True, index=True, ondelete="cascade")
    # the letter's run, company and customer, not stored: each stored copy cost the insert of a
    # proposal a foreign-key check per line (12,140 lines: about 0.1 s each, idle), run_id also an
    # index; searched (record rule, domains) and read through the letter
    run_id = fields.Many2one(related="letter_id.run_id")
    company_id = fields.Many2one(related="letter_id.company_id")
    partner_id = fields.Many2one(related="letter_id.partner_id")
    state = fields.Selection(related="letter_id.state")
    dunning_date = fields.Date(related="letter_id.dunning_date")
    move_id = fields.Many2one(
        "account.move", string="Document", required=True, index=True, ondelete="cascade", check_company=True
    )
    line_type = fields.Selection(
        [("invoice", "Invoice"), ("credit", "Credit Note or Payment")],
        required=True,
        default="invoice",
        help="Credits (credit notes, payments not yet matched) are shown and netted in the letter.",
    )
    previous_level_id = fields.Many2one("credit.dunning.level", string="Previous Level", readonly=True)
    level_id = fields.Many2one(
        "credit.dunning.level",
        string="Level",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="Level the invoice reaches with this letter.",
    )
    is_escalation = fields.Boolean(
        compute="_compute_is_escalation", help="The invoice moves to a new level with this letter."
    )
    currency_id = fields.Many2one("res.currency", required=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    date_invoice = fields.Date(string="Invoice Date")
    date_due = fields.Date(string="Due Date")
    days_overdue = fields.Integer()
    amount_total = fields.Monetary(string="Original Amount", currency_field="currency_id")
    amount_residual = fields.Monetary(string="Open Amount", currency_field="currency_id")
    amount_residual_company = fields.Monetary(
        string="Open Amount (Company Currency)", currency_field="company_currency_id"
    )
    interest_amount = fields.Monetary(
        string="Interest",
        currency_field="currency_id",
        compute="_compute_charges",
        store=True,
        readonly=False,
        precompute=False,
    )
    flat_fee_amount = fields.Monetary(
        string="Flat Fee",
        currency_field="currency_id",
        compute="_compute_charges",
        store=True,
        readonly=False,
        help="Flat fee of §288(5) BGB (40 EUR by default, per company), once per invoice, business "
        "customers only.",
    )
    interest_date_from = fields.Date(
        string="Interest From",
        compute="_compute_charges",
        store=True,
        readonly=False,
        help="First day of the interest period: the day after the due date, or after the last day "
        "whose interest was already invoiced.",
    )

    charge_error = fields.Char(
        string="To Check",
        compute="_compute_charges",
        store=True,
        readonly=False,
        precompute=False,
        help="Why interest or fees of this item could not be computed: it was proposed without them.",
    )

    # === COMPUTE === #
    @api.depends("level_id", "previous_level_id")
    def _compute_is_escalation(self):
        for line in self:
            line.is_escalation = line.line_type == "invoice" and line.level_id != line.previous_level_id

    @api.depends("level_id")
    def _compute_charges(self):
        """Interest and flat fee of one line; the dunning run computes them set-based at creation
        and passes them in, so this runs only when a collector changes a line's level."""
        base_rates = self.env["credit.base.rate"]
        for line in self:
            level = line.level_id
            business = line.partner_id.is_company
            if line.line_type != "invoice" or not level or line.move_id.credit_dunning_charge_letter_id:
                # no interest on interest (§289 BGB), no flat fee for a charge invoice
                line.interest_amount = line.flat_fee_amount = 0.0
                line.interest_date_from = False
                line.charge_error = False
                continue
            line.charge_error = False
            interest_due = max(line.date_due, line.move_id.credit_dunning_interest_date or line.date_due)
            try:
                line.interest_amount = (
                    base_rates.statutory_interest(
                        line.amount_residual,
                        interest_due,
                        line.dunning_date,
                        business=business,
                        company=line.company_id,
                        currency=line.currency_id,
                    )
                    if level.charge_interest
                    else 0.0
                )
            except ValidationError as error:
                # proposed without interest, flagged for the collector
                line.interest_amount = 0.0
                line.charge_error = _(
                    "Interest not computed: %(error)s", error=error.args[0] if error.args else error
                )
            line.interest_date_from = interest_due + timedelta(days=1) if line.interest_amount else False
            line.flat_fee_amount = (
                line._flat_fee_in(line.currency_id, line.company_id, line.dunning_date)
                if level.charge_flat_fee and business and not line.move_id.credit_dunning_flat_fee_charged
                else 0.0
            )

    # === CONSTRAINTS === #
    @api.constrains("move_id", "letter_id", "line_type")
    def _check_move(self):
        """A line of a proposal names an open posted receivable document of the letter's own
        customer and company: an invoice with an open amount to collect, or a credit (credit
        note, unallocated payment) with an open amount in the customer's favour. One query for
        all lines: the receivable items of each line's document (whoever may read them) joined
        and aggregated per line, every join by primary key or by an indexed column, so no plan
        can rescan an aggregate for each line (the former join of two aggregated subqueries
        depended on the statistics of the just-filled table: 0.5-0.9 s for a ledger's 12,140
        lines in most runs, 194-350 s in one profiled session). The lines and their letters'
        customer, company and state are given as arrays (from the records: in the cache after a
        proposal's insert), not read by joining the just-filled tables, whose statistics may
        still say they are empty (after a rolled-back proposal: nested loops over every letter
        for each line, seconds). Long: the query is written out."""
        if not self:
            return
        self.flush_recordset(["move_id", "letter_id", "line_type"])
        self.env["account.move"].flush_model(["move_type"])
        self.env["account.move.line"].flush_model(
            [
                "move_id",
                "account_id",
                "partner_id",
                "company_id",
                "amount_residual",
                "parent_state",
                "reconciled",
            ]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        lines = self.sudo()
        letter_ids = lines._bulk_field_values("letter_id")
        letters = lines.letter_id.browse(set(letter_ids) - {None})
        letters.fetch(["state", "partner_id", "company_id"])
        # {letter: (customer, company)} of the draft letters (the others' lines are history)
        letter_of = {
            letter.id: (letter.partner_id.id, letter.company_id.id)
            for letter in letters
            if letter.state == "draft"
        }
        rows = [
            (line_id, move_id, line_type, *letter_of[letter_id])
            for line_id, move_id, line_type, letter_id in zip(
                self._ids,
                lines._bulk_field_values("move_id"),
                lines.mapped("line_type"),
                letter_ids,
                strict=True,
            )
            if letter_id in letter_of
        ]
        if not rows:
            return
        invalid = {
            line_id
            for [line_id] in self.env.execute_query(
                SQL(
                    """
            SELECT line.id
              FROM unnest(%(ids)s::int4[], %(moves)s::int4[], %(types)s::varchar[], %(partners)s::int4[],
                          %(companies)s::int4[])
                   AS line (id, move_id, line_type, partner_id, company_id)
              JOIN account_move move ON move.id = line.move_id
         LEFT JOIN account_move_line aml
                ON aml.move_id = line.move_id
               AND aml.account_id = ANY(ARRAY(
                       SELECT id FROM account_account WHERE account_type = 'asset_receivable'
                   ))
               AND aml.parent_state = 'posted'
               AND aml.reconciled IS NOT TRUE
         LEFT JOIN res_partner partner ON partner.id = aml.partner_id
          GROUP BY line.id, line.line_type, line.partner_id, line.company_id, move.move_type
            HAVING NOT COALESCE(
                       -- every receivable item of the customer (commercial entity) and company
                       COUNT(aml.id) > 0
                       AND COUNT(partner.commercial_partner_id) = COUNT(aml.id)
                       AND MIN(partner.commercial_partner_id) = line.partner_id
                       AND MAX(partner.commercial_partner_id) = line.partner_id
                       AND COUNT(aml.company_id) = COUNT(aml.id)
                       AND MIN(aml.company_id) = line.company_id
                       AND MAX(aml.company_id) = line.company_id
                       AND (
                           (line.line_type = 'invoice' AND SUM(aml.amount_residual) > 0
                            AND move.move_type IN ('out_invoice', 'entry'))
                           OR (line.line_type = 'credit' AND SUM(aml.amount_residual) < 0)
                       ), FALSE)
                    """,
                    ids=[row[0] for row in rows],
                    moves=[row[1] for row in rows],
                    types=[row[2] for row in rows],
                    partners=[row[3] for row in rows],
                    companies=[row[4] for row in rows],
                )
            )
        }
        # the first invalid line in the records' order (none: not a loop over 12,000 lines)
        line = invalid and next((line for line in self if line.id in invalid), None)
        if line:
            letter = line.letter_id
            raise ValidationError(
                _(
                    "%(document)s cannot be dunned in the letter to %(customer)s: only open posted "
                    "invoices (and open credits) of that customer in %(company)s belong in it.",
                    document=line.move_id.display_name,
                    customer=letter.partner_id.display_name,
                    company=letter.company_id.name,
                )
            )

    @api.constrains("interest_amount", "flat_fee_amount")
    def _check_charges(self):
        # mapped: the cached values of all lines at once (12,000 lines of a proposal)
        if any(amount < 0 for amount in self.mapped("interest_amount") + self.mapped("flat_fee_amount")):
            raise ValidationError(_("Interest and flat fee of a dunning line cannot be negative."))

    def _check_company(self, fnames=None):
        # one check per company and field, not per line (Odoo's message when one fails); the
        # lines grouped by their letters' company from the records (in the cache after a
        # proposal's insert; the related company_id would be computed line by line: 12,140
        # lines of a proposal), not by a query joining the just-filled tables
        lines = self.sudo()
        letter_ids = lines._bulk_field_values("letter_id")
        letters = lines.letter_id.browse(set(letter_ids) - {None})
        company_of = dict(zip(letters._ids, letters._bulk_field_values("company_id"), strict=True))
        grouped = defaultdict(list)
        for line_id, letter_id in zip(self._ids, letter_ids, strict=True):
            if letter_id:
                grouped[company_of[letter_id]].append(line_id)
        by_company = {self.env["res.company"].browse(company_id): ids for company_id, ids in grouped.items()}
        if not companies_consistent(self, fnames, by_company=by_company):
            return super()._check_company(fnames)
        return None

    def _bulk_check_access(self):
        # the record rules of new lines (the company's: through the letter) checked on the
        # records, their letter's company given to the related field as it computes it: not by
        # a query joining the just-filled tables, whose statistics can say they are empty after
        # a rolled-back proposal (a nested loop over every letter for each line: seconds)
        domain = self.env["ir.rule"]._compute_domain(self._name, "create")
        if not domain:
            return
        lines = self.sudo().with_context(active_test=False)
        letter_ids = lines._bulk_field_values("letter_id")
        letters = lines.letter_id.browse(set(letter_ids) - {None})
        company_of = dict(zip(letters._ids, letters._bulk_field_values("company_id"), strict=True))
        self.env.cache.update(
            lines, self._fields["company_id"], [company_of.get(letter_id) for letter_id in letter_ids]
        )
        if len(lines.filtered_domain(domain)) != len(self):
            self.check_access("create")

    # === CRUD === #
    def init(self):
        """Drop the columns of the letter's run, company and customer, stored on each line by
        earlier versions (copies of the letter's fields, now read through it): Odoo leaves the
        column of a field that is no longer stored in the table, with its foreign key (checked
        for every line inserted) and run_id's index. Idempotent: nothing to do on a new
        database."""
        result = super().init()
        for name in ("run_id", "company_id", "partner_id"):
            if not self._fields[name].store and column_exists(self.env.cr, self._table, name):
                self.env.cr.execute(
                    SQL("ALTER TABLE %s DROP COLUMN %s", SQL.identifier(self._table), SQL.identifier(name))
                )
        return result

    @api.model
    def default_get(self, fields_list):
        # a default_* key in the context never pre-sets a field of a line (called once per
        # created line: the context is only rebuilt when it holds such a key)
        if any(key.startswith("default_") for key in self.env.context):
            # the whole context is replaced on purpose: it drops every default_* key
            # pylint: disable-next=context-overridden
            self = self.with_context(dunning_context(self.env))  # noqa: PLW0642
        return super().default_get(fields_list)

    @api.model_create_multi
    def create(self, vals_list):
        letters = self.env["credit.dunning.letter"].browse(
            {vals.get("letter_id") for vals in vals_list} - {False, None}
        )
        check_dunning_create(self, letters.exists())
        # The stored related run_id is computed after the insert, one line at a time, and each
        # assignment appends the line to its run's cached line_ids (cached empty since the run
        # was created): quadratic in the lines of a run (12,000 lines: 73 million steps). With
        # no cached value there is nothing to append to (the next read comes from the database).
        letters.run_id.invalidate_recordset(["line_ids"])
        return super().create(vals_list)

    def _bulk_check_create(self, vals_list):
        # as create: nothing added to a validated or cancelled letter, by hand only by a manager
        letters = self.env["credit.dunning.letter"].browse({vals["letter_id"] for vals in vals_list})
        check_dunning_create(self, letters.exists())

    def write(self, vals):
        check_dunning_write(self, vals)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_validated(self):
        if is_dunning_code(self.env):
            return
        if any(line._dunning_is_history() for line in self):
            raise UserError(
                _("A line of a validated or cancelled dunning letter is history and cannot be deleted.")
            )

    def _dunning_editable_fields(self):
        # what a collector changes in a proposal: the level and the charges it brings
        return {"level_id", "interest_amount", "flat_fee_amount", "interest_date_from"}

    def _dunning_is_history(self):
        self.ensure_one()
        return self.letter_id._dunning_is_history()

    # === TOOLING === #
    @api.model
    def _flat_fee_in(self, currency, company, date):
        """The company's flat fee of §288(5) BGB (an amount in EUR) in ``currency``."""
        if not company.credit_dunning_flat_fee:
            return 0.0
        eur = self.env.ref("base.EUR")
        return eur._convert(
            company.credit_dunning_flat_fee, currency, company, date or fields.Date.context_today(self)
        )
