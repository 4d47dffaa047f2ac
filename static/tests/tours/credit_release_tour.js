import { registry } from "@web/core/registry";

/**
 * The sales/credit release path, in three tours started one after the other by
 * tests/test_sale_credit_tour.py: the salesperson meets the block and asks for a release,
 * the credit manager releases, the salesperson confirms.
 */
registry.category("web_tour.tours").add("credit_release_sales_request_tour", {
    steps: () => [
        {
            content: "The banner warns before confirming",
            trigger: ".o_credit_banner.alert-danger:contains(Confirming this order will be blocked)",
        },
        {
            content: "The banner names the limit",
            trigger: ".o_credit_banner:contains(credit limit)",
        },
        {
            content: "Confirm the quotation",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_credit_confirm]:visible",
            run: "click",
        },
        {
            content: "A dialog explains the block with the figures",
            trigger: ".modal .o_credit_block_message:contains(exceeds the credit limit)",
        },
        {
            content: "Ask the credit team for a release",
            trigger: ".modal button[name=action_request_release]",
            run: "click",
        },
        {
            content: "The order shows it is waiting for the credit team",
            trigger: ".o_form_view .ribbon:contains(Release Requested)",
        },
        {
            content: "Still a quotation",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Quotation)",
        },
    ],
});

registry.category("web_tour.tours").add("credit_release_manager_tour", {
    steps: () => [
        {
            content: "Open the release wizard",
            trigger: ".o_form_view button[name=action_open_credit_release_wizard]",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal div[name=reason] textarea",
            run: "edit Bank guarantee received",
        },
        {
            content: "Release",
            trigger: ".modal button[name=action_apply]",
            run: "click",
        },
        {
            content: "The order is released",
            trigger: ".o_form_view .ribbon:contains(Released)",
        },
    ],
});

registry.category("web_tour.tours").add("credit_release_sales_confirm_tour", {
    steps: () => [
        {
            content: "The banner says the order was released",
            trigger: ".o_credit_banner:contains(Released by the credit team)",
        },
        {
            content: "Confirm the released order",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_credit_confirm]:visible",
            run: "click",
        },
        {
            content: "The order is confirmed",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Sales Order)",
        },
    ],
});
