public import Foundation
import FieldModel
import JWTKit
public import SyncCore

/// Issues and verifies the bearer tokens devices and dispatchers present: JWTs signed with
/// HMAC-SHA-256, carrying the user, the tenant, the role and an expiry.
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
    }

    struct Payload: JWTPayload {
        var sub: SubjectClaim
        var tid: String
        var role: String
        var exp: ExpirationClaim
        var iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }
    }

    private let keys: JWTKeyCollection

    /// Creates an authority that signs with `secret` (at least 32 bytes).
    public init(secret: String) async throws {
        guard secret.utf8.count >= 32 else { throw TokenError(.misconfigured, "the token secret must be at least 32 bytes") }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
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
    public func verify(_ token: String) async throws(TokenError) -> Claims {
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
        return Claims(user: user, tenant: tenant, role: Role(payload.role), expires: payload.exp.value)
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
}
