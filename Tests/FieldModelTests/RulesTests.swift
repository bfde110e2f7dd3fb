import SyncCore
import Testing

@testable import FieldModel

@Suite("Pricing")
struct PricingTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let taxInclusive: Bool
        let lines: [Pricing.LineInput]
        let subtotal: Int64, tax: Int64, total: Int64
        var testDescription: String { name }
    }

    static let examples: [Example] = [
        Example(name: "tax-exclusive, 8.875 %: 3 × 1.99 = 5.97 + 0.53 tax (52.98… rounds up)", taxInclusive: false,
                lines: [.init(quantity: 3, listPriceMinor: 199, taxRateMillipercent: 8_875)], subtotal: 597, tax: 53, total: 650),
        Example(name: "tax-exclusive, 10 % discount, no tax: 7 × 12.34 × 0.9 = 77.742 → 77.74", taxInclusive: false,
                lines: [.init(quantity: 7, listPriceMinor: 1_234, discountBP: 1_000, taxRateMillipercent: 0)], subtotal: 7_774, tax: 0, total: 7_774),
        Example(name: "tax-inclusive, 8.875 %: 2 × 10.89 = 21.78 gross, 20.00 net (20.0046 rounds down)", taxInclusive: true,
                lines: [.init(quantity: 2, listPriceMinor: 1_089, taxRateMillipercent: 8_875)], subtotal: 2_000, tax: 178, total: 2_178),
        Example(name: "half a cent of tax rounds away from zero: 0.10 at 5 % = 0.005 → 0.01", taxInclusive: false,
                lines: [.init(quantity: 1, listPriceMinor: 10, taxRateMillipercent: 5_000)], subtotal: 10, tax: 1, total: 11),
        Example(name: "order amounts are sums of line amounts, never rounded again", taxInclusive: false,
                lines: [.init(quantity: 3, listPriceMinor: 199, taxRateMillipercent: 8_875), .init(quantity: 1, listPriceMinor: 10, taxRateMillipercent: 5_000)],
                subtotal: 607, tax: 54, total: 661),
        Example(name: "a 100 % discount costs nothing", taxInclusive: false,
                lines: [.init(quantity: 5, listPriceMinor: 999, discountBP: 10_000, taxRateMillipercent: 8_875)], subtotal: 0, tax: 0, total: 0),
        // The largest order inside the money range (10^15 minor units); 350 such lines are refused.
        Example(name: "100 lines of the largest quantity do not overflow", taxInclusive: true,
                lines: Array(repeating: .init(quantity: 1_000_000, listPriceMinor: 9_999_999, discountBP: 1, taxRateMillipercent: 8_875), count: 100),
                subtotal: 100 * 9_183_925_602_847, tax: 100 * 815_073_397_253, total: 100 * 9_998_999_000_100),  // checked with exact fractions
    ]

    @Test("an order past the money range is refused, never wrapped or trapped")
    func pastTheMoneyRange() {
        let line = Pricing.LineInput(quantity: 1_000_000, listPriceMinor: 9_999_999, discountBP: 1, taxRateMillipercent: 8_875)
        #expect(throws: ModelError.self) { try Pricing.price(Array(repeating: line, count: 350), taxInclusive: true) }
        // One line of the largest quantity at the largest price a price list holds.
        let huge = Pricing.LineInput(quantity: Pricing.quantityMax, listPriceMinor: 1_000_000_000_000_000, taxRateMillipercent: 0)
        #expect(throws: ModelError.self) { try Pricing.price([huge], taxInclusive: false) }
    }

    @Test("worked examples", arguments: examples)
    func workedExamples(example: Example) throws {
        let totals = try Pricing.price(example.lines, taxInclusive: example.taxInclusive)
        #expect(totals.subtotalMinor == example.subtotal)
        #expect(totals.taxMinor == example.tax)
        #expect(totals.totalMinor == example.total)
        #expect(totals.subtotalMinor + totals.taxMinor == totals.totalMinor)
    }

    @Test("the discounted unit price is shown rounded")
    func unitPrice() throws {
        let totals = try Pricing.price([.init(quantity: 7, listPriceMinor: 1_234, discountBP: 1_000, taxRateMillipercent: 0)], taxInclusive: false)
        #expect(totals.lines[0].unitPriceMinor == 1_111)  // 1110.6
    }

    @Test("invalid lines are refused", arguments: [
        Pricing.LineInput(quantity: 0, listPriceMinor: 100, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: -2, listPriceMinor: 100, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: 1_000_001, listPriceMinor: 100, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: 1, listPriceMinor: -1, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: 1, listPriceMinor: 100, discountBP: 10_001, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: 1, listPriceMinor: 100, discountBP: -1, taxRateMillipercent: 0),
        Pricing.LineInput(quantity: 1, listPriceMinor: 100, taxRateMillipercent: -5),
    ])
    func invalid(line: Pricing.LineInput) {
        let error = #expect(throws: ModelError.self) { try Pricing.price([line], taxInclusive: false) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("a device total beyond the tolerance is flagged")
    func tolerance() {
        #expect(Pricing.check(deviceTotalMinor: 650, serverTotalMinor: 650) == nil)
        #expect(Pricing.check(deviceTotalMinor: 651, serverTotalMinor: 650) == nil)
        #expect(Pricing.check(deviceTotalMinor: 660, serverTotalMinor: 650)?.rule == .totalMismatch)
    }
}

