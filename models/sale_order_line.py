from odoo import api, models

from .sale_order import check_computed_vals


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # === CRUD === #
    # A line added to, changed on, moved to or removed from a confirmed order can raise its
    # amount: the order's growth guard checks the credit once the change is done (nested in an
    # order's own write, the order's guard covers it already).
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_computed_vals(self, vals)
        orders = self.env["sale.order"].browse(
            {vals["order_id"] for vals in vals_list if isinstance(vals.get("order_id"), int)}
        )
        # a down payment line is the start of an invoice: not for a blocked quotation
        orders.browse(
            {vals["order_id"] for vals in vals_list if vals.get("is_downpayment") and vals.get("order_id")}
        )._credit_check_down_payment()
        with orders._credit_growth_guard() as guarded:
            lines = super(SaleOrderLine, self.with_env(guarded.env)).create(vals_list)
        return lines.with_env(self.env)

    def write(self, vals):
        check_computed_vals(self, vals)
        orders = self.order_id
        if isinstance(vals.get("order_id"), int):
            orders |= orders.browse(vals["order_id"])
        with orders._credit_growth_guard() as guarded:
            return super(SaleOrderLine, self.with_env(guarded.env)).write(vals)

    def unlink(self):
        with self.order_id._credit_growth_guard() as guarded:
            return super(SaleOrderLine, self.with_env(guarded.env)).unlink()
