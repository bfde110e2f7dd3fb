import DemoData
import FieldModel
import FieldRules
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncWire
import Synchronization
import Testing

@testable import SyncServer

/// The company's sign-in (issue 21, item 2): tokens an identity provider signs with keys made in
/// the test (ES256, and RS256 from `openssl genrsa`), published as a JWKS served on loopback and
/// rotated mid-test; the server honours them for the tenant's user with that address, in that
/// user's role, and refuses expired, wrong-issuer, wrong-audience, unknown-key and
/// deactivated-user tokens with the documented codes. HS256 tokens keep working.
@Suite("The company's sign-in")
struct ExternalSignInTests {
    static let issuer = "https://login.example.com/acme", audience = "fieldsync"

    struct Payload: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var email: String?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A 2048-bit RSA private key in PEM, made by openssl.
    static func rsaPEM() throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["genrsa", "2048"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let pem = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return pem
    }

    /// The public half of `key` as a JWK named `kid`.
    static func jwk(_ key: ES256PrivateKey, _ kid: String) throws -> JWK {
        let parameters = try #require(key.parameters)
        return JWK.ecdsa(.es256, identifier: JWKIdentifier(string: kid), x: parameters.x, y: parameters.y, curve: .p256)
    }

    /// A JWKS document of `keys`.
    static func document(_ keys: [JWK]) throws -> String { String(decoding: try JSONEncoder().encode(JWKS(keys: keys)), as: UTF8.self) }

