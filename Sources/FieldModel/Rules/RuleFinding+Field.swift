public import SyncCore

/// The business rules of DOMAIN.md §4 and their decisions, by stable name (listed in `SyncProtocol/`).
extension RuleFinding.Rule {
    /// §4.1: the check-in is farther from the store than the radius plus the GPS accuracy.
    public static let outsideGeofence = Self("outside_geofence")
    /// §4.2: mock location, impossible travel speed, or the same coordinates at another store.
    public static let suspiciousLocation = Self("suspicious_location")
    /// §4.3: a second visit was checked into while one was in progress.
    public static let secondVisitInProgress = Self("second_visit_in_progress")
    /// §4.4: an order, audit or collection inside a visit without a check-in.
    public static let noCheckIn = Self("no_check_in")
    /// §4.5: completion without a check-out or with required tasks open.
    public static let incompleteVisit = Self("incomplete_visit")
    /// §4.5: a visit shorter than the minimum.
    public static let visitTooShort = Self("visit_too_short")
    /// §4.6: a check-out before its check-in.
    public static let eventsOutOfOrder = Self("events_out_of_order")
    /// §4.7: the device's total differs from the server's beyond the tolerance.
    public static let totalMismatch = Self("total_mismatch")
    /// §4.8: a discount over the role's maximum.
    public static let discountOverPolicy = Self("discount_over_policy")
    /// §4.9: the order takes the customer over the credit limit.
    public static let creditLimitExceeded = Self("credit_limit_exceeded")
    /// §4.10: not enough stock to reserve.
    public static let insufficientStock = Self("insufficient_stock")
    /// §4.10: a van's stock went negative.
    public static let vanStockNegative = Self("van_stock_negative")
    /// §4.11: a completion without the signature its type requires.
    public static let signatureMissing = Self("signature_missing")
    /// §4.11: a completion without an arrival on site.
    public static let noArrival = Self("no_arrival")
    /// §4.11: the customer rated the service 1 or 2 of 5; the office follows it up.
    public static let lowRating = Self("low_rating")
    /// §6 (service levels): a work order's response or arrival time passed before it got there.
    public static let serviceLevelBreach = Self("service_level_breach")
    /// §6 (service steps): an answer of the wrong kind for its step.
    public static let stepAnswerInvalid = Self("step_answer_invalid")
    /// §6 (service steps): a number outside its step's range.
    public static let stepOutOfRange = Self("step_out_of_range")
    /// §6 (service steps): a completion with a required step unanswered.
    public static let stepsMissing = Self("steps_missing")
    /// §6 (typed tasks): a visit task's answer of another kind than the task takes.
    public static let taskAnswerInvalid = Self("task_answer_invalid")
    /// §6 (typed tasks): a visit task's number outside its range.
    public static let taskOutOfRange = Self("task_out_of_range")
    /// §6 (weekly plans): a proposed visit changed after its plan was submitted.
    public static let weekPlanLocked = Self("week_plan_locked")
    /// §6 (maintenance by meter): a reading lower than the same meter's reading taken before it.
    public static let meterReadingDecreased = Self("meter_reading_decreased")
    /// §4.13: payments sum past the order's total.
    public static let paymentsOverTotal = Self("payments_over_total")
    /// §4.13: a receipt number already recorded.
    public static let duplicateReceipt = Self("duplicate_receipt")
    /// §3: an edit to an order line after the order was submitted.
    public static let orderLocked = Self("order_locked")
    /// §6 (invoice and delivery): a new order for a customer the office blocked.
    public static let customerBlocked = Self("customer_blocked")
    /// §6 (quotes): an order converted from a quote past its validity.
    public static let quoteExpired = Self("quote_expired")
    /// §4.7: a line's product has no entry in the order's price list.
    public static let unpricedProduct = Self("unpriced_product")
    /// §4.12: a new customer duplicates an existing one and was merged into it.
    public static let duplicateCustomer = Self("duplicate_customer")
    /// §4.12: a reference to a merged-away customer was pointed at the customer it was merged into.
    public static let followedMerge = Self("followed_merge")
    /// §3: a rep moved a customer's location; the office reviews it.
    public static let locationChange = Self("location_change")
    /// §3: a rep or technician worked a visit after it was reassigned to someone else.
    public static let reassignedWhileExecuted = Self("reassigned_while_executed")
    /// §2: a check-in arrived after the server had marked the visit missed; the visit is revived.
    public static let revivedMissedVisit = Self("revived_missed_visit")
    /// §2: a visit was worked after the office cancelled it; the work wins.
    public static let executedAfterCancel = Self("executed_after_cancel")
    /// §2: the office set a state that the record had already moved past; the later state stands.
    public static let stateOvertaken = Self("state_overtaken")

    // Decisions the audit records that flag nothing.

    /// §4.1: the check-in was judged (verified, or unverified for lack of a fix or a store location).
    public static let geofence = Self("geofence")
    /// §4.7–4.9: an order passed the rules and was confirmed.
    public static let orderConfirmed = Self("order_confirmed")
    /// §4.7: the server priced an order from the list in force on its date, not the one the phone chose.
    public static let priceListInForce = Self("price_list_in_force")
    /// §4.12: a customer a rep created got the tenant's terms: `unverified`, the default list, no credit.
    public static let newCustomerTerms = Self("new_customer_terms")
    /// §4.10: stock was reserved for a confirmed order.
    public static let stockReserved = Self("stock_reserved")
    /// §2: the server marked a visit missed after its window.
    public static let visitMissed = Self("visit_missed")
    /// §3: a dispatcher held or cancelled a work order.
    public static let dispatcherOverride = Self("dispatcher_override")
    /// An attachment's bytes are not on the server yet; it completes when they arrive.
    public static let awaitingBytes = Self("awaiting_bytes")
    /// A reviewer's decision on a flagged change, a quarantined change or a conflict.
    public static let review = Self("review")
}
