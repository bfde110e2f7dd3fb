import Foundation
import Logging
import PostgresDriver
import SyncCore
import SyncEngine
import Synchronization

/// Who a request acts for: a bearer token that verifies (``TokenAuthority``), for an active user
/// who exists in the token's tenant with the token's role. A token for anyone else — a user id
/// the tenant never had, a deleted user, a role the user does not hold — is refused, however well
/// it is signed; a deactivated user's is refused with `user_deactivated`, which tells the app to
/// stop syncing rather than sign in again.
///
/// What the database says of a user is kept for ``lifetime``, so a request costs no round trip
/// to PostgreSQL. Any change to `users`, made by this instance, another one or the operator's
/// `fieldsync-server admin`, notifies `fieldsync_people` (schema revision 27), and every
/// instance's listener drops what it kept at once (``forget()``); ``lifetime`` bounds how long a
/// change goes unnoticed only while an instance has no listener. Every route (sync, office,
/// blobs) authenticates here.
final class Authenticator: Sendable {
    /// How long what the database said of a user is trusted: the longest a deleted user or a
    /// changed role goes unnoticed by an instance that did not make the change.
    static let lifetime: Duration = .seconds(30)

    let tokens: TokenAuthority
    let store: SyncStore
    private let known = Mutex<[Key: (standing: SyncStore.Standing?, until: ContinuousClock.Instant)]>([:])
    private let logins = Mutex<[LoginKey: (person: SyncStore.Person?, until: ContinuousClock.Instant)]>([:])

    private struct Key: Hashable {
        let tenant: RecordID
        let user: RecordID
    }

    private struct LoginKey: Hashable {
        let tenant: RecordID
        let login: String
    }

    private let subscription = Mutex<NotificationSubscription?>(nil)

    /// Creates an authenticator that listens for changes to users through a connection of its own,
    /// logging through the server's `logger` (its level and format).
    init(tokens: TokenAuthority, store: SyncStore, logger: Logger) {
        self.tokens = tokens
        self.store = store
        // Users change rarely: any change, or a notification missed in a reconnect, forgets everything.
        let subscription = NotificationSubscription(pool: store.pool, channel: "fieldsync_people", logger: logger) { [weak self] _ in self?.forget() }
        if subscription == nil { logger.warning("no listener for changes to users: a change made elsewhere is noticed within \(Self.lifetime)") }
        self.subscription.withLock { $0 = subscription }
    }

    /// The claims of the `Authorization` header's bearer token, once the token verifies and names
    /// a user of its tenant in that user's role.
    ///
    /// - Throws: ``TokenError`` (`unauthorized`, or `expired`) for a refused token; any other
    ///   error when the database could not be asked (the route answers `unavailable`).
    func claims(_ authorization: String?) async throws -> TokenAuthority.Claims {
        guard let header = authorization, header.hasPrefix("Bearer ") else { throw TokenError(.unauthorized, "send a bearer token") }
        let claims: TokenAuthority.Claims
        switch try await tokens.verifyAny(String(header.dropFirst(7))) {
        case .own(let own):
            claims = own
        case .external(let tenant, let login, let expires, let issued):
            // The company's sign-in: the user is the tenant's with that address, in their role.
            guard let person = try await person(login, tenant: tenant) else { throw TokenError(.unauthorized, "no user of the tenant signs in as \(login)") }
            guard person.standing.active else { throw TokenError(.deactivated, "the user was deactivated: this app stops syncing") }
            return TokenAuthority.Claims(user: person.user, tenant: tenant, role: person.standing.role, expires: expires, issued: issued)
        }
        let standing = try await standing(of: claims.user, tenant: claims.tenant)
        guard let standing else { throw TokenError(.unauthorized, "the token names no user of its tenant") }
        guard standing.active else { throw TokenError(.deactivated, "the user was deactivated: this app stops syncing") }
        guard standing.role == claims.role else { throw TokenError(.unauthorized, "the token's role is not the user's: sign in again") }
        return claims
    }

    /// Forgets every user's answer, so the next request of each asks the database.
    func forget() {
        known.withLock { $0.removeAll() }
        logins.withLock { $0.removeAll() }
    }

    private func person(_ login: String, tenant: RecordID) async throws -> SyncStore.Person? {
        let key = LoginKey(tenant: tenant, login: login.lowercased())
        let now = ContinuousClock.now
        if let entry = logins.withLock({ $0[key] }), entry.until > now { return entry.person }
        let person = try await store.person(login: login, tenant: tenant)
        logins.withLock { logins in
            if logins.count > 100_000 { logins.removeAll() }
            logins[key] = (person, now + Self.lifetime)
        }
        return person
    }

    private func standing(of user: RecordID, tenant: RecordID) async throws -> SyncStore.Standing? {
        let key = Key(tenant: tenant, user: user)
        let now = ContinuousClock.now
        if let entry = known.withLock({ $0[key] }), entry.until > now { return entry.standing }
        let standing = try await store.standing(of: user, tenant: tenant)
        known.withLock { known in
            if known.count > 100_000 { known.removeAll() }  // a bound: a flood of forged ids cannot grow it without end
            known[key] = (standing, now + Self.lifetime)
        }
        return standing
    }
}
