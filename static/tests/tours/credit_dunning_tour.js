import { registry } from "@web/core/registry";

/**
 * A collector's dunning run in the browser (tests/test_dunning_tour.py): propose a run from the
 * Dunning menu, open the customer's letter, remove one invoice from it, validate and send.
 */
registry.category("web_tour.tours").add("credit_dunning_run_tour", {
    steps: () => [
        {
            content: "Open the Dunning menu",
            trigger: ".o_main_navbar [data-menu-xmlid='credit_control.credit_control_menu_dunning']",
            run: "click",
        },
        {
            content: "Propose a dunning run",
            trigger: "[data-menu-xmlid='credit_control.credit_dunning_run_create_menu']",
            run: "click",
        },
        {
            content: "Propose with the defaults (today, all customers and levels)",
            trigger: ".modal button[name=action_create_run]",
            run: "click",
        },
        {
            content: "The proposal holds the customer's letter: open it",
            trigger: ".o_form_view .o_field_widget[name=letter_ids] .o_data_row:contains(Tour Mahnkunde GmbH) td.o_data_cell",
            run: "click",
        },
        {
            content: "The letter lists the three overdue invoices",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:nth-child(3)",
        },
        {
            content: "Remove the invoice of 777.00 from the letter",
            trigger: ".modal .o_field_widget[name=line_ids] .o_data_row:contains(777.00) .o_list_record_remove",
            run: "click",
        },
        {
            content: "The invoice is gone from the letter",
            trigger: ".modal .o_field_widget[name=line_ids]:not(:has(.o_data_row:contains(777.00)))",
        },
        {
            content: "Keep the letter",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "Back on the run",
            trigger: "body:not(:has(.modal)) .o_form_view button[name=action_validate]",
        },
        {
            content: "Validate and send",
            trigger: ".o_form_view button[name=action_validate]",
            run: "click",
        },
        {
            content: "The run is validated",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Validated)",
        },
    ],
});
