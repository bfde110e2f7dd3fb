public import SyncCore
/// DOMAIN.md §4.7: an order's prices, taxes and totals, computed the same way on the phone
/// (a preview) and on the server (the truth), in integer minor units.
///
/// The rounding rule, the only one FieldSync uses: every amount is computed per line from exact
/// integers and rounded once to the minor unit, half away from zero; order amounts are sums of
/// line amounts and are never rounded again.
///
/// - Tax-exclusive price list: `net = round(quantity × unit price × (10000 − discount_bp) / 10000)`,
///   `tax = round(net × rate / 100)`, `gross = net + tax`.
/// - Tax-inclusive price list: `gross = round(quantity × unit price × (10000 − discount_bp) / 10000)`,
///   `net = round(gross × 100 / (100 + rate))`, `tax = gross − net`.
///
/// The line total is what the customer pays for the line (its gross), in both cases.
public enum Pricing {
    /// The most units on one line.
    public static let quantityMax: Int64 = 1_000_000
    /// The most lines on one order (DOMAIN.md §5: up to 350 in practice).
    public static let linesMax = 1_000
    /// 100 % in basis points.
    public static let fullDiscountBP: Int64 = 10_000
    /// The largest amount a line or an order may come to, in minor units (the money range, 10^15).
    public static let amountMax: UInt128 = 1_000_000_000_000_000

    /// One line as priced from the price list in force on the order date.
    public struct LineInput: Hashable, Sendable {
        /// How many units.
        public var quantity: Int64
        /// The list price of one unit, in minor units (gross of tax on a tax-inclusive list).
        public var listPriceMinor: Int64
        /// The discount in basis points (150 = 1.5 %).
        public var discountBP: Int64
        /// The tax rate in thousandths of a percent (8.875 % = 8875).
        public var taxRateMillipercent: Int64

        /// Creates a line.
        public init(quantity: Int64, listPriceMinor: Int64, discountBP: Int64 = 0, taxRateMillipercent: Int64) {
            self.quantity = quantity
            self.listPriceMinor = listPriceMinor
            self.discountBP = discountBP
            self.taxRateMillipercent = taxRateMillipercent
        }
    }

    /// A priced line.
    public struct Line: Hashable, Sendable {
        /// One unit after the discount, rounded (for display; totals use the exact line amounts).
        public var unitPriceMinor: Int64
        /// The line's amount before tax.
        public var netMinor: Int64
        /// The line's tax.
        public var taxMinor: Int64
        /// What the customer pays for the line.
        public var totalMinor: Int64
    }

    /// A priced order.
    public struct Totals: Hashable, Sendable {
        /// The lines, in order.
        public var lines: [Line]
        /// The sum of the lines' net amounts.
        public var subtotalMinor: Int64
        /// The sum of the lines' taxes.
        public var taxMinor: Int64
        /// The sum of the lines' totals: what the customer pays.
        public var totalMinor: Int64
    }

    /// Prices an order.
    /// - Throws: ``ModelError/Code/invalidArgument`` for a quantity outside 1…``quantityMax``, a
    ///   negative price, a discount outside 0–100 %, a negative tax rate, or too many lines.
    public static func price(_ inputs: [LineInput], taxInclusive: Bool) throws(ModelError) -> Totals {
        guard inputs.count <= linesMax else { throw ModelError(.invalidArgument, "an order has at most \(linesMax) lines") }
        var lines: [Line] = []
        lines.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            guard (1...quantityMax).contains(input.quantity) else {
                throw ModelError(.invalidArgument, "line \(index + 1): a quantity runs from 1 to \(quantityMax)")
            }
            guard input.listPriceMinor >= 0 else { throw ModelError(.invalidArgument, "line \(index + 1): a price cannot be negative") }
            guard (0...fullDiscountBP).contains(input.discountBP) else {
                throw ModelError(.invalidArgument, "line \(index + 1): a discount runs from 0 to 10000 basis points")
            }
            guard (0...100_000).contains(input.taxRateMillipercent) else {
                throw ModelError(.invalidArgument, "line \(index + 1): a tax rate runs from 0 to 100 %")
            }
            let keep = Int128(fullDiscountBP - input.discountBP)
            let amount = divideRounded(Int128(input.quantity) * Int128(input.listPriceMinor) * keep, Int128(fullDiscountBP))
            let unit = divideRounded(Int128(input.listPriceMinor) * keep, Int128(fullDiscountBP))
            let rate = Int128(input.taxRateMillipercent)  // 100 % = 100_000
            let net: Int128
            let tax: Int128
            if taxInclusive {
                net = divideRounded(amount * 100_000, 100_000 + rate)
                tax = amount - net
            } else {
                net = amount
                tax = divideRounded(amount * rate, 100_000)
            }
            guard amountMax >= (net + tax).magnitude else {
                throw ModelError(.invalidArgument, "line \(index + 1): the line's total is over \(amountMax) minor units")
            }
            lines.append(Line(unitPriceMinor: Int64(unit), netMinor: Int64(net), taxMinor: Int64(tax), totalMinor: Int64(net + tax)))
        }
        // Sums in 128 bits: 350 lines of the largest amount still fit, and are then refused.
        let subtotal = lines.reduce(Int128(0)) { $0 + Int128($1.netMinor) }
        let tax = lines.reduce(Int128(0)) { $0 + Int128($1.taxMinor) }
        guard amountMax >= (subtotal + tax).magnitude else {
            throw ModelError(.invalidArgument, "the order's total is over \(amountMax) minor units")
        }
        return Totals(lines: lines, subtotalMinor: Int64(subtotal), taxMinor: Int64(tax), totalMinor: Int64(subtotal + tax))
    }

    /// Whether the device's total is within `toleranceMinor` of the server's; beyond it the order
    /// is flagged with ``RuleFinding/Rule/totalMismatch`` (the server's total stands either way).
    public static func check(deviceTotalMinor: Int64?, serverTotalMinor: Int64, toleranceMinor: Int64 = 1) -> RuleFinding? {
        guard let deviceTotalMinor, (Int128(deviceTotalMinor) - Int128(serverTotalMinor)).magnitude > Int128(toleranceMinor).magnitude else { return nil }
        return RuleFinding(.totalMismatch, "the device computed \(deviceTotalMinor), the server \(serverTotalMinor) (minor units)")
    }

    /// `numerator / denominator` rounded half away from zero; `denominator` is positive.
    static func divideRounded(_ numerator: Int128, _ denominator: Int128) -> Int128 {
        let half = denominator / 2
        let rounded = numerator >= 0 ? (numerator + half) / denominator : -((-numerator + half) / denominator)
        // For even denominators, (n + d/2) / d is exactly "half away from zero"; for odd ones no
        // value is exactly half-way, so the same formula rounds to nearest.
        return rounded
    }
}
