from odoo import api, models
from odoo.tools import SQL


class CreditReportPieces(models.AbstractModel):
    """Report SQL from named pieces, as ``sale.report`` builds its query: ``_with()`` (the common
    table expressions as ``(name, SQL)`` pairs, one method each), ``_select()``, ``_from()``,
    ``_where()``. A report model inherits this mixin and defines the pieces; another module
    extends a piece and calls ``super()``."""

    _name = "credit.report.pieces"
    _description = "Credit Report SQL Pieces"

    @api.model
    def _with(self):
        return []

    @api.model
    def _query(self):
        with_ = self._with()
        return SQL(
            "%s SELECT %s FROM %s WHERE %s",
            SQL("WITH %s", SQL(",").join(SQL("%s AS (%s)", SQL(name), query) for name, query in with_))
            if with_
            else SQL(),
            self._select(),
            self._from(),
            self._where(),
        )
