public import SyncCore

/// DOMAIN.md §6, service steps (标准化现场服务; issue 19, item 4): a work-order type's checklist
/// of steps and inspections, each taking one kind of answer. The technician answers offline; the
/// latest answer per step counts. An answer of the wrong kind, or a number outside the step's
/// range, is flagged; a completion with a required step unanswered is flagged too — facts from
/// the field are never refused, and an answer that arrives after the completion is judged the same.
public enum ServiceSteps {
    /// One step of a checklist, as the rules see it.
    public struct Step: Hashable, Sendable {
        /// The step record.
        public var id: RecordID
        /// Its label, its kind of answer (`yes_no`, `number`, `text`, `photo`) and whether completion needs it.
        public var label: String, answerKind: String, required: Bool
        /// For a number, the range it should fall in.
        public var minValue: Int64?, maxValue: Int64?

        /// Creates a step.
        public init(id: RecordID, label: String, answerKind: String, required: Bool, minValue: Int64? = nil, maxValue: Int64? = nil) {
            self.id = id
            self.label = label
            self.answerKind = answerKind
            self.required = required
            self.minValue = minValue
            self.maxValue = maxValue
        }
    }

    /// An answer: exactly one of its values is set.
    public struct Answer: Hashable, Sendable {
        /// Yes or no.
        public var yesNo: Bool?
        /// A number.
        public var number: Int64?
        /// Text.
        public var text: String?
        /// A photo (an attachment).
        public var photo: RecordID?

        /// Creates an answer.
        public init(yesNo: Bool? = nil, number: Int64? = nil, text: String? = nil, photo: RecordID? = nil) {
            self.yesNo = yesNo
            self.number = number
            self.text = text
            self.photo = photo
        }

        /// The kind of answer it is, or `nil` when it carries no value or several.
        public var kind: String? {
            let kinds = [yesNo.map { _ in "yes_no" }, number.map { _ in "number" }, text.map { _ in "text" }, photo.map { _ in "photo" }].compactMap { $0 }
            return kinds.count == 1 ? kinds[0] : nil
        }
    }

    /// What is wrong with `answer` to `step`, or `nil`.
    public static func judge(_ answer: Answer, to step: Step) -> RuleFinding? {
        guard let kind = answer.kind, kind == step.answerKind else {
            return RuleFinding(.stepAnswerInvalid, "“\(step.label)” takes a \(step.answerKind == "yes_no" ? "yes/no" : step.answerKind) answer")
        }
        guard let number = answer.number else { return nil }
        if let low = step.minValue, number < low { return RuleFinding(.stepOutOfRange, "“\(step.label)”: \(number) is below \(low)") }
        if let high = step.maxValue, number > high { return RuleFinding(.stepOutOfRange, "“\(step.label)”: \(number) is above \(high)") }
        return nil
    }

    /// The required steps of `steps` that have no answer of their kind among `answered` (step id → kind of its latest answer).
    public static func missing(_ steps: [Step], answered: [RecordID: String]) -> [Step] {
        steps.filter { $0.required && answered[$0.id] != $0.answerKind }
    }

    /// The finding of a completion with required steps unanswered, or `nil`.
    public static func completion(missing: [Step]) -> RuleFinding? {
        guard !missing.isEmpty else { return nil }
        return RuleFinding(.stepsMissing, "completed without the required steps: " + missing.map { "“\($0.label)”" }.joined(separator: ", "))
    }
}
