import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { _t } from "@web/core/l10n/translation";

/**
 * Credit Control dashboard: one call to credit.dashboard.get_data(), every figure opens the
 * records behind it with the action the server returned.
 */
export class CreditDashboard extends Component {
    static template = "credit_control.CreditDashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null, loading: true });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        this.state.data = await this.orm.call("credit.dashboard", "get_data", []);
        this.state.loading = false;
    }

    open(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    trendIcon(card) {
        if (card.trend === "up") {
            return "fa-arrow-up";
        }
        return card.trend === "down" ? "fa-arrow-down" : "fa-minus";
    }

    trendClass(card) {
        if (card.trend === "flat") {
            return "text-muted";
        }
        return card.good ? "text-success" : "text-danger";
    }

    trendTitle(card) {
        return _t("Previous month: %s", card.previous_display);
    }

    bucketClass(bucket) {
        const classes = {
            not_due: "bg-success",
            "1_30": "bg-info",
            "31_60": "bg-warning",
            "61_90": "bg-warning",
            "91_180": "bg-danger",
            "180_plus": "bg-danger",
        };
        return classes[bucket.key] || "bg-secondary";
    }
}

registry.category("actions").add("credit_control.dashboard", CreditDashboard);
