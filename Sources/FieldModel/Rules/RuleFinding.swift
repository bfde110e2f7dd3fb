/// A rule that fired on arrival: what it found and whether it blocks the change.
///
/// Device facts (time, place, photo, signature) are judged as of device time, money and stock as
/// of arrival; most rules flag (`applied_with_exception`) rather than reject, because a fact
/// captured in the field must never be lost.
public struct RuleFinding: Hashable, Sendable, CustomStringConvertible {
    /// Which rule fired; stable names listed in `SyncProtocol/`.
    public struct Rule: Hashable, Sendable, CustomStringConvertible {
        /// The rule's stable name.
        public let name: String
        /// Creates a rule name.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// §4.1: the check-in is farther from the store than the radius plus the GPS accuracy.
        public static let outsideGeofence = Rule("outside_geofence")
        /// §4.2: mock location, impossible travel speed, or the same coordinates at another store.
        public static let suspiciousLocation = Rule("suspicious_location")
        /// §4.3: a second visit was checked into while one was in progress.
        public static let secondVisitInProgress = Rule("second_visit_in_progress")
        /// §4.4: an order, audit or collection inside a visit without a check-in.
        public static let noCheckIn = Rule("no_check_in")
        /// §4.5: completion without a check-out or with required tasks open.
        public static let incompleteVisit = Rule("incomplete_visit")
        /// §4.5: a visit shorter than the minimum.
        public static let visitTooShort = Rule("visit_too_short")
        /// §4.6: a check-out before its check-in.
        public static let eventsOutOfOrder = Rule("events_out_of_order")
        /// §4.7: the device's total differs from the server's beyond the tolerance.
        public static let totalMismatch = Rule("total_mismatch")
        /// §4.8: a discount over the role's maximum.
        public static let discountOverPolicy = Rule("discount_over_policy")
        /// §4.9: the order takes the customer over the credit limit.
        public static let creditLimitExceeded = Rule("credit_limit_exceeded")
        /// §4.10: not enough stock to reserve.
        public static let insufficientStock = Rule("insufficient_stock")
        /// §4.10: a van's stock went negative.
        public static let vanStockNegative = Rule("van_stock_negative")
        /// §4.11: a completion without the signature its type requires.
        public static let signatureMissing = Rule("signature_missing")
        /// §4.11: a completion without an arrival on site.
        public static let noArrival = Rule("no_arrival")
        /// §4.13: payments sum past the order's total.
        public static let paymentsOverTotal = Rule("payments_over_total")
        /// §4.13: a receipt number already recorded.
        public static let duplicateReceipt = Rule("duplicate_receipt")
        /// §3: an edit to an order line after the order was submitted.
        public static let orderLocked = Rule("order_locked")
        /// §4.7: a line's product has no entry in the order's price list.
        public static let unpricedProduct = Rule("unpriced_product")
        /// §4.12: a new customer duplicates an existing one and was merged into it.
        public static let duplicateCustomer = Rule("duplicate_customer")
        /// §4.12: a reference to a merged-away customer was pointed at the customer it was merged into.
        public static let followedMerge = Rule("followed_merge")
        /// §3: a rep moved a customer's location; the office reviews it.
        public static let locationChange = Rule("location_change")
        /// §3: a rep or technician worked a visit after it was reassigned to someone else.
        public static let reassignedWhileExecuted = Rule("reassigned_while_executed")
        /// §2: a check-in arrived after the server had marked the visit missed; the visit is revived.
        public static let revivedMissedVisit = Rule("revived_missed_visit")
        /// §2: a visit was worked after the office cancelled it; the work wins.
        public static let executedAfterCancel = Rule("executed_after_cancel")
        /// §2: the office set a state that the record had already moved past; the later state stands.
        public static let stateOvertaken = Rule("state_overtaken")
        /// §3.5: written while the author still had the record, which has since left the author's buckets.
        public static let noLongerOwned = Rule("no_longer_owned")
        /// §3.3: the author's role may not write the field.
        public static let forbiddenField = Rule("forbidden_field")
        /// §3.5: the record is outside the author's buckets at the change's time.
        public static let forbiddenRecord = Rule("forbidden_record")
        /// §2: the author's role may not move the record to that state from where it stands (or
        /// create it in that state, or reopen it so).
        public static let forbiddenTransition = Rule("forbidden_transition")
        /// §3: a field that names its author (`created_by`, `user_id`, `collected_by`…) names
        /// someone else.
        public static let foreignIdentity = Rule("foreign_identity")
        /// §3.5: a reference names a record that does not exist, or one outside the author's
        /// buckets at the change's time.
        public static let unknownReference = Rule("unknown_reference")
        /// §3.2: the change's clock is older than what its replica already pushed, or than the
        /// replica's registration: a backdated clock.
        public static let clockBehind = Rule("clock_behind")
        /// The change set was in flight twice when the server process died: it is refused rather
        /// than run a third time, and waits for review.
        public static let serverFault = Rule("server_fault")

        // Decisions the audit records that flag nothing.

        /// §4.1: the check-in was judged (verified, or unverified for lack of a fix or a store location).
        public static let geofence = Rule("geofence")
        /// §4.7–4.9: an order passed the rules and was confirmed.
        public static let orderConfirmed = Rule("order_confirmed")
        /// §4.10: stock was reserved for a confirmed order.
        public static let stockReserved = Rule("stock_reserved")
        /// §2: the server marked a visit missed after its window.
        public static let visitMissed = Rule("visit_missed")
        /// §3: a dispatcher held or cancelled a work order.
        public static let dispatcherOverride = Rule("dispatcher_override")
        /// An attachment's bytes are not on the server yet; it completes when they arrive.
        public static let awaitingBytes = Rule("awaiting_bytes")
        /// A reviewer's decision on a flagged change, a quarantined change or a conflict.
        public static let review = Rule("review")
    }

    /// Which rule fired.
    public var rule: Rule
    /// What it found, without customer data.
    public var message: String

    /// Creates a finding.
    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(rule): \(message)" }
}
