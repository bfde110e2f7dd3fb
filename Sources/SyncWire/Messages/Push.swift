public import SyncCore

/// `POST /v1/push`: a batch of the device's change sets, oldest first.
///
/// Idempotent: a batch replayed after a lost response (same batch id, same change ids) gets the
/// same outcomes and applies nothing twice.
public struct PushRequest: WireCodable, Hashable {
    /// The batch's id.
    public var batch: RecordID
    /// The change sets, in the order the device made them.
    public var changeSets: [ChangeSet]

    /// Creates a request.
    public init(batch: RecordID, changeSets: [ChangeSet]) {
        self.batch = batch
        self.changeSets = changeSets
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("batch", batch)
        encoder.objects("change_sets", changeSets)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        batch = try decoder.id("batch")
        changeSets = try decoder.objects("change_sets", as: ChangeSet.self, max: WireLimits.changeSetsPerPushMax)
        let changes = changeSets.reduce(0) { $0 + $1.changes.count }
        guard changes <= WireLimits.changesPerPushMax else {
            throw WireError(.limitExceeded, "a push holds \(changes) changes; at most \(WireLimits.changesPerPushMax) are allowed")
        }
    }
}

/// A rule that fired on a change.
public struct Finding: WireCodable, Hashable {
    /// The rule's stable name (`outside_geofence`).
    public var rule: String
    /// What it found.
    public var message: String

    /// Creates a finding.
    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.string("rule", rule)
        encoder.string("message", message)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        rule = try decoder.name("rule", maxBytes: WireLimits.tokenBytesMax)
        message = try decoder.string("message", maxBytes: WireLimits.messageBytesMax)
    }
}

/// What the server did with one change. The device keeps and shows it.
public struct ChangeOutcome: WireCodable, Hashable {
    /// The three outcomes.
    public enum Result: UInt8, Hashable, Sendable, CaseIterable {
        /// Merged.
        case applied
        /// Merged, and flagged for review by the findings.
        case appliedWithException
        /// Not merged: kept in quarantine with the reason and the server's current state, never
        /// dropped, never blocking the rest of the outbox.
        case rejected

        static let labels = ["applied", "applied_with_exception", "rejected"]

        /// The outcome's wire name (`applied_with_exception`).
        public var name: String { Self.labels[Int(rawValue)] }
    }

    /// The change.
    public var change: ChangeID
    /// What happened.
    public var result: Result
    /// The rules that fired.
    public var findings: [Finding]
    /// For a rejection: why (`forbidden_field`, `order_locked`, …).
    public var reason: String?
    /// For a rejection: the record as the server has it.
    public var serverState: RecordState?

    /// Creates an outcome.
    public init(change: ChangeID, result: Result, findings: [Finding] = [], reason: String? = nil, serverState: RecordState? = nil) {
        self.change = change
        self.result = result
        self.findings = findings
        self.reason = reason
        self.serverState = serverState
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("change", change.uuid)
        encoder.tag("result", result.rawValue, labels: Result.labels)
        encoder.objects("findings", findings)
        encoder.optionalString("reason", reason)
        encoder.optionalObject("server_state", serverState)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        change = ChangeID(try decoder.id("change"))
        result = Result(rawValue: try decoder.tag("result", labels: Result.labels))!
        findings = try decoder.objects("findings", as: Finding.self, max: WireLimits.findingsMax)
        reason = try decoder.optionalName("reason", maxBytes: WireLimits.tokenBytesMax)
        serverState = try decoder.optionalObject("server_state", as: RecordState.self)
    }
}

/// The answer to a ``PushRequest``: one outcome per change, in the request's order.
public struct PushResponse: WireCodable, Hashable {
    /// The batch answered.
    public var batch: RecordID
    /// The server's clock after the batch.
    public var serverClock: HLC
    /// One outcome per change.
    public var outcomes: [ChangeOutcome]

    /// Creates a response.
    public init(batch: RecordID, serverClock: HLC, outcomes: [ChangeOutcome]) {
        self.batch = batch
        self.serverClock = serverClock
        self.outcomes = outcomes
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("batch", batch)
        encoder.clock("server_clock", serverClock)
        encoder.objects("outcomes", outcomes)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        batch = try decoder.id("batch")
        serverClock = try decoder.clock("server_clock")
        outcomes = try decoder.objects("outcomes", as: ChangeOutcome.self, max: WireLimits.changesPerPushMax)
    }
}