@Suite("Geofence")
struct GeofenceTests {
    static let empireState = Coordinate(latitude: 40.748440, longitude: -73.985664)

    @Test("distances between known places")
    func knownDistances() {
        let paris = Coordinate(latitude: 48.856600, longitude: 2.352200)
        let london = Coordinate(latitude: 51.507400, longitude: -0.127800)
        #expect(abs(Geofence.distance(paris, london) - 343_556) < 200)  // the published haversine figure
        let timesSquare = Coordinate(latitude: 40.758000, longitude: -73.985500)
        #expect(abs(Geofence.distance(Self.empireState, timesSquare) - 1_063) < 5)
        #expect(Geofence.distance(Self.empireState, Self.empireState) == 0)
    }

    @Test("within radius plus accuracy is verified; beyond is flagged, never rejected")
    func verification() {
        let near = Geofence.Fix(coordinate: Coordinate(latitude: 40.749000, longitude: -73.985664), accuracyMeters: 20, deviceTime: 0)  // 62 m north
        #expect(Geofence.verify(near, store: Self.empireState, radiusMeters: 50).verification == .verified)
        #expect(Geofence.verify(near, store: Self.empireState, radiusMeters: 30).verification == .outsideRadius)
        let twoKilometers = Geofence.Fix(coordinate: Coordinate(latitude: 40.766440, longitude: -73.985664), accuracyMeters: 30, deviceTime: 0)
        let far = Geofence.verify(twoKilometers, store: Self.empireState, radiusMeters: 200)
        #expect(far.verification == .outsideRadius)
        #expect((1_990...2_010).contains(far.distanceMeters ?? 0))
        #expect(far.findings.map(\.rule) == [.outsideGeofence])
        #expect(Geofence.verify(near, store: nil, radiusMeters: 200).verification == .unverified)
        #expect(Geofence.radius(customer: nil, visitType: 300, tenant: 200) == 300)
        #expect(Geofence.radius(customer: 150, visitType: 300, tenant: 200) == 150)
    }

    @Test("mock locations, impossible travel and another store's coordinates are suspicious")
    func suspicious() {
        var mocked = Geofence.Fix(coordinate: Self.empireState, accuracyMeters: 5, deviceTime: 600_000, mockLocation: true)
        #expect(Geofence.verify(mocked, store: Self.empireState, radiusMeters: 100).verification == .suspicious)
        mocked.mockLocation = false
        let brooklyn = Geofence.Fix(coordinate: Coordinate(latitude: 40.678178, longitude: -73.944158), accuracyMeters: 5, deviceTime: 540_000)
        #expect(Geofence.verify(mocked, store: Self.empireState, radiusMeters: 100, previous: brooklyn).verification == .suspicious, "8.7 km in a minute")
        #expect(Geofence.verify(mocked, store: Self.empireState, radiusMeters: 100, previous: Geofence.Fix(coordinate: brooklyn.coordinate, accuracyMeters: 5, deviceTime: 0)).verification == .verified)
        #expect(Geofence.verify(mocked, store: Self.empireState, radiusMeters: 100, matchesAnotherStore: true).verification == .suspicious)
    }

