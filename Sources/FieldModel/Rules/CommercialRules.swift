public import SyncCore
/// DOMAIN.md §4.8–4.10 and §4.13: discounts, credit, stock and payments, judged as of arrival.
public enum CommercialRules {
    /// §4.8: whether an order needs a manager's approval: any line's discount over the role's maximum.
    public static func discount(linesBP: [Int64], roleMaxBP: Int64) -> RuleFinding? {
        guard let largest = linesBP.max(), largest > roleMaxBP else { return nil }
        return RuleFinding(.discountOverPolicy, "a line's discount of \(largest) bp is over the \(roleMaxBP) bp the role may give")
    }

    /// §6 (quotes): an order converted from a quote past its validity (`valid_until` before the order date).
    public static func quoteValidity(validUntil: Int64?, orderDate: Int64) -> RuleFinding? {
        guard let validUntil, orderDate > validUntil else { return nil }
        return RuleFinding(.quoteExpired, "the quote had expired when it became this order; its prices are today's, not the quote's")
    }

    /// §4.9: the states of a customer's orders that count as open against its credit limit: every
    /// order not yet invoiced (an invoiced one counts in the outstanding balance instead).
    public static let creditOpenOrderStates = ["submitted", "pending_approval", "credit_hold", "confirmed", "released_to_erp", "delivered"]

    /// §4.9: whether the order takes the customer over the credit limit: outstanding invoices plus
    /// open orders plus this order, against the limit at arrival.
    public static func credit(outstandingMinor: Int64, openOrdersMinor: Int64, orderMinor: Int64, limitMinor: Int64) -> RuleFinding? {
        // Wider than the inputs: no sum of amounts can overflow.
        let exposure = Int128(outstandingMinor) + Int128(openOrdersMinor) + Int128(orderMinor)
        guard exposure > Int128(limitMinor) else { return nil }
        return RuleFinding(.creditLimitExceeded, "exposure \(exposure) is over the credit limit \(limitMinor) (minor units)")
    }

    /// §4.10: reserving stock on confirmation; `nil` when enough is available, else the shortfall.
    public static func reserve(requested: Int64, available: Int64) -> RuleFinding? {
        guard requested > available else { return nil }
        return RuleFinding(.insufficientStock, "\(requested) requested, \(available) available: \(Int128(requested) - Int128(max(0, available))) backordered")
    }

    /// §4.10, §4.11: parts used from a van; a van may go negative, with an exception.
    public static func consume(fromVan quantity: Int64, used: Int64) -> (quantity: Int64, finding: RuleFinding?) {
        let remaining = Int64(clamping: Int128(quantity) - Int128(used))
        return (remaining, remaining < 0 ? RuleFinding(.vanStockNegative, "the van's stock would be \(remaining)") : nil)
    }

    /// §4.13: a new payment against an order. A receipt number already recorded makes it a
    /// duplicate (the caller keeps the first); payments past the total (beyond the tolerance) are flagged.
    public static func payment(
        amountMinor: Int64, receiptNumber: String, existingReceipts: Set<String>, paidMinor: Int64, orderTotalMinor: Int64,
        toleranceMinor: Int64 = 0
    ) -> RuleFinding? {
        if existingReceipts.contains(receiptNumber) {
            return RuleFinding(.duplicateReceipt, "this receipt number is already recorded for the order")
        }
        let paid = Int128(paidMinor) + Int128(amountMinor)
        guard paid > Int128(orderTotalMinor) + Int128(toleranceMinor) else { return nil }
        return RuleFinding(.paymentsOverTotal, "payments of \(paid) exceed the order's total of \(orderTotalMinor) (minor units)")
    }
}

/// DOMAIN.md §4.3–4.6 and §4.11: visits and work orders.
public enum ExecutionRules {
    /// The shortest visit that is not flagged.
    public static let visitDurationMin: Duration = .seconds(120)
    /// Work types whose completion needs a customer's signature.
    public static let signatureRequired: Set<String> = ["installation", "repair"]

    /// §4.3: a check-in while another visit of the same rep is in progress.
    public static func checkIn(otherVisitInProgress: Bool) -> RuleFinding? {
        otherVisitInProgress ? RuleFinding(.secondVisitInProgress, "another visit was still in progress; it is flagged, not closed") : nil
    }

    /// §4.4: an order, audit or collection inside a visit needs a check-in first (accepted with an exception).
    public static func insideVisit(checkedIn: Bool) -> RuleFinding? {
        checkedIn ? nil : RuleFinding(.noCheckIn, "recorded inside a visit without a check-in")
    }

    /// §4.5–4.6: completing a visit needs a check-out after the check-in and every required task
    /// done; a visit shorter than ``visitDurationMin`` is flagged. Times are device times in ms.
    public static func completeVisit(checkInAt: Int64?, checkOutAt: Int64?, openRequiredTasks: Int) -> [RuleFinding] {
        var findings: [RuleFinding] = []
        if checkOutAt == nil || checkInAt == nil {
            findings.append(RuleFinding(.incompleteVisit, "a visit completes with a check-in and a check-out"))
        }
        if openRequiredTasks > 0 {
            findings.append(RuleFinding(.incompleteVisit, "\(openRequiredTasks) required task(s) not done"))
        }
        if let checkInAt, let checkOutAt {
            if checkOutAt < checkInAt {
                findings.append(RuleFinding(.eventsOutOfOrder, "the check-out is before the check-in"))
            } else if Int128(checkOutAt) - Int128(checkInAt) < Int128(visitDurationMin.components.seconds) * 1000 {
                findings.append(RuleFinding(.visitTooShort, "the visit lasted \((Int128(checkOutAt) - Int128(checkInAt)) / 1000) s"))
            }
        }
        return findings
    }

    /// §4.11: completing a work order needs an arrival on site and, for some work types, a signature.
    public static func completeWorkOrder(workType: String, arrivedOnSite: Bool, hasSignature: Bool) -> [RuleFinding] {
        var findings: [RuleFinding] = []
        if !arrivedOnSite { findings.append(RuleFinding(.noArrival, "completed without an arrival on site")) }
        if signatureRequired.contains(workType), !hasSignature {
            findings.append(RuleFinding(.signatureMissing, "a \(workType) needs the customer's signature"))
        }
        return findings
    }

    /// The ratings (of 5) that open an exception for the office: a dissatisfied customer.
    public static let lowRatings: ClosedRange<Int64> = 1...2

    /// §4.11 (service evaluation): whether the customer's rating of the service asks the office to follow it up.
    public static func rating(_ stars: Int64, comment: String?) -> RuleFinding? {
        guard lowRatings.contains(stars) else { return nil }
        return RuleFinding(.lowRating, "the customer rated the service \(stars) of 5" + (comment.map { ": \($0)" } ?? ""))
    }
}
