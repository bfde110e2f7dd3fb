/// Any protocol v1 message: what a frame carries.
public enum Message: WireCodable, Hashable {
    /// See ``RegisterRequest``.
    case registerRequest(RegisterRequest)
    /// See ``RegisterResponse``.
    case registerResponse(RegisterResponse)
    /// See ``PushRequest``.
    case pushRequest(PushRequest)
    /// See ``PushResponse``.
    case pushResponse(PushResponse)
    /// See ``PullRequest``.
    case pullRequest(PullRequest)
    /// See ``PullResponse``.
    case pullResponse(PullResponse)
    /// See ``LiveNotice``.
    case liveNotice(LiveNotice)
    /// See ``ErrorResponse``.
    case error(ErrorResponse)
    /// See ``FetchRequest``.
    case fetchRequest(FetchRequest)
    /// See ``FetchResponse``.
    case fetchResponse(FetchResponse)

    /// The message types' names, in type-number order (the binary type byte is the index).
    public static let types = [
        "register_request", "register_response", "push_request", "push_response",
        "pull_request", "pull_response", "live_notice", "error", "fetch_request", "fetch_response",
    ]

    public func encode(to encoder: inout some WireEncoder) {
        switch self {
        case .registerRequest(let body): encoder.tag("type", 0, labels: Self.types); encoder.object("body", body)
        case .registerResponse(let body): encoder.tag("type", 1, labels: Self.types); encoder.object("body", body)
        case .pushRequest(let body): encoder.tag("type", 2, labels: Self.types); encoder.object("body", body)
        case .pushResponse(let body): encoder.tag("type", 3, labels: Self.types); encoder.object("body", body)
        case .pullRequest(let body): encoder.tag("type", 4, labels: Self.types); encoder.object("body", body)
        case .pullResponse(let body): encoder.tag("type", 5, labels: Self.types); encoder.object("body", body)
        case .liveNotice(let body): encoder.tag("type", 6, labels: Self.types); encoder.object("body", body)
        case .error(let body): encoder.tag("type", 7, labels: Self.types); encoder.object("body", body)
        case .fetchRequest(let body): encoder.tag("type", 8, labels: Self.types); encoder.object("body", body)
        case .fetchResponse(let body): encoder.tag("type", 9, labels: Self.types); encoder.object("body", body)
        }
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        switch try decoder.tag("type", labels: Self.types) {
        case 0: self = .registerRequest(try decoder.object("body", as: RegisterRequest.self))
        case 1: self = .registerResponse(try decoder.object("body", as: RegisterResponse.self))
        case 2: self = .pushRequest(try decoder.object("body", as: PushRequest.self))
        case 3: self = .pushResponse(try decoder.object("body", as: PushResponse.self))
        case 4: self = .pullRequest(try decoder.object("body", as: PullRequest.self))
        case 5: self = .pullResponse(try decoder.object("body", as: PullResponse.self))
        case 6: self = .liveNotice(try decoder.object("body", as: LiveNotice.self))
        case 8: self = .fetchRequest(try decoder.object("body", as: FetchRequest.self))
        case 9: self = .fetchResponse(try decoder.object("body", as: FetchResponse.self))
        default: self = .error(try decoder.object("body", as: ErrorResponse.self))
        }
    }
}