    /// Issue 15: findings are a list; a check-in 2 km off that also implies impossible travel
    /// reports both rules.
    @Test("a fix both suspicious and far from the store reports every rule that fired")
    func everyRuleReported() {
        let brooklyn = Geofence.Fix(coordinate: Coordinate(latitude: 40.678178, longitude: -73.944158), accuracyMeters: 5, deviceTime: 540_000)
        let twoKilometers = Geofence.Fix(coordinate: Coordinate(latitude: 40.766440, longitude: -73.985664), accuracyMeters: 30, deviceTime: 600_000)
        let judged = Geofence.verify(twoKilometers, store: Self.empireState, radiusMeters: 200, previous: brooklyn)
        #expect(judged.verification == .suspicious)
        #expect(judged.findings.map(\.rule) == [.suspiciousLocation, .outsideGeofence])
    }
}

@Suite("Commercial and execution rules")
struct BusinessRuleTests {
    @Test("discount over policy, credit limit, stock, van stock, payments")
    func commercial() {
        #expect(CommercialRules.discount(linesBP: [0, 500], roleMaxBP: 500) == nil)
        #expect(CommercialRules.discount(linesBP: [0, 501], roleMaxBP: 500)?.rule == .discountOverPolicy)
        #expect(CommercialRules.credit(outstandingMinor: 40_000, openOrdersMinor: 10_000, orderMinor: 50_000, limitMinor: 100_000) == nil)
        #expect(CommercialRules.credit(outstandingMinor: 40_000, openOrdersMinor: 10_000, orderMinor: 50_001, limitMinor: 100_000)?.rule == .creditLimitExceeded)
        #expect(CommercialRules.reserve(requested: 5, available: 5) == nil)
        #expect(CommercialRules.reserve(requested: 6, available: 5)?.rule == .insufficientStock)
        let van = CommercialRules.consume(fromVan: 2, used: 3)
        #expect(van.quantity == -1 && van.finding?.rule == .vanStockNegative)
        #expect(CommercialRules.payment(amountMinor: 500, receiptNumber: "R-2", existingReceipts: ["R-1"], paidMinor: 500, orderTotalMinor: 1_000) == nil)
        #expect(CommercialRules.payment(amountMinor: 500, receiptNumber: "R-1", existingReceipts: ["R-1"], paidMinor: 500, orderTotalMinor: 1_000)?.rule == .duplicateReceipt)
        #expect(CommercialRules.payment(amountMinor: 501, receiptNumber: "R-3", existingReceipts: [], paidMinor: 500, orderTotalMinor: 1_000)?.rule == .paymentsOverTotal)
    }

    @Test("visit and work-order completion prerequisites")
    func execution() {
        #expect(ExecutionRules.completeVisit(checkInAt: 0, checkOutAt: 600_000, openRequiredTasks: 0).isEmpty)
        #expect(ExecutionRules.completeVisit(checkInAt: 0, checkOutAt: nil, openRequiredTasks: 0).map(\.rule) == [.incompleteVisit])
        #expect(ExecutionRules.completeVisit(checkInAt: 0, checkOutAt: 600_000, openRequiredTasks: 2).map(\.rule) == [.incompleteVisit])
        #expect(ExecutionRules.completeVisit(checkInAt: 0, checkOutAt: 60_000, openRequiredTasks: 0).map(\.rule) == [.visitTooShort])
        #expect(ExecutionRules.completeVisit(checkInAt: 60_000, checkOutAt: 0, openRequiredTasks: 0).map(\.rule) == [.eventsOutOfOrder])
        #expect(ExecutionRules.completeWorkOrder(workType: "repair", arrivedOnSite: true, hasSignature: true).isEmpty)
        #expect(ExecutionRules.completeWorkOrder(workType: "repair", arrivedOnSite: true, hasSignature: false).map(\.rule) == [.signatureMissing])
        #expect(ExecutionRules.completeWorkOrder(workType: "inspection", arrivedOnSite: false, hasSignature: false).map(\.rule) == [.noArrival])
        #expect(ExecutionRules.checkIn(otherVisitInProgress: true)?.rule == .secondVisitInProgress)
        #expect(ExecutionRules.insideVisit(checkedIn: false)?.rule == .noCheckIn)
    }
}

