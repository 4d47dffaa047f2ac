import { registry } from "@web/core/registry";

/**
 * A salesperson works a task from the Sales app: "My Tasks" kanban, open the card, move it on
 * and mark it done (tests/test_credit_task_tour.py).
 */
registry.category("web_tour.tours").add("credit_task_sales_tour", {
    steps: () => [
        {
            content: "The kanban of my tasks groups by stage",
            trigger: ".o_kanban_view .o_kanban_group .o_column_title:contains(New)",
        },
        {
            content: "Open the task of my customer",
            trigger: ".o_kanban_record:contains(Get the signed delivery note)",
            run: "click",
        },
        {
            content: "The form of the task opens",
            trigger: ".o_breadcrumb .active:contains(Get the signed delivery note)",
        },
        {
            content: "Mark it done",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_done]",
            run: "click",
        },
        {
            content: "The stage is Done",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
    ],
});
