/// When a maintenance plan by meter is due (issue 19, item 3): every `interval` units of a meter
/// counted from `start` (thresholds `start + k·interval`, k ≥ 1), as the asset's readings say.
///
/// A pure function of the readings, so every server instance and every run of the job reach the
/// same thresholds and dates:
/// - the **current reading** is the latest by time (then by value);
/// - the **rate** is the rise from the earliest reading of the last year that is at least a day
///   older than the current one, over the time between them; no rise, no forecast;
/// - the first threshold considered is the one after the last already generated, or the last one
///   the meter has passed if that is later (a meter that jumped past several thresholds gets one
///   work order, not one per threshold);
/// - a passed threshold is due when the first reading at or above it was taken; a threshold ahead
///   is due when the rate reaches it, and is generated once that date is within `lead`.
public enum MeterSchedule {
    /// A reading of the meter.
    public struct Reading: Sendable, Hashable {
        /// The value, in the meter's units.
        public var value: Int64
        /// When it was read (ms since the epoch, the phone's clock).
        public var at: Int64

        /// A reading.
        public init(value: Int64, at: Int64) {
            self.value = value
            self.at = at
        }
    }

    /// A threshold to generate work for, and its due date.
    public struct Due: Sendable, Hashable {
        /// The reading the work is due at.
        public var threshold: Int64
        /// When it was reached, or is forecast to be (ms since the epoch).
        public var dueAt: Int64

        /// A due threshold.
        public init(threshold: Int64, dueAt: Int64) {
            self.threshold = threshold
            self.dueAt = dueAt
        }
    }

    /// The longest look back for the rate: a year.
    public static let rateWindow: Int64 = 365 * 86_400_000

    /// The thresholds due by `horizon` (ms since the epoch), in order, at most `limit`; see the
    /// type's discussion. `lastGenerated` is the highest threshold on this plan's grid already
    /// generated, if any.
    public static func due(readings: [Reading], interval: Int64, start: Int64, lastGenerated: Int64?, horizon: Int64, limit: Int = 12) -> [Due] {
        guard interval > 0, let meter = Meter(readings) else { return [] }
        var step = firstStep(current: meter.current.value, interval: interval, start: start, lastGenerated: lastGenerated)
        var due: [Due] = []
        while due.count < limit {
            let (threshold, overflow) = start.addingReportingOverflow(step.multipliedReportingOverflow(by: interval).partialValue)
            guard !overflow, threshold <= FieldSalesSchema.meterRange.upperBound, let at = meter.date(of: threshold), at <= horizon else { break }
            due.append(Due(threshold: threshold, dueAt: at))
            step += 1
        }
        return due
    }

    /// The next threshold to generate: after `lastGenerated`, or the last one the meter passed if that is later.
    public static func nextThreshold(readings: [Reading], interval: Int64, start: Int64, lastGenerated: Int64?) -> Int64? {
        guard interval > 0 else { return nil }
        let current = readings.max { ($0.at, $0.value) < ($1.at, $1.value) }?.value ?? start
        let (threshold, overflow) = start.addingReportingOverflow(firstStep(current: current, interval: interval, start: start, lastGenerated: lastGenerated)
            .multipliedReportingOverflow(by: interval).partialValue)
        return overflow ? nil : threshold
    }

    /// The step k (of the threshold start + k·interval) to consider first.
    static func firstStep(current: Int64, interval: Int64, start: Int64, lastGenerated: Int64?) -> Int64 {
        let passed = current >= start ? (current - start) / interval : 0
        let next = lastGenerated.map { max(0, ($0 - start) / interval) + 1 } ?? 1
        return max(1, next, passed)
    }

    /// When the meter reached `threshold`, or is forecast to; `nil` with no rise to forecast from.
    public static func date(of threshold: Int64, readings: [Reading]) -> Int64? {
        Meter(readings)?.date(of: threshold)
    }

    /// The readings as the schedule reads them: the current one and the rise over a span of time.
    struct Meter {
        let sorted: [Reading]
        let current: Reading
        /// Units risen over milliseconds, both positive; `nil` when the meter did not rise.
        let rate: (rise: Int64, span: Int64)?

        init?(_ readings: [Reading]) {
            sorted = readings.sorted { ($0.at, $0.value) < ($1.at, $1.value) }
            guard let current = sorted.last else { return nil }
            self.current = current
            rate = sorted.first { $0.at >= current.at - MeterSchedule.rateWindow && $0.at <= current.at - 86_400_000 }.flatMap { earliest in
                current.value > earliest.value ? (current.value - earliest.value, current.at - earliest.at) : nil
            }
        }

        /// Passed: when the first reading at or above it was taken; ahead: the current reading's
        /// time plus the span the rate needs (rounded up to the millisecond), in integers.
        func date(of threshold: Int64) -> Int64? {
            if current.value >= threshold { return sorted.first { $0.value >= threshold }?.at ?? current.at }
            guard let rate else { return nil }
            let (product, overflow) = (threshold - current.value).multipliedReportingOverflow(by: rate.span)
            guard !overflow else { return nil }
            let ahead = product / rate.rise + (product % rate.rise == 0 ? 0 : 1)
            let (at, late) = current.at.addingReportingOverflow(ahead)
            return late ? nil : at
        }
    }
}
