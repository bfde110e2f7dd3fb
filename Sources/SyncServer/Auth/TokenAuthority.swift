public import Foundation
import FieldModel
import JWTKit
public import SyncCore

/// Issues and verifies the bearer tokens devices and dispatchers present: JWTs signed with
/// HMAC-SHA-256, carrying the user, the tenant, the role and an expiry; and, when the company
/// signs its people in itself, its identity provider's RS256 or ES256 tokens (``ExternalSignIn``).
///
/// Tokens never appear in logs; ``TokenError`` says why a token was refused without repeating it.
public struct TokenAuthority: Sendable {
    /// Who a verified token speaks for.
    public struct Claims: Sendable, Hashable {
        /// The user.
        public var user: RecordID
        /// The user's tenant.
        public var tenant: RecordID
        /// The user's role.
        public var role: Role
        /// When the token stops being valid.
        public var expires: Date
        /// When the token was issued (its `iat`; for the identity provider's token without one,
        /// its `nbf`, else ``externalLifetimeAssumed`` before it expires), and never later than
        /// when it was verified: a token issued before one of its user's phones was revoked
        /// registers no new installation.
        public var issued: Date
    }

    /// How long before its expiry the identity provider's token that says neither when it was
    /// issued nor from when it is valid is taken to be issued.
    public static let externalLifetimeAssumed: TimeInterval = 24 * 3600

    struct Payload: JWTPayload {
        var sub: SubjectClaim
        var tid: String
        var role: String
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var nbf: NotBeforeClaim?

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }
    }

    /// How far a token's `iat` or `nbf` may lie ahead of the server's clock (clocks drift).
    static let clockSkewMax: TimeInterval = 300

    private let keys: JWTKeyCollection
    /// The company's sign-in, if any, and its keys.
    let external: ExternalSignIn?
    let externalKeys: ExternalKeys?

    /// Creates an authority that signs with `secret` (at least 32 bytes) and, with `external`,
    /// also honours the company's identity provider's tokens.
    public init(secret: String, external: ExternalSignIn? = nil) async throws {
        guard secret.utf8.count >= 32 else { throw TokenError(.misconfigured, "the token secret must be at least 32 bytes") }
        if let external, !ExternalSignIn.loginClaims.contains(external.userClaim) {
            throw TokenError(.misconfigured, "the user claim is one of \(ExternalSignIn.loginClaims.joined(separator: ", "))")
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.external = external
        self.externalKeys = external.map(ExternalKeys.init)
    }

    /// A verified token: one of ours, with its claims, or the identity provider's, with the login
    /// it names (its user is the tenant's user with that address).
    public enum Verified: Sendable {
        /// A FieldSync token.
        case own(Claims)
        /// The identity provider's token.
        case external(tenant: RecordID, login: String, expires: Date, issued: Date)
    }

    /// Verifies a token of either kind, chosen by its header's algorithm: HS256 is ours; RS256,
    /// RS384, RS512, ES256 and ES384 the identity provider's (refused without ``ExternalSignIn``).
    public func verifyAny(_ token: String, now: Date = Date()) async throws(TokenError) -> Verified {
        switch Self.algorithm(of: token) {
        case "HS256": return .own(try await verify(token, now: now))
        case "RS256", "RS384", "RS512", "ES256", "ES384":
            let (tenant, login, expires, issued) = try await verifyExternal(token, now: now)
            return .external(tenant: tenant, login: login, expires: expires, issued: issued)
        default: throw TokenError(.unauthorized, "the token must be signed with HS256, or by the identity provider with RS256 or ES256")
        }
    }

    /// Issues a token for `user` valid for `lifetime`.
    public func issue(user: RecordID, tenant: RecordID, role: Role, lifetime: Duration = .seconds(12 * 3600), now: Date = Date()) async throws -> String {
        let payload = Payload(sub: SubjectClaim(value: user.uuidString), tid: tenant.uuidString, role: role.name,
                              exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(lifetime.components.seconds))),
                              iat: IssuedAtClaim(value: now))
        return try await keys.sign(payload)
    }

    /// Verifies a token and returns who it speaks for.
    /// - Throws: ``TokenError`` — `token_expired` for a token past its expiry, `unauthorized` for anything else.
    /// - Throws: also `unauthorized` for a header that names another algorithm than HS256, and
    ///   for a token issued (`iat`) or valid from (`nbf`) more than five minutes ahead of `now`.
    public func verify(_ token: String, now: Date = Date()) async throws(TokenError) -> Claims {
        // The algorithm is ours to choose, never the token's: only HS256 is accepted.
        guard Self.algorithm(of: token) == "HS256" else { throw TokenError(.unauthorized, "the token must be signed with HS256") }
        let payload: Payload
        do {
            payload = try await keys.verify(token, as: Payload.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw TokenError(.expired, "the token has expired: sign in again")
        } catch {
            throw TokenError(.unauthorized, "the token does not verify")
        }
        guard let user = RecordID(payload.sub.value), let tenant = RecordID(payload.tid), Role.all.contains(Role(payload.role)) else {
            throw TokenError(.unauthorized, "the token's claims are malformed")
        }
        let latest = now.addingTimeInterval(Self.clockSkewMax)
        guard payload.iat.value <= latest else { throw TokenError(.unauthorized, "the token is issued in the future") }
        if let notBefore = payload.nbf, notBefore.value > latest { throw TokenError(.unauthorized, "the token is not valid yet") }
        // A token is never taken as issued after it was verified (a clock ahead within the skew).
        return Claims(user: user, tenant: tenant, role: Role(payload.role), expires: payload.exp.value, issued: min(payload.iat.value, now))
    }
}

extension TokenAuthority {
    /// The `alg` of a compact JWT's header, or `nil` when the header is not base64url JSON.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["alg"] as? String
    }
}

/// Why a token was refused. Never contains the token.
public struct TokenError: Error, Sendable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Code: String, Sendable {
        /// Missing, malformed or badly signed.
        case unauthorized
        /// Well signed, but past its expiry.
        case expired = "token_expired"
        /// Well signed, for a user an admin deactivated: the app stops syncing.
        case deactivated = "user_deactivated"
        /// The server's token settings are wrong.
        case misconfigured
    }

    /// The kind of refusal.
    public var code: Code
    /// What to do about it.
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The answer's stable code (errors.md): `token_expired`, `user_deactivated`, else `unauthorized`.
    public var answerCode: String { code == .misconfigured ? Code.unauthorized.rawValue : code.rawValue }

    /// The answer's HTTP status: 403 for a deactivated user (signing in again will not help), else 401.
    public var httpStatus: Int { code == .deactivated ? 403 : 401 }
}
