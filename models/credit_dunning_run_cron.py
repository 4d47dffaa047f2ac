"""Dunning run: the automatic (scheduled) dunning and its failures."""

import logging

from odoo import _, api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .account_move import DUNNING_WRITE
from .cron_retry import retry_on_conflict

_logger = logging.getLogger(__name__)


class CreditDunningRun(models.Model):
    _inherit = "credit.dunning.run"

    @api.model
    @retry_on_conflict
    def _cron_dunning(self, batch_size=200):
        """Daily: propose and validate the automatic levels of each company that went live
        (dunning start date set and reached), in batches of customers; the scheduler re-runs the
        job at once while customers remain. Each company and each batch is processed on its
        own (savepoints): a failure is listed on the run, the credit managers are told, and
        the other customers and companies go on. A conflict with a concurrent transaction is
        not a failure: the batch is rolled back and done again (:func:`retry_on_conflict`).
        Until a person has validated the company's first automatic proposal, the automatic
        dunning only proposes when the company asks for a review of the first run."""
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
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise  # a lost race, not the company's failure: the batch is retried whole
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
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # a lost race, not a customer's failure: the batch is retried whole
        except Exception:  # noqa: BLE001 - isolate the customer that fails
            for proposal in proposals:
                try:
                    with self.env.cr.savepoint():
                        run._create_letters([proposal])
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    raise
                except Exception as error:  # noqa: BLE001
                    _logger.exception("Automatic dunning: customer %s failed", proposal["partner_id"])
                    failures.append((proposal["partner_id"], error))
        if validate and run.letter_ids:
            try:
                with self.env.cr.savepoint():
                    run._action_validate()
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise  # a lost race, not a validation failure: the batch is retried whole
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