/// Issue 14, item 1: every rule computes on checked or wider arithmetic, so that no value a
/// device sends — even one the schema's ranges would refuse — can trap the server.
@Suite("Rules on hostile values")
struct HostileValueRulesTests {
    @Test("64-bit extremes in coordinates, times and amounts never trap a rule")
    func extremes() {
        let store = Coordinate(latitudeE6: 40_750_000, longitudeE6: -73_990_000)
        for (latitude, longitude) in [(Int64.max, Int64.max), (Int64.min, Int64.min), (0, Int64.max), (Int64.min, 0)] {
            let fix = Geofence.Fix(coordinate: Coordinate(latitudeE6: latitude, longitudeE6: longitude), accuracyMeters: .max, deviceTime: .max)
            let previous = Geofence.Fix(coordinate: Coordinate(latitudeE6: ~latitude, longitudeE6: ~longitude), accuracyMeters: 10, deviceTime: .min)
            _ = Geofence.verify(fix, store: store, radiusMeters: .max, previous: previous)
        }
        #expect(!ExecutionRules.completeVisit(checkInAt: .min, checkOutAt: .max, openRequiredTasks: 0).contains { $0.rule == .visitTooShort })
        #expect(ExecutionRules.completeVisit(checkInAt: .max, checkOutAt: .min, openRequiredTasks: 0).contains { $0.rule == .eventsOutOfOrder })
        #expect(Pricing.check(deviceTotalMinor: .min, serverTotalMinor: .max)?.rule == .totalMismatch)
        #expect(CommercialRules.payment(amountMinor: .max, receiptNumber: "R", existingReceipts: [], paidMinor: .max, orderTotalMinor: .max)?.rule == .paymentsOverTotal)
        #expect(CommercialRules.credit(outstandingMinor: .max, openOrdersMinor: .max, orderMinor: .max, limitMinor: .max)?.rule == .creditLimitExceeded)
        #expect(CommercialRules.consume(fromVan: .min, used: .max).quantity == .min)
        #expect(CommercialRules.reserve(requested: .max, available: .min) != nil)
    }
}

@Suite("Service levels")
struct ServiceLevelRulesTests {
    static let hour: Int64 = 3_600_000

    @Test("due times by priority; a response breach only while no one is assigned; an arrival judged by the phone's time; nothing owed once cancelled")
    func breaches() {
        #expect(ServiceLevels.target(priority: "urgent") == .init(response: Self.hour, arrival: 4 * Self.hour))
        #expect(ServiceLevels.target(priority: "whatever") == ServiceLevels.target(priority: "normal"))
        let due = (response: 10 * Self.hour, arrival: 20 * Self.hour)
        func breaches(_ status: String, assigned: Bool = false, arrivedAt: Int64? = nil, now: Int64) -> [ServiceLevels.Breach] {
            ServiceLevels.breaches(status: status, assigned: assigned, arrivedAt: arrivedAt, responseDue: due.response, arrivalDue: due.arrival, now: now)
        }
        #expect(breaches("new", now: 9 * Self.hour).isEmpty)
        #expect(breaches("new", now: 11 * Self.hour) == [.response])
        #expect(breaches("dispatched", assigned: true, now: 11 * Self.hour).isEmpty)
        #expect(breaches("dispatched", assigned: true, now: 21 * Self.hour) == [.arrival])
        #expect(breaches("on_site", assigned: true, arrivedAt: 19 * Self.hour, now: 30 * Self.hour).isEmpty, "on time by the phone's clock, whenever it syncs")
        #expect(breaches("completed", assigned: true, arrivedAt: 21 * Self.hour, now: 30 * Self.hour) == [.arrival])
        #expect(breaches("cancelled", now: 30 * Self.hour).isEmpty)
        #expect(ServiceLevels.shown([.response, .arrival]) == .arrival && ServiceLevels.shown([]) == nil)
    }
}
