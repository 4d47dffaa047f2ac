import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * Smoke tour of the Credit Control app: home menu -> Credit Control -> Customers ->
 * Credit Profiles -> first customer -> "Credit" notebook page of the customer form.
 * Started by tests/test_tour.py; it relies on at least one customer being listed.
 */
registry.category("web_tour.tours").add("credit_control_app_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Credit Control app",
            trigger: '.o_app[data-menu-xmlid="credit_control.credit_control_menu_root"]',
            run: "click",
        },
        {
            content: "Open the Customers menu",
            trigger: '.o_main_navbar [data-menu-xmlid="credit_control.credit_control_menu_customers"]',
            run: "click",
        },
        {
            content: "Open the credit profiles of the customers",
            trigger: '.o-dropdown-item[data-menu-xmlid="credit_control.res_partner_menu_credit"]',
            run: "click",
        },
        {
            content: "The customers are listed with their credit figures",
            trigger: ".o_breadcrumb .active:contains(Credit Profiles)",
        },
        {
            content: "Open the first customer",
            trigger:
                ".o_list_view .o_data_row .o_data_cell, " +
                ".o_kanban_view .o_kanban_record:not(.o_kanban_ghost)",
            run: "click",
        },
        {
            content: "Open the Credit page of the customer form",
            trigger: '.o_form_view .o_notebook .nav-link[name="credit_control"]:contains(Credit)',
            run: "click",
        },
        {
            content: "The Credit page is shown",
            trigger: '.o_form_view .o_notebook .nav-link.active[name="credit_control"]',
        },
    ],
});
