"""OCA migration: the communication history as dunning letters kept as history (see
credit_oca_migration)."""

from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.tools import SQL

from ..models.account_move import DUNNING_WRITE
from .credit_oca_migration import MIGRATION_MODULE, OCA_SENT_STATES


class CreditOcaMigration(models.TransientModel):
    _inherit = "credit.oca.migration"

    # === BUSINESS METHODS === #
    def _migrate_history(self, company, level_map, result):
        """Sent OCA communications (and sent lines without one) become validated letters of
        historical dunning runs, one run per date: documented, counted, never sent again."""
        if not level_map or not self._oca_table_exists("credit_control_line"):
            return
        has_communication = self._oca_table_exists("credit_control_communication")
        rows = self._oca_history_rows(company, has_communication)
        groups, previous_of = self._oca_history_groups(rows, level_map, has_communication)
        known = self._migration_records("credit.dunning.letter", f"letter_{company.id}_")
        partners = self.env["res.partner"].browse({row["partner_id"] for row in rows}).exists()
        commercial_of = {partner.id: partner.commercial_partner_id.id for partner in partners}
        todo = []
        for key, lines in groups.items():
            known_key = key[1] if key[0] == "comm" else f"l{lines[0]['id']}"
            if known_key in known or lines[0]["partner_id"] not in commercial_of:
                continue
            todo.append((f"letter_{company.id}_{known_key}", key, lines))
        if not todo:
            return
        runs = self._history_runs(
            company, {lines[0]["comm_date"] or lines[0]["date"] for _n, _k, lines in todo}, result
        )
        vals_list = []
        for _name, _key, lines in todo:
            first = lines[0]
            run = runs[first["comm_date"] or first["date"]]
            vals = self._prepare_history_letter_vals(company, run, lines, level_map, previous_of)
            vals["partner_id"] = commercial_of[first["partner_id"]]
            vals_list.append(vals)
        letters = self._create_history_letters([name for name, _key, _lines in todo], vals_list)
        result["letters"] += len(letters)
        result["letter_lines"] += sum(len(lines) for _n, _k, lines in todo)
        letters.partner_id.with_company(company)._refresh_credit_dunning_count()

    def _oca_history_rows(self, company, has_communication):
        """The sent OCA credit control lines of ``company`` (dicts), with their communication's
        contact and date when the communication table exists."""
        return self.env.execute_query_dict(
            SQL(
                """
                SELECT cl.id, cl.communication_id, cl.partner_id, cl.policy_level_id, cl.channel,
                       COALESCE(cl.date_sent, cl.date) AS date, cl.date_due, cl.amount_due,
                       cl.balance_due, cl.level,
                       COALESCE(cl.currency_id, %(currency)s) AS currency_id,
                       COALESCE(cl.invoice_id, aml.move_id) AS move_id, m.invoice_date,
                       %(contact)s AS contact_id, %(comm_date)s AS comm_date
                  FROM credit_control_line cl
                  JOIN account_move_line aml ON aml.id = cl.move_line_id
                  JOIN account_move m ON m.id = COALESCE(cl.invoice_id, aml.move_id)
                       %(comm_join)s
                 WHERE cl.company_id = %(company)s AND cl.state IN %(states)s
              ORDER BY cl.id
                """,
                currency=company.currency_id.id,
                contact=SQL("c.contact_address_id") if has_communication else SQL("NULL::int"),
                comm_date=SQL("c.report_date") if has_communication else SQL("NULL::date"),
                comm_join=SQL("LEFT JOIN credit_control_communication c ON c.id = cl.communication_id")
                if has_communication
                else SQL(""),
                company=company.id,
                states=OCA_SENT_STATES,
            )
        )

    def _oca_history_groups(self, rows, level_map, has_communication):
        """({letter key: rows}, {row id: level id of the invoice before it}): one letter per
        communication; sent lines without a communication grouped per customer, date, level and
        currency (as OCA groups a communication). The level before a letter: the invoice's
        previous sent OCA line's."""
        groups = defaultdict(list)
        for row in rows:
            if row["policy_level_id"] not in level_map:
                continue
            key = (
                ("comm", row["communication_id"])
                if row["communication_id"] and has_communication
                else ("lines", row["partner_id"], row["date"], row["policy_level_id"], row["currency_id"])
            )
            groups[key].append(row)
        previous_of = {}
        last_level = {}
        for row in sorted(rows, key=lambda r: (r["move_id"], r["level"], r["date"], r["id"])):
            previous_of[row["id"]] = last_level.get(row["move_id"])
            if row["policy_level_id"] in level_map:
                last_level[row["move_id"]] = level_map[row["policy_level_id"]].id
        return groups, previous_of

    def _prepare_history_letter_vals(self, company, run, lines, level_map, previous_of):
        """Values of the validated letter of ``run`` for the OCA ``lines`` of one communication
        (without the customer)."""
        first = lines[0]
        date = first["comm_date"] or first["date"]
        channel = first["channel"]
        return {
            "run_id": run.id,
            "state": "done",
            "recipient_id": first["contact_id"] or first["partner_id"],
            "currency_id": first["currency_id"],
            "channel_email": channel == "email",
            "channel_letter": channel == "letter",
            "channel_phone": channel == "phone",
            "letter_state": "printed" if channel == "letter" else "none",
            "line_ids": [
                Command.create(
                    {
                        "move_id": line["move_id"],
                        "line_type": "invoice",
                        "level_id": level_map[line["policy_level_id"]].id,
                        "previous_level_id": previous_of.get(line["id"]) or False,
                        "currency_id": line["currency_id"],
                        "date_invoice": line["invoice_date"],
                        "date_due": line["date_due"],
                        "days_overdue": (date - line["date_due"]).days if line["date_due"] else 0,
                        "amount_total": line["amount_due"],
                        "amount_residual": line["balance_due"],
                        "amount_residual_company": self._in_company_currency(
                            line["balance_due"], line["currency_id"], company, date
                        ),
                        # history: the charges of an OCA letter are not known here
                        "interest_amount": 0.0,
                        "flat_fee_amount": 0.0,
                        "interest_date_from": False,
                    }
                )
                for line in lines
            ],
        }

    def _create_history_letters(self, names, vals_list):
        """The letters of ``vals_list``, marked with the external ids ``names``; e-mailed ones
        as sent."""
        letters = (
            self.env["credit.dunning.letter"]
            .with_context(
                credit_dunning_write=DUNNING_WRITE,
                tracking_disable=True,
                mail_create_nolog=True,
                mail_notrack=True,
            )
            .create(vals_list)
        )
        # sudo: the external ids only mark what was taken over (Credit Managers cannot create them)
        self.env["ir.model.data"].sudo().create(
            [
                {
                    "module": MIGRATION_MODULE,
                    "name": name,
                    "model": letter._name,
                    "res_id": letter.id,
                    "noupdate": True,
                }
                for name, letter in zip(names, letters, strict=True)
            ]
        )
        # history: OCA sent these e-mails. The state is computed from this module's own e-mail
        # message, which a letter taken over has not (and so no "retry" sends it again): set it once
        emailed = letters.filtered("channel_email")
        if emailed:
            letters.flush_recordset()
            self.env.execute_query(
                SQL(
                    "UPDATE credit_dunning_letter SET email_state = 'sent' WHERE id IN %(ids)s",
                    ids=tuple(emailed.ids),
                )
            )
            emailed.invalidate_recordset(["email_state"])
        return letters

    def _history_runs(self, company, dates, result):
        """{date: credit.dunning.run} of validated historical runs, one per date."""
        Run = self.env["credit.dunning.run"].with_context(
            credit_dunning_write=DUNNING_WRITE, tracking_disable=True, mail_create_nolog=True
        )
        known = self._migration_records("credit.dunning.run", f"run_{company.id}_")
        runs = {}
        for date in sorted(dates):
            key = date.strftime("%Y%m%d")
            if key in known:
                runs[date] = known[key]
                continue
            run = Run.create(
                {
                    "name": _("OCA history %(date)s", date=fields.Date.to_string(date)),
                    "date": date,
                    "company_id": company.id,
                    "state": "done",
                }
            )
            self._mark(run, f"run_{company.id}_{key}")
            runs[date] = run
            result["runs"] += 1
        return runs

    @api.model
    def _in_company_currency(self, amount, currency_id, company, date):
        if not amount or currency_id == company.currency_id.id:
            return amount or 0.0
        return (
            self.env["res.currency"].browse(currency_id)._convert(amount, company.currency_id, company, date)
        )

    # --- risk --- #
