import { registry } from "@web/core/registry";

/**
 * A portal user of a customer opens its account page, sees the open items, promises to pay,
 * disputes an invoice and downloads the account statement.
 * Started by tests/test_portal.py (TestPortalTour), which checks the records on the server.
 */
function inDays(days) {
    const date = new Date(Date.now() + days * 86400000);
    return date.toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("credit_portal_tour", {
    url: "/my/credit",
    steps: () => [
        {
            content: "The open items of the customer are listed",
            trigger: ".o_credit_portal_items tbody tr",
        },
        {
            content: "Select the first invoice for the promise",
            trigger: ".o_credit_portal_promise_form input[name=move_ids]:first",
            run: "check",
        },
        {
            content: "Promised date",
            trigger: ".o_credit_portal_promise_form input[name=date_promised]",
            run() {
                // the browser's own date field (typing a date depends on its locale)
                document.querySelector(".o_credit_portal_promise_form input[name=date_promised]").value = inDays(7);
            },
        },
        {
            content: "Promised amount",
            trigger: ".o_credit_portal_promise_form input[name=amount]",
            run: "edit 100",
        },
        {
            content: "Send the promise",
            trigger: ".o_credit_portal_promise_form button[type=submit]",
            run: "click",
        },
        {
            content: "The promise is confirmed and listed",
            trigger: ".o_credit_portal_message",
        },
        {
            trigger: ".o_credit_portal_promises tbody tr",
        },
        {
            content: "Dispute: the reason",
            trigger: ".o_credit_portal_dispute_form select[name=reason]",
            run: "select quality",
        },
        {
            content: "Dispute: the amount",
            trigger: ".o_credit_portal_dispute_form input[name=amount]",
            run: "edit 50",
        },
        {
            content: "Dispute: what is wrong",
            trigger: ".o_credit_portal_dispute_form textarea[name=description]",
            run: "edit Parts arrived broken",
        },
        {
            content: "Send the dispute",
            trigger: ".o_credit_portal_dispute_form button[type=submit]",
            run: "click",
        },
        {
            content: "The dispute is listed",
            trigger: ".o_credit_portal_disputes tbody tr",
        },
        {
            content: "Download the statement of today",
            trigger: ".o_credit_portal_statement input[name=date]",
            run: async () => {
                const response = await fetch("/my/credit/statement?date=" + inDays(0));
                if (!response.ok || response.headers.get("Content-Type") !== "application/pdf") {
                    throw new Error("The statement could not be downloaded");
                }
            },
        },
    ],
});
