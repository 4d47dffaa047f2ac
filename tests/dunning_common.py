from contextlib import contextmanager
from datetime import timedelta

from odoo.addons.credit_control.models.account_move import DUNNING_WRITE

from .common import CreditControlCommon


class DunningCommon(CreditControlCommon):
    """Four dunning levels for the test company and a customer with an e-mail address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"email": "buchhaltung@muster.example", "lang": "en_US"})
        cls.template = cls.env.ref("credit_control.mail_template_credit_dunning_letter")
        cls.level_model = cls.env["credit.dunning.level"]
        cls.levels = cls._create_levels(cls.company)
        cls.reminder, cls.first, cls.second, cls.final = cls.levels
        cls.run_model = cls.env["credit.dunning.run"]
        cls.bank = cls.env["res.partner.bank"].create(
            {"acc_number": "DE89370400440532013000", "partner_id": cls.company.partner_id.id}
        )

    @classmethod
    def _create_levels(cls, company):
        """Four test levels for ``company``, replacing the default scale it got at creation."""
        cls.env["credit.dunning.level"].with_context(active_test=False).search(
            [("company_id", "=", company.id)]
        ).unlink()
        common = {"company_id": company.id, "mail_template_id": cls.template.id}
        return cls.env["credit.dunning.level"].create(
            [
                {
                    **common,
                    "sequence": 10,
                    "name": "Payment Reminder",
                    "days": 7,
                    "min_days_since_previous": 0,
                    "channel_email": True,
                    "is_automatic": True,
                    "introduction": "<p>Friendly reminder intro</p>",
                },
                {
                    **common,
                    "sequence": 20,
                    "name": "First Dunning Letter",
                    "days": 21,
                    "min_days_since_previous": 14,
                    "channel_email": True,
                    "channel_letter": True,
                    "is_automatic": True,
                },
                {
                    **common,
                    "sequence": 30,
                    "name": "Second Dunning Letter",
                    "days": 35,
                    "min_days_since_previous": 14,
                    "channel_email": True,
                    "fee": 2.5,
                    "charge_interest": True,
                    "charge_flat_fee": True,
                },
                {
                    **common,
                    "sequence": 40,
                    "name": "Final Dunning Letter",
                    "days": 49,
                    "min_days_since_previous": 14,
                    "channel_email": True,
                    "channel_phone": True,
                    "charge_interest": True,
                    "charge_flat_fee": True,
                    "block_orders": True,
                    "closing": "<p>Final deadline closing</p>",
                },
            ]
        )

    @classmethod
    def _set_level(cls, moves, level, days_ago):
        """Pretend ``moves`` were dunned at ``level`` ``days_ago`` days ago."""
        moves.with_context(credit_dunning_write=DUNNING_WRITE).write(
            {"credit_dunning_level_id": level.id, "credit_dunning_date": cls.today - timedelta(days=days_ago)}
        )

    @contextmanager
    def _raises(self, exception, text):
        """``assertRaises`` of Odoo (the savepoint rolls back whatever was written) that also
        checks the message."""
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertIn(text, str(catcher.exception))

    def _propose(self, date=None, **kwargs):
        return self.run_model._create_runs(self.company, date or self.today, **kwargs)

    def _line_of(self, run, move):
        return run.line_ids.filtered(lambda line: line.move_id == move)