    @Test("RS256 and ES256 tokens from a JWKS on loopback: honoured for the tenant's user in their role; a rotated key found; expired, foreign and deactivated refused")
    func jwks() async throws {
        let (pool, data, tenant) = try await OfficeRoutesTests.demoDatabase("external-sign-in")
        let users = try #require(data["users"])
        let rep = try #require(users.rows.first { $0[2] == "rep" }), dispatcher = try #require(users.rows.first { $0[2] == "dispatcher" })
        let (repEmail, dispatcherEmail) = (try #require(rep[4]), try #require(dispatcher[4]))
        // The provider's keys: an EC key, an RSA key, and one it rotates in later.
        let ec = ES256PrivateKey(), later = ES256PrivateKey()
        let rsa = try Insecure.RSA.PrivateKey(pem: try Self.rsaPEM())
        let signing = JWTKeyCollection()
        await signing.add(ecdsa: ec, kid: "ec-1")
        await signing.add(ecdsa: later, kid: "ec-2")
        await signing.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa-1")
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let rsaJWK = JWK.rsa(.rs256, identifier: "rsa-1", modulus: Self.base64URL(modulus), exponent: Self.base64URL(exponent))
        let published = Mutex(try Self.document([try Self.jwk(ec, "ec-1"), rsaJWK]))
        let fetches = Atomic<Int>(0)
        let jwksRouter = Router()
        jwksRouter.get("jwks.json") { _, _ -> String in
            fetches.add(1, ordering: .relaxed)
            return published.withLock { $0 }
        }
        try await Application(router: jwksRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { jwksClient in
            let port = try #require(jwksClient.port)
            // Keys read again at once for an unknown key (a server waits 30 s between such reads).
            // The whole suite can keep the JWKS route waiting for more than a server's 10 s, so
            // the fetch may take longer here (it did once: a 401 for a key never read).
            let signIn = ExternalSignIn(issuer: Self.issuer, audience: Self.audience, tenant: tenant, keys: .url("http://127.0.0.1:\(port)/jwks.json"), refetchMin: .zero,
                                        fetchTimeout: .seconds(300))
            let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret, external: signIn)
            let app = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: ManualWallClock(UInt64(Date().timeIntervalSince1970 * 1_000)),
                                                                     requestsPerSecond: 10_000))
            @Sendable func token(kid: String, issuer: String = Self.issuer, audience: String = Self.audience, email: String?, expires: TimeInterval = 3_600) async throws -> String {
                try await signing.sign(Payload(iss: IssuerClaim(value: issuer), aud: AudienceClaim(value: [audience]),
                                               exp: ExpirationClaim(value: Date().addingTimeInterval(expires)), email: email), kid: JWKIdentifier(string: kid))
            }
            try await app.test(.router) { client in
                @Sendable func register(_ token: String) async throws -> SyncRoutesTests.Exchange {
                    try await SyncRoutesTests.post(client, "/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0", platform: "test",
                                                                                                           schemaRevision: 1)), token: token)
                }
                @Sendable func code(_ exchange: SyncRoutesTests.Exchange) -> String? { if case .error(let error)? = exchange.message { error.code } else { nil } }
                // ES256 and RS256, for the rep (in upper case: addresses compare in lower case).
                #expect(try await register(try await token(kid: "ec-1", email: repEmail)).status == .ok)
                #expect(try await register(try await token(kid: "rsa-1", email: repEmail.uppercased())).status == .ok)
                // The dispatcher's token reaches the office API in the dispatcher's role.
                let board = try await OfficeRoutesTests.call(client, .get, "/v1/office/board?day=2026-11-30", token: try await token(kid: "ec-1", email: dispatcherEmail))
                #expect(board.status == .ok, "\(board.json?.printed ?? "")")
                // The refusals, each with its code.
                let expired = try await register(try await token(kid: "ec-1", email: repEmail, expires: -600))
                #expect(expired.status == .unauthorized && code(expired) == "token_expired", "\(expired)")
                for refused in [try await token(kid: "ec-1", issuer: "https://evil.example.com", email: repEmail),
                                try await token(kid: "ec-1", audience: "someone-else", email: repEmail),
                                try await token(kid: "ec-1", email: "nobody@example.com"),
                                try await token(kid: "ec-1", email: nil)] {
                    let answer = try await register(refused)
                    #expect(answer.status == .unauthorized && code(answer) == "unauthorized", "\(answer)")
                }
                // A key the provider has not published: refused after reading the keys once more.
                let before = fetches.load(ordering: .relaxed)
                let unknown = try await register(try await token(kid: "ec-2", email: repEmail))
                #expect(unknown.status == .unauthorized && code(unknown) == "unauthorized" && fetches.load(ordering: .relaxed) == before + 1, "\(unknown)")
                // The provider rotates ec-2 in: the next token signed with it makes the server read
                // the keys again, and it is honoured.
                published.withLock { $0 = (try? Self.document([try Self.jwk(later, "ec-2"), rsaJWK])) ?? $0 }
                let rotated = try await register(try await token(kid: "ec-2", email: repEmail))
                #expect(rotated.status == .ok && fetches.load(ordering: .relaxed) == before + 2, "\(rotated)")
                // A server that waits between reads: one unknown key costs one fetch, the next none.
                let patient = try await TokenAuthority(secret: SyncRoutesTests.secret,
                                                       external: ExternalSignIn(issuer: Self.issuer, audience: Self.audience, tenant: tenant,
                                                                                keys: .url("http://127.0.0.1:\(port)/jwks.json")))
                let app2 = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: patient, wallClock: ManualWallClock(UInt64(Date().timeIntervalSince1970 * 1_000)),
                                                                          requestsPerSecond: 10_000))
                try await app2.test(.router) { fresh in
                    let start = fetches.load(ordering: .relaxed)
                    for _ in 0..<3 {
                        let answer = try await SyncRoutesTests.post(fresh, "/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0",
                                                                                                                            platform: "test", schemaRevision: 1)),
                                                                    token: try await token(kid: "ec-1", email: repEmail))
                        #expect(answer.status == .unauthorized)
                    }
                    #expect(fetches.load(ordering: .relaxed) == start + 1, "a flood of unknown keys costs one fetch")
                }
                // A deactivated user is refused with the code that stops the app; an HS256 token still works for others.
                let store = SyncStore(pool: pool, domain: FieldSalesDomain())
                try await store.deactivateUser(RecordID(rep[0]!)!, tenant: tenant, by: nil)
                let app3 = Application(router: FieldSyncServer.makeRouter(pool: pool, tokens: tokens, wallClock: ManualWallClock(UInt64(Date().timeIntervalSince1970 * 1_000)),
                                                                          requestsPerSecond: 10_000))
                try await app3.test(.router) { fresh in
                    let answer = try await SyncRoutesTests.post(fresh, "/v1/register", .registerRequest(RegisterRequest(installation: RecordID.random(), appVersion: "1.0.0",
                                                                                                                        platform: "test", schemaRevision: 1)),
                                                                token: try await token(kid: "rsa-1", email: repEmail))
                    #expect(answer.status == .forbidden && code(answer) == "user_deactivated", "\(answer)")
                    let own = try await tokens.issue(user: RecordID(dispatcher[0]!)!, tenant: tenant, role: .dispatcher)
                    #expect(try await OfficeRoutesTests.call(fresh, .get, "/v1/office/board?day=2026-11-30", token: own).status == .ok)
                }
            }
        }
        await pool.close()
    }

    struct IssuedPayload: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var email: String
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    /// A token that claims to be issued later than the server's clock could otherwise outlast a
    /// phone's revocation: its issue time is never later than the verification, and an `iat`
    /// past the clock skew is refused, as it is for the server's own tokens.
    @Test("the identity provider's token issued in the future: refused past the clock skew; within it, taken as issued now")
    func issuedInTheFuture() async throws {
        let key = ES256PrivateKey()
        let signing = JWTKeyCollection()
        await signing.add(ecdsa: key, kid: "ec-1")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("jwks.json")
        try Self.document([try Self.jwk(key, "ec-1")]).write(to: file, atomically: true, encoding: .utf8)
        let tokens = try await TokenAuthority(secret: SyncRoutesTests.secret,
                                              external: ExternalSignIn(issuer: Self.issuer, audience: Self.audience, tenant: RecordID.random(), keys: .file(file.path)))
        let now = Date()
        func token(issued: Date) async throws -> String {
            try await signing.sign(IssuedPayload(iss: IssuerClaim(value: Self.issuer), aud: AudienceClaim(value: [Self.audience]),
                                                 exp: ExpirationClaim(value: now.addingTimeInterval(3_600)), iat: IssuedAtClaim(value: issued),
                                                 email: "rep@example.com"), kid: "ec-1")
        }
        await #expect(throws: TokenError.self) { try await tokens.verifyAny(try await token(issued: now.addingTimeInterval(365 * 86_400)), now: now) }
        guard case .external(_, _, _, let issued) = try await tokens.verifyAny(try await token(issued: now.addingTimeInterval(120)), now: now) else {
            Issue.record("not the identity provider's token")
            return
        }
        #expect(issued <= now)
        guard case .external(_, _, _, let earlier) = try await tokens.verifyAny(try await token(issued: now.addingTimeInterval(-600)), now: now) else { return }
        #expect(abs(earlier.timeIntervalSince(now) + 600) < 1)
        // The server's own token: the same.
        guard case .own(let own) = try await tokens.verifyAny(try await tokens.issue(user: RecordID.random(), tenant: RecordID.random(), role: .rep,
                                                                                     now: now.addingTimeInterval(120)), now: now) else { return }
        #expect(own.issued <= now)
    }
}
