public import SyncCore

/// The state machines of DOMAIN.md §2.
///
/// Each ranking follows the forward moves and settles what the moves cannot compare so that late
/// facts beat earlier office decisions: a visit completed offline beats its cancellation, a
/// late check-in revives a missed visit, a technician's arrival beats a hold or a cancel.
public enum Lifecycles {
    /// Visit: planned → in_progress → completed; planned → cancelled (dispatcher); in_progress →
    /// abandoned (with a reason); planned → missed (server, after the window); ad hoc visits are
    /// created in_progress. A late check-in moves a missed or cancelled visit to in_progress.
    public static let visit = StateMachine(
        name: "visit_status",
        ranking: ["planned", "missed", "cancelled", "in_progress", "abandoned", "completed"],
        initial: "planned",
        creations: ["planned": [.dispatcher, .manager, .admin], "in_progress": [.rep, .technician]],
        transitions: [
            ("planned", "in_progress", [.rep, .technician]),
            ("missed", "in_progress", [.rep, .technician]),
            ("cancelled", "in_progress", [.rep, .technician]),
            ("in_progress", "completed", [.rep, .technician]),
            ("in_progress", "abandoned", [.rep, .technician]),
            ("planned", "cancelled", [.dispatcher, .manager, .admin]),
            ("missed", "cancelled", [.dispatcher, .manager, .admin]),
            ("planned", "missed", []),  // the server's job, after the window
        ],
        // A missed visit given a new window is planned again.
        reopens: [("missed", "planned", [.dispatcher, .manager, .admin])]
    )

    /// Work order: new → scheduled → dispatched → en_route → on_site → completed → closed; on_hold
    /// between scheduled and on_site; cannot_complete after on_site; cancelled before completed.
    public static let workOrder = StateMachine(
        name: "work_order_status",
        ranking: ["new", "scheduled", "on_hold", "dispatched", "cancelled", "en_route", "on_site", "cannot_complete", "completed", "closed"],
        initial: "new",
        creations: ["new": [.dispatcher, .admin], "scheduled": [.dispatcher, .admin], "dispatched": [.dispatcher, .admin]],
        transitions: [
            ("new", "scheduled", [.dispatcher, .admin]),
            ("scheduled", "dispatched", [.dispatcher, .admin]),
            ("on_hold", "dispatched", [.dispatcher, .admin]),
            ("scheduled", "on_hold", [.dispatcher, .admin]),
            ("new", "cancelled", [.dispatcher, .admin]),
            ("scheduled", "cancelled", [.dispatcher, .admin]),
            ("on_hold", "cancelled", [.dispatcher, .admin]),
            ("dispatched", "cancelled", [.dispatcher, .admin]),
            ("scheduled", "en_route", [.technician]),
            ("dispatched", "en_route", [.technician]),
            ("en_route", "on_site", [.technician]),
            ("on_site", "completed", [.technician]),
            ("on_site", "cannot_complete", [.technician]),
            ("completed", "closed", [.dispatcher, .manager, .admin]),
            ("cannot_complete", "closed", [.dispatcher, .manager, .admin]),
        ],
        reopens: [
            ("dispatched", "on_hold", [.dispatcher, .admin]),
            ("en_route", "on_hold", [.dispatcher, .admin]),
            ("on_hold", "scheduled", [.dispatcher, .admin]),
        ]
    )

    /// Sales order: draft → submitted → confirmed → released_to_erp → delivered → invoiced; the
    /// server routes submitted orders to pending_approval (discount over policy) or credit_hold
    /// (credit limit); a manager approves or rejects; a rejected order is editable again (draft,
    /// new epoch); any state before released_to_erp may be cancelled.
    public static let salesOrder = StateMachine(
        name: "sales_order_status",
        ranking: ["draft", "submitted", "pending_approval", "credit_hold", "rejected", "confirmed", "cancelled", "released_to_erp", "delivered", "invoiced"],
        initial: "draft",
        creations: ["draft": [.rep]],
        transitions: [
            ("draft", "submitted", [.rep]),
            ("submitted", "confirmed", []),
            ("submitted", "pending_approval", []),
            ("submitted", "credit_hold", []),
            ("pending_approval", "confirmed", [.manager, .admin]),
            ("pending_approval", "rejected", [.manager, .admin]),
            ("credit_hold", "confirmed", [.manager, .admin]),
            ("confirmed", "released_to_erp", []),
            ("released_to_erp", "delivered", []),
            ("delivered", "invoiced", []),
            ("draft", "cancelled", [.rep, .manager, .admin]),
            ("submitted", "cancelled", [.rep, .manager, .admin]),
            ("pending_approval", "cancelled", [.rep, .manager, .admin]),
            ("credit_hold", "cancelled", [.rep, .manager, .admin]),
            ("rejected", "cancelled", [.rep, .manager, .admin]),
            ("confirmed", "cancelled", [.manager, .admin]),
        ],
        reopens: [("rejected", "draft", [.rep])]
    )

    /// A visit task: pending → done or skipped.
    public static let visitTask = StateMachine(
        name: "visit_task_status",
        ranking: ["pending", "skipped", "done"],
        initial: "pending",
        // The office plans tasks; a rep may record one done on the spot.
        creations: ["pending": [.dispatcher, .manager, .admin, .rep, .technician], "done": [.rep, .technician], "skipped": [.rep, .technician]],
        transitions: [("pending", "done", [.rep, .technician]), ("pending", "skipped", [.rep, .technician]), ("skipped", "done", [.rep, .technician])]
    )

    /// A quote (报价单, issue 20): the rep or the office edits it while it is a draft or sent; the
    /// customer accepts or declines it; converting it into an order (a new order that names the
    /// quote) ends it.
    public static let quote = StateMachine(
        name: "quote_status",
        ranking: ["draft", "sent", "accepted", "declined", "cancelled", "converted"],
        initial: "draft",
        // The office sends its quotes as it makes them.
        creations: ["draft": [.rep, .manager, .admin], "sent": [.manager, .admin]],
        transitions: [
            ("draft", "sent", [.rep, .manager, .admin]),
            ("sent", "accepted", [.rep, .manager, .admin]),
            ("sent", "declined", [.rep, .manager, .admin]),
            ("draft", "cancelled", [.rep, .manager, .admin]),
            ("sent", "cancelled", [.rep, .manager, .admin]),
            ("draft", "converted", [.rep, .manager, .admin]),
            ("sent", "converted", [.rep, .manager, .admin]),
            ("accepted", "converted", [.rep, .manager, .admin]),
        ]
    )

    /// A rep's weekly plan (外出登记/周计划, issue 20): the rep drafts the visits they propose for a
    /// week and submits them; their manager approves (the server then creates the dated visits) or
    /// returns the plan, which the rep reopens, fixes and submits again.
    public static let weekPlan = StateMachine(
        name: "week_plan_status",
        ranking: ["draft", "submitted", "returned", "approved"],
        initial: "draft",
        creations: ["draft": [.rep]],
        transitions: [
            ("draft", "submitted", [.rep]),
            ("submitted", "returned", [.manager, .admin]),
            ("submitted", "approved", [.manager, .admin]),
        ],
        reopens: [("returned", "draft", [.rep])]
    )

    /// Every state machine.
    public static let all: [StateMachine] = [visit, workOrder, salesOrder, visitTask, quote, weekPlan]

    /// The machine whose states merge by `order`, if it is one of ``all``.
    public static func machine(_ order: StateOrder) -> StateMachine? { all.first { $0.order == order } }
}
