"""Dunning run: the proposal (open items, levels reached, letters and lines created)."""

from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, float_compare, float_round

from .account_move import DUNNING_WRITE

# the letter's stored computed fields the proposal gives at creation (_proposal_letter_totals)
LETTER_TOTALS = ("level_id", "invoice_count", "amount_residual", "needs_review", "email_state", "email_error")


class CreditDunningRun(models.Model):
    _inherit = "credit.dunning.run"

    def init(self):
        result = super().init()
        # The open receivable items of the proposal (_get_dunning_candidates): read with an
        # index-only scan of the open items of the receivable accounts (18,378 of the 492,216
        # journal items of the 1x bench ledger; the open items of other reconcilable accounts,
        # e.g. outstanding payments, are in it too, apart by account), instead of a scan of every
        # journal item (Odoo's unreconciled index also holds every income line and needs the
        # table for the amounts). Small: only items with an amount left.
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS credit_control_aml_dunning_idx
                ON account_move_line (account_id)
                INCLUDE (company_id, partner_id, move_id, date_maturity, date, amount_residual,
                         amount_residual_currency)
             WHERE reconciled IS NOT TRUE
               AND parent_state = 'posted'
               AND (amount_residual <> 0 OR amount_residual_currency <> 0)
                """
            )
        )
        return result

    @api.model
    def _get_dunning_candidates(self, company, date, partners=None):
        """Open receivable items of ``company`` grouped by document, in ONE query for all
        customers: rows with the document's open amount (its currency and company currency),
        earliest due date, current dunning level and pause. The open receivable items are read
        from the partial index credit_control_aml_dunning_idx alone (an index-only scan of the
        ledger's open items, not a scan of every journal item), aggregated per document and
        customer, then joined to their documents. Long: one SQL statement, with the flushes of
        the fields it reads."""
        aml = self.env["account.move.line"]
        # the record rules and the customer filter from the ORM; the open receivable items in
        # the terms of the index (an item not reconciled always has an amount left: receivable
        # accounts are reconcilable, Odoo marks an item reconciled when both amounts are zero)
        domain = [("company_id", "=", company.id), ("partner_id", "!=", False)]
        if partners:
            domain.append(("partner_id.commercial_partner_id", "in", partners.commercial_partner_id.ids))
        query = aml._search(domain)
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["account.account"].flush_model(["account_type"])
        aml.flush_model(
            [
                "move_id",
                "account_id",
                "partner_id",
                "company_id",
                "parent_state",
                "reconciled",
                "date",
                "date_maturity",
                "amount_residual",
                "amount_residual_currency",
            ]
        )
        self.env["account.move"].flush_model(
            [
                "move_type",
                "currency_id",
                "date",
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
            WITH dun_item AS MATERIALIZED (
                SELECT account_move_line.move_id,
                       dun_partner.commercial_partner_id AS partner_id,
                       MIN(COALESCE(account_move_line.date_maturity, account_move_line.date)) AS date_due,
                       SUM(account_move_line.amount_residual) AS residual,
                       SUM(account_move_line.amount_residual_currency) AS residual_currency
                  FROM %(from_clause)s
                  JOIN res_partner dun_partner ON dun_partner.id = account_move_line.partner_id
                 WHERE %(where_clause)s
                   AND account_move_line.account_id = ANY(ARRAY(
                           SELECT id FROM account_account WHERE account_type = 'asset_receivable'
                       ))
                   AND account_move_line.parent_state = 'posted'
                   AND account_move_line.reconciled IS NOT TRUE
                   AND (account_move_line.amount_residual <> 0
                        OR account_move_line.amount_residual_currency <> 0)
              GROUP BY account_move_line.move_id, dun_partner.commercial_partner_id
                HAVING SUM(account_move_line.amount_residual) != 0
            )
            SELECT dun_item.move_id,
                   dun_item.partner_id,
                   dun_move.move_type AS move_type,
                   dun_move.currency_id AS currency_id,
                   COALESCE(dun_move.invoice_date, dun_move.date) AS date_invoice,
                   dun_move.amount_total_in_currency_signed::float8 AS amount_total,
                   dun_move.credit_dunning_level_id AS level_id,
                   dun_move.credit_dunning_date AS dunning_date,
                   dun_move.credit_dunning_flat_fee_charged AS flat_fee_charged,
                   dun_move.credit_dunning_interest_date AS interest_date,
                   dun_move.credit_dunning_charge_letter_id IS NOT NULL AS is_charge,
                   COALESCE(dun_move.credit_dunning_pause, FALSE)
                       AND (dun_move.credit_dunning_pause_until IS NULL
                            OR dun_move.credit_dunning_pause_until > %(date)s) AS paused,
                   dun_item.date_due,
                   -- as floats (what the ORM reads): converted by the server, not per value
                   dun_item.residual::float8 AS residual,
                   dun_item.residual_currency::float8 AS residual_currency
              FROM dun_item
              JOIN account_move dun_move ON dun_move.id = dun_item.move_id
             -- the documents fetched by their ids (whatever the planner estimates for the
             -- items: not a merge join over every document of the ledger)
             WHERE dun_move.id = ANY(ARRAY(SELECT move_id FROM dun_item))
          ORDER BY dun_item.partner_id, dun_item.date_due, dun_item.move_id
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
        allowed = all_levels & levels if levels else all_levels
        items_from = False
        if automatic:
            allowed = allowed.filtered("is_automatic")
            items_from = company.credit_dunning_items_from
        table = self._proposal_level_table(all_levels, allowed)
        start_by_age = company.credit_dunning_start_level == "age"
        rows = self._get_dunning_candidates(company, date, partners)
        if not rows:
            return []
        paused_partner_ids = self._paused_partner_ids(company, date) | set(exclude_partner_ids)
        blocked_move_ids = self._proposal_blocked_move_ids(company, date, [row["move_id"] for row in rows])

        by_partner = defaultdict(list)
        for row in rows:
            if row["partner_id"] not in paused_partner_ids:
                by_partner[row["partner_id"]].append(row)

        rounding = company.currency_id.rounding
        proposals = []
        for partner_id, partner_rows in by_partner.items():
            lines, has_escalation = self._proposal_lines(
                partner_rows, date, table, blocked_move_ids, items_from, start_by_age
            )
            # open credits netted: only a positive balance, at least the minimum, is dunned
            open_company = sum(line["amount_residual_company"] for line in lines)
            if (
                not has_escalation
                or float_compare(open_company, 0.0, precision_rounding=rounding) <= 0
                or float_compare(open_company, min_amount or 0.0, precision_rounding=rounding) < 0
            ):
                continue
            proposals.append({"partner_id": partner_id, "lines": lines})
        return proposals

    @api.model
    def _proposal_level_table(self, all_levels, allowed):
        """The company's levels as the proposal reads them for every item, read once: their ids
        in order (sequence, id), each one's rank in that order, days overdue and days since the
        previous letter, and the ids of the levels it may reach (``allowed``)."""
        return {
            "ids": all_levels.ids,
            "rank": {level.id: index for index, level in enumerate(all_levels)},
            "days": {level.id: level.days for level in all_levels},
            "min_days": {level.id: level.min_days_since_previous for level in all_levels},
            "allowed": set(allowed.ids),
        }

    @api.model
    def _proposal_lines(self, partner_rows, date, table, blocked_move_ids, items_from, start_by_age):
        """Line values of one customer's open items, and whether any of them escalates."""
        lines = []
        has_escalation = False
        for row in partner_rows:
            if items_from and row["residual"] > 0 and row["date_due"] < items_from:
                continue
            line = self._prepare_line(row, date, table, blocked_move_ids, start_by_age=start_by_age)
            if line:
                lines.append(line)
                has_escalation |= line["level_id"] != line["previous_level_id"]
        return lines, has_escalation

    @api.model
    def _proposal_blocked_move_ids(self, company, date, move_ids):
        """Of ``move_ids``, the invoices not to propose on ``date``: paused, promised, disputed
        or otherwise held by the dunning hook, or already in a proposal not yet validated
        (never proposed twice)."""
        blocked_move_ids = self.env["account.move"]._credit_dunning_blocked_move_ids(move_ids, date)
        blocked_move_ids |= {
            move.id
            for [move] in self.env["credit.dunning.line"]._read_group(
                [
                    ("letter_id.run_id.state", "=", "draft"),
                    ("letter_id.state", "=", "draft"),
                    ("letter_id.company_id", "=", company.id),
                    ("line_type", "=", "invoice"),
                ],
                groupby=["move_id"],
            )
        }
        return blocked_move_ids

    @api.model
    def _prepare_line(self, row, date, table, blocked_move_ids, start_by_age=False):
        """Line values for one open item, or None when it is not part of the letter (``table``:
        ``_proposal_level_table``)."""
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
        level_ids, allowed, days = table["ids"], table["allowed"], table["days"]
        current = table["rank"].get(row["level_id"], -1)
        next_level = level_ids[current + 1] if current + 1 < len(level_ids) else None
        if current < 0 and start_by_age:
            # never dunned: the level matching its age (one letter, never several at once)
            reached = [
                level_id for level_id in level_ids if level_id in allowed and days_overdue >= days[level_id]
            ]
            next_level = reached[-1] if reached else None
        if (
            next_level
            and next_level in allowed
            and days_overdue >= days[next_level]
            and row["dunning_date"] != date
            and (
                not row["dunning_date"]
                or current < 0
                or (date - row["dunning_date"]).days >= table["min_days"][next_level]
            )
        ):
            values["level_id"] = next_level
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
        charges = self._proposal_charge_data(proposals)
        letter_vals, line_vals_per_letter = [], []
        for proposal in proposals:
            partner = charges["partners"].browse(proposal["partner_id"])
            lines_vals = [self._proposal_line_vals(line, partner, charges) for line in proposal["lines"]]
            letter_vals.append(self._proposal_letter_vals(partner, lines_vals, charges))
            line_vals_per_letter.append(lines_vals)
        # the letters, then the lines, each in one INSERT per 1,000 that leaves the rows create
        # would (credit.dunning.bulk.mixin): no chatter work per letter (the run has its chatter;
        # nothing is tracked at creation), the letters' amounts and level given as their computes
        # would compute them from the lines (kept while the lines are inserted)
        letter_model = self.env["credit.dunning.letter"]
        letters = letter_model._create_bulk(
            [
                {**vals, **self._proposal_letter_totals(vals, lines_vals)}
                for vals, lines_vals in zip(letter_vals, line_vals_per_letter, strict=True)
            ]
        )
        totals = [letter_model._fields[name] for name in LETTER_TOTALS]
        with self.env.protecting(totals, letters):
            self.env["credit.dunning.line"]._create_bulk(
                [
                    {**line, "letter_id": letter.id}
                    for letter, lines_vals in zip(letters, line_vals_per_letter, strict=True)
                    for line in lines_vals
                ]
            )
        return letters

    def _proposal_letter_totals(self, letter_vals, lines_vals):
        """The letter's stored computed fields, as its computes derive them from ``lines_vals``
        (credit.dunning.letter _compute_level_id, _compute_amounts, _compute_needs_review,
        _compute_email_state): the highest level, the invoices, the open amount net of credits
        (the lines' amounts rounded in the company currency, as stored), the review flag, no
        e-mail yet."""
        rounding = self.company_id.currency_id.rounding
        return {
            "level_id": letter_vals.get("level_id", False),
            "invoice_count": sum(1 for line in lines_vals if line["line_type"] == "invoice"),
            "amount_residual": float_round(
                sum(
                    float_round(line["amount_residual_company"], precision_rounding=rounding)
                    for line in lines_vals
                ),
                precision_rounding=rounding,
            ),
            "needs_review": any(line["charge_error"] for line in lines_vals),
            "email_state": "none",
            "email_error": False,
        }

    def _proposal_charge_data(self, proposals):
        """What the letters of ``proposals`` need, read once: the company's levels, customers and
        their invoice addresses, currencies, base-rate periods and the §288(5) flat fee."""
        company, date = self.company_id, self.date
        levels = self.env["credit.dunning.level"].search([("company_id", "=", company.id)])
        partners = self.env["res.partner"].browse([proposal["partner_id"] for proposal in proposals])
        partners.fetch(["is_company", "name"])
        currencies = self.env["res.currency"].browse(
            {line["currency_id"] for proposal in proposals for line in proposal["lines"]}
        )
        earliest_due = min(line["date_due"] for proposal in proposals for line in proposal["lines"])
        periods = None
        if any(levels.mapped("charge_interest")):
            periods = (
                self._get_rate_periods_from(min(earliest_due, date), date) if earliest_due < date else []
            )
        line_model = self.env["credit.dunning.line"]
        addresses = self._proposal_invoice_addresses(partners)
        # the recipients' e-mail addresses, read at once (letter channels)
        partners.browse(set(addresses.values())).fetch(["email"])
        return {
            "company": company,
            "date": date,
            "levels": levels,
            "ranks": {level.id: level._rank() for level in levels},
            # what each line reads of its level, customer and currency: read once, not per line
            "level_charges": {level.id: (level.charge_interest, level.charge_flat_fee) for level in levels},
            "business": {partner.id: partner.is_company for partner in partners},
            "currency_records": {currency.id: currency for currency in currencies},
            "partners": partners,
            "addresses": addresses,
            "currencies": currencies,
            "periods": periods,
            "flat_fee": {
                currency: line_model._flat_fee_in(currency, company, date) for currency in currencies
            },
        }

    @api.model
    def _proposal_invoice_addresses(self, partners):
        """{partner id: its invoice address}, as ``address_get(["invoice"])`` finds it, for all
        customers at once: their active contacts below them (not through another company) read
        level by level, one query per level of the tree for all customers, in the order
        ``child_ids`` gives them, then ``address_get``'s depth-first search run on them in
        memory (the first invoice address, else the first contact, else the customer). A
        customer below another partner (not a commercial entity: ``address_get`` also searches
        above it) is searched by ``address_get`` itself."""
        partner_model = self.env["res.partner"]
        partners.fetch(["type", "is_company", "parent_id"])
        types = {partner.id: partner.type for partner in partners}
        children = defaultdict(list)
        frontier = partners.ids
        while frontier:
            # the contacts of one level, as child_ids reads them (active, the user's record
            # rules, the model's order), companies and what is below them left out
            contacts = partner_model.search_fetch(
                [("parent_id", "in", frontier), ("is_company", "=", False), ("active", "=", True)],
                ["parent_id", "type"],
            )
            frontier = [contact.id for contact in contacts if contact.id not in types]
            for contact in contacts:
                if contact.id not in types:
                    types[contact.id] = contact.type
                    children[contact.parent_id.id].append(contact.id)

        def invoice_address(partner):
            if not (partner.is_company or not partner.parent_id):
                return partner.address_get(["invoice"])["invoice"]
            contact = False
            to_scan = [partner.id]
            while to_scan:
                partner_id = to_scan.pop(0)
                if types[partner_id] == "invoice":
                    return partner_id
                if types[partner_id] == "contact" and not contact:
                    contact = partner_id
                to_scan = children[partner_id] + to_scan
            return contact or partner.id

        return {partner.id: invoice_address(partner) for partner in partners}

    def _proposal_line_vals(self, line, partner, charges):
        """Values of one proposed line with its interest (§288 BGB) and flat fee (§288(5))."""
        company, date = charges["company"], charges["date"]
        line = dict(line)  # the proposal stays intact for a retry
        level_id = line["level_id"]
        if level_id and level_id not in charges["level_charges"]:
            # an archived level kept by an item not escalated
            level = charges["levels"].browse(level_id)
            charges["level_charges"][level_id] = (level.charge_interest, level.charge_flat_fee)
        charge_interest, charge_flat_fee = charges["level_charges"][level_id] if level_id else (False, False)
        currency = charges["currency_records"][line["currency_id"]]
        flat_fee_charged = line.pop("flat_fee_charged")
        is_charge = line.pop("is_charge")
        # interest already invoiced up to a date runs on from the day after it
        interest_due = max(line["date_due"], line.pop("interest_date") or line["date_due"])
        escalates = line["level_id"] != line["previous_level_id"]
        interest = fee = 0.0
        interest_from = False
        charge_error = False
        business = charges["business"][partner.id]
        if line["line_type"] == "invoice" and level_id and not is_charge:
            if charge_interest and charges["periods"] is not None:
                try:
                    interest = self.env["credit.base.rate"]._interest_for_periods(
                        charges["periods"],
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
            if charge_flat_fee and business and not flat_fee_charged and escalates:
                fee = charges["flat_fee"][currency]
        return {
            **line,
            "interest_amount": interest,
            "interest_date_from": interest_from,
            "flat_fee_amount": fee,
            "charge_error": charge_error,
        }

    def _proposal_letter_vals(self, partner, lines_vals, charges):
        """Values of the letter to ``partner``: its currency (the lines' one, else the company's),
        the fee and channels of its highest level."""
        company, date = self.company_id, self.date
        levels = charges["levels"]
        line_currencies = {line["currency_id"] for line in lines_vals}
        currency = (
            charges["currencies"].browse(line_currencies.pop())
            if len(line_currencies) == 1
            else company.currency_id
        )
        # the highest level of the lines (ranks read once per run; an archived level kept by an
        # item not escalated is ranked on its own)
        ranks = charges["ranks"]
        top = levels.browse(
            max(
                {line["level_id"] for line in lines_vals if line["level_id"]},
                key=lambda level_id: ranks.get(level_id) or levels.browse(level_id)._rank(),
            )
        )
        recipient_id = charges["addresses"][partner.id]
        no_email = not charges["partners"].browse(recipient_id).email
        return {
            "run_id": self.id,
            "level_id": top.id,
            "partner_id": partner.id,
            "recipient_id": recipient_id,
            "currency_id": currency.id,
            "fee_amount": company.currency_id._convert(top.fee, currency, company, date) if top.fee else 0.0,
            "channel_email": top.channel_email and not no_email,
            # no e-mail address: the letter goes by post
            "channel_letter": top.channel_letter or (top.channel_email and no_email),
            "channel_phone": top.channel_phone,
        }

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
