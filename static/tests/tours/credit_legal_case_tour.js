import { registry } from "@web/core/registry";

/**
 * A collector opens a court dunning case from a customer at the last dunning level, adds the
 * overdue invoices, prepares the case and finds its data sheet (tests/test_legal_case_tour.py).
 */
registry.category("web_tour.tours").add("credit_legal_case_tour", {
    steps: () => [
        {
            content: "The customer form: its smart buttons do not all fit, open More",
            trigger: ".o_form_view .o-form-buttonbox button.o_button_more",
            run: "click",
        },
        {
            content: "Open Court Dunning",
            trigger: "button[name=action_credit_legal_case]",
            run: "click",
        },
        {
            content: "A new case of the customer",
            trigger: ".o_form_view .o_field_widget[name=partner_id] input:value(Tour Gericht GmbH)",
        },
        {
            content: "Add the overdue invoices",
            trigger: ".o_form_view button[name=action_load_invoices]",
            run: "click",
        },
        {
            content: "The overdue invoice is claimed",
            trigger: ".o_field_widget[name=claim_ids] .o_data_row:contains(1,234.00)",
        },
        {
            content: "Prepare the application",
            trigger: ".o_form_view button[name=action_prepare]",
            run: "click",
        },
        {
            content: "The case is prepared",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Prepared)",
        },
        {
            content: "The data sheet can be printed",
            trigger: ".o_form_view button[name=action_print_data_sheet]",
        },
    ],
});
