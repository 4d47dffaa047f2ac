import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * A collector opens the Credit Control dashboard from the app menu and drills into figures:
 * the customers over their limit, then (back on the dashboard) an aging bucket.
 * Started by tests/test_credit_dashboard_tour.py.
 */
registry.category("web_tour.tours").add("credit_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Credit Control app",
            trigger: ".o_app[data-menu-xmlid='credit_control.credit_control_menu_root']",
            run: "click",
        },
        {
            content: "The dashboard is the app's first screen",
            trigger: ".o_credit_dashboard .o_credit_kpi[data-kpi='dso']",
        },
        {
            content: "One customer is over its limit",
            trigger: ".o_credit_kpi[data-kpi='customers_over_limit'] .o_credit_kpi_value:contains(1)",
        },
        {
            content: "Open the customers over limit",
            trigger: ".o_credit_kpi[data-kpi='customers_over_limit']",
            run: "click",
        },
        {
            content: "The list shows the customer over its limit",
            trigger: ".o_list_view .o_data_row:contains(Tour Overlimit GmbH)",
        },
        {
            content: "Only that customer",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Tour Pünktlich AG)))",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "Open the 31-60 days bucket",
            trigger: ".o_credit_dashboard .o_credit_aging_bucket[data-bucket='31_60']",
            run: "click",
        },
        {
            content: "The aging lines of that bucket",
            trigger: ".o_list_view .o_data_row:contains(Tour Overlimit GmbH)",
        },
    ],
});
