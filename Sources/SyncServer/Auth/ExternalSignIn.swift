import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation
import Logging
import JWTKit
public import SyncCore

/// The company's sign-in (issue 21, item 2): tokens its identity provider (OpenID Connect) signs
/// with RS256 or ES256, verified against the keys it publishes as a JWKS, for one tenant. A token
/// must name the configured issuer (`iss`) and audience (`aud`), be within its `exp` and `nbf`,
/// and carry the user's login in ``userClaim`` — an e-mail address FieldSync knows in the tenant
/// (`users.email`); the role is the user's, never the token's.
public struct ExternalSignIn: Sendable {
    /// Where the provider's keys are.
    public enum KeySource: Sendable, Hashable {
        /// A JWKS document on the web (the provider's `jwks_uri`).
        case url(String)
        /// A JWKS document in a file.
        case file(String)
    }

    /// The claims a login may come from.
    public static let loginClaims = ["email", "preferred_username", "upn", "sub"]

    /// The provider's issuer, as its tokens' `iss` says it.
    public var issuer: String
    /// The audience FieldSync's tokens are for (`aud`, the client id registered with the provider).
    public var audience: String
    /// The tenant the provider signs people in for.
    public var tenant: RecordID
    /// The claim holding the user's login (one of ``loginClaims``; `email` by default).
    public var userClaim: String
    /// The keys.
    public var keys: KeySource
    /// How often the keys are read again (a key the provider rotated in is also looked up at
    /// once, at most every ``refetchMin``).
    public var refresh: Duration
    /// The least time between two reads a token forces (one that no key read so far verifies),
    /// so a flood of forged tokens costs one fetch.
    public var refetchMin: Duration
    /// How long a read of the keys from a URL may take before it counts as failed.
    public var fetchTimeout: Duration

    /// A sign-in.
    public init(issuer: String, audience: String, tenant: RecordID, userClaim: String = "email", keys: KeySource, refresh: Duration = .seconds(600),
                refetchMin: Duration = .seconds(30), fetchTimeout: Duration = .seconds(10)) {
        self.issuer = issuer
        self.audience = audience
        self.tenant = tenant
        self.userClaim = userClaim
        self.keys = keys
        self.refresh = refresh
        self.refetchMin = refetchMin
        self.fetchTimeout = fetchTimeout
    }
}

/// The provider's current keys, read when first needed, again every ``ExternalSignIn/refresh``,
/// and at once (at most every ``ExternalSignIn/refetchMin``) for a token whose key is unknown.
actor ExternalKeys {
    let source: ExternalSignIn.KeySource
    let refresh: Duration, refetchMin: Duration, fetchTimeout: Duration
    private var collection: JWTKeyCollection?
    private var loadedAt: ContinuousClock.Instant?

    init(_ signIn: ExternalSignIn) {
        source = signIn.keys
        refresh = signIn.refresh
        refetchMin = signIn.refetchMin
        fetchTimeout = signIn.fetchTimeout
    }

    /// The keys; `fresh` reads them again unless they were read within the last `refetchMin`.
    func keys(fresh: Bool = false) async throws(TokenError) -> JWTKeyCollection {
        let now = ContinuousClock.now
        if let collection, let loadedAt, now - loadedAt < (fresh ? refetchMin : refresh) { return collection }
        do {
            let json = try await Self.document(source, timeout: fetchTimeout)
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: json)
            collection = keys
            loadedAt = now
            return keys
        } catch {
            Self.logger.warning("the identity provider's keys could not be read", metadata: ["error": "\(error)"])
            // Keys read before stay in use while the provider cannot be reached.
            if let collection { return collection }
            throw TokenError(.unauthorized, "the identity provider's keys could not be read")
        }
    }

    static let logger = Logger(label: "fieldsync.auth")

    static func document(_ source: ExternalSignIn.KeySource, timeout: Duration) async throws -> String {
        switch source {
        case .file(let path):
            return try String(contentsOfFile: path, encoding: .utf8)
        case .url(let url):
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
            guard response.status == .ok else { throw TokenError(.unauthorized, "the JWKS answered \(response.status.code)") }
            return String(buffer: try await response.body.collect(upTo: 1 << 20))
        }
    }
}

extension TokenAuthority {
    /// A token from the company's identity provider, as its claims say.
    struct ExternalPayload: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var iat: IssuedAtClaim?
        var sub: SubjectClaim?
        var email: String?
        var preferred_username: String?
        var upn: String?

        func verify(using algorithm: some JWTAlgorithm) throws {
            try exp.verifyNotExpired()
        }

        func login(_ claim: String) -> String? {
            switch claim {
            case "email": email
            case "preferred_username": preferred_username
            case "upn": upn
            default: sub?.value
            }
        }
    }

    /// Verifies a token of the company's identity provider; returns its tenant, the login it
    /// names, its expiry and when it was issued (``Claims/issued``). Its user is found by the caller.
    ///
    /// - Throws: ``TokenError`` — `token_expired` past its expiry, `unauthorized` for another
    ///   issuer or audience, an unknown key (after reading the keys again), a missing login, a
    ///   bad signature, or an `iat` or `nbf` more than five minutes ahead of `now`.
    func verifyExternal(_ token: String, now: Date) async throws(TokenError) -> (tenant: RecordID, login: String, expires: Date, issued: Date) {
        guard let signIn = external, let keys = externalKeys else { throw TokenError(.unauthorized, "this server signs people in with its own tokens only (HS256)") }
        var payload: ExternalPayload?
        for fresh in [false, true] {
            do {
                payload = try await keys.keys(fresh: fresh).verify(token, as: ExternalPayload.self)
                break
            } catch let error as JWTError where error.errorType == .claimVerificationFailure {
                throw TokenError(.expired, "the token has expired: sign in again")
            } catch let error as TokenError {
                throw error
            } catch {
                // Perhaps a key the provider rotated in: its keys are read again, once (at most
                // every `refetchMin`, so a flood of forged tokens costs one fetch).
                if !fresh { continue }
                throw TokenError(.unauthorized, "the token does not verify against the identity provider's keys")
            }
        }
        guard let payload else { throw TokenError(.unauthorized, "the token does not verify against the identity provider's keys") }
        guard payload.iss.value == signIn.issuer else { throw TokenError(.unauthorized, "the token is from another issuer") }
        guard payload.aud.value.contains(signIn.audience) else { throw TokenError(.unauthorized, "the token is for another audience") }
        let latest = now.addingTimeInterval(Self.clockSkewMax)
        if let issued = payload.iat, issued.value > latest { throw TokenError(.unauthorized, "the token is issued in the future") }
        if let notBefore = payload.nbf, notBefore.value > latest { throw TokenError(.unauthorized, "the token is not valid yet") }
        guard let login = payload.login(signIn.userClaim), !login.isEmpty else { throw TokenError(.unauthorized, "the token names no \(signIn.userClaim)") }
        let issued = payload.iat?.value ?? payload.nbf?.value ?? payload.exp.value.addingTimeInterval(-Self.externalLifetimeAssumed)
        // A token is never taken as issued after it was verified (a clock ahead within the skew).
        return (signIn.tenant, login, payload.exp.value, min(issued, now))
    }
}
