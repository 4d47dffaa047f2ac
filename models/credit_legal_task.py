from odoo import api, fields, models


class CreditTask(models.Model):
    """Tasks watching the deadlines of a court dunning case."""

    _inherit = "credit.task"

    task_type = fields.Selection(
        selection_add=[("legal", "Court Dunning")], ondelete={"legal": "set default"}
    )
    origin = fields.Selection(
        selection_add=[
            ("legal_objection_period", "Court Dunning: Objection Period"),
            ("legal_enforcement_deadline", "Court Dunning: Enforcement Deadline"),
            ("legal_trial", "Court Dunning: Objection"),
            ("legal_bailiff", "Court Dunning: Enforcement"),
        ],
        ondelete={
            "legal_objection_period": "set default",
            "legal_enforcement_deadline": "set default",
            "legal_trial": "set default",
            "legal_bailiff": "set default",
        },
    )
    legal_case_id = fields.Many2one(
        "credit.legal.case", string="Court Dunning Case", index="btree_not_null", ondelete="cascade"
    )

    @api.model
    def _auto_domain(self, task_type, origin, partner_id, company_id, team, links):
        domain = super()._auto_domain(task_type, origin, partner_id, company_id, team, links)
        if links.get("legal_case_id"):
            domain.append(("legal_case_id", "=", links["legal_case_id"].id))
        return domain
