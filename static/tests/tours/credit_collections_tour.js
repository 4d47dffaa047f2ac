import { registry } from "@web/core/registry";

/**
 * A collector opens today's worklist, opens the customer on top and records a promise to pay
 * from its line (the "Record Promise" form proposes the overdue invoices and their amount).
 * Started by tests/test_collections_tour.py, which checks the promise on the server.
 */
registry.category("web_tour.tours").add("credit_worklist_promise_tour", {
    url: "/odoo/action-credit_control.credit_worklist_action",
    steps: () => [
        {
            content: "The worklist shows the customer with the reasons for today",
            trigger: ".o_list_view .o_data_row:contains(Tour Schuldner GmbH):contains(days overdue)",
        },
        {
            content: "Open the customer's line",
            trigger: ".o_list_view .o_data_row .o_data_cell[name=partner_id]:contains(Tour Schuldner GmbH)",
            run: "click",
        },
        {
            content: "The line shows the open items of the customer",
            trigger: ".o_form_view .o_field_widget[name=move_line_ids] .o_data_row",
        },
        {
            content: "Record a promise to pay",
            trigger: ".o_form_view .o_form_statusbar button[name=action_record_promise]",
            run: "click",
        },
        {
            content: "The overdue invoice is proposed",
            trigger: ".modal .o_field_widget[name=move_ids] .o_tag",
        },
        {
            content: "The customer promises 400 of it",
            trigger: ".modal .o_field_widget[name=amount] input",
            run: "edit 400",
        },
        {
            content: "Given on the phone",
            trigger: ".modal .o_field_widget[name=channel] select",
            run: 'select "phone"',
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Back on the line, open its promises",
            trigger: "body:not(:has(.modal)) .o_form_view .o_notebook .nav-link:contains(Promises)",
            run: "click",
        },
        {
            content: "The promise is listed",
            trigger: ".o_form_view .o_field_widget[name=promise_ids] .o_data_row:contains(400)",
        },
    ],
});

/**
 * A salesperson opens its credit tasks, opens the dispute task of its customer, goes to the
 * dispute and resolves it with a description of the settlement (no credit note needed).
 * Started by tests/test_collections_tour.py, which checks dispute and task on the server.
 */
registry.category("web_tour.tours").add("credit_dispute_task_tour", {
    url: "/odoo/credit-my-tasks",
    steps: () => [
        {
            content: "Open the dispute task",
            trigger: ".o_kanban_record:contains(Resolve dispute)",
            run: "click",
        },
        {
            content: "The task is about the customer's dispute",
            trigger: ".o_form_view .o_field_widget[name=task_type]:contains(Resolve Dispute)",
        },
        {
            content: "Go to the dispute",
            trigger: ".o_form_view button[name=action_open_linked]",
            run: "click",
        },
        {
            content: "Describe how it was settled",
            trigger: ".o_form_view .o_field_widget[name=resolution] textarea",
            run: "edit Delivery confirmed by the customer's warehouse, the invoice stands.",
        },
        {
            content: "Resolve the dispute",
            trigger: ".o_form_view .o_form_statusbar button[name=action_resolve]",
            run: "click",
        },
        {
            content: "The dispute is resolved",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Resolved)",
        },
    ],
});
