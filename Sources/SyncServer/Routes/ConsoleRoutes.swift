import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `/console/`: the office's web console, static HTML, CSS and JavaScript shipped with the server
/// as resources (`Console/`), over the same office API as any client. Every answer carries a
/// content security policy that allows only the console's own files and calls: no inline script,
/// no other origin, so a customer's name can never run as code even if a page printed it as HTML.
struct ConsoleRoutes<Context: RequestContext>: RouterMiddleware {
    /// Where the console is served.
    static var path: String { "/console" }
    /// The policy every console answer carries.
    static var securityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    }

    let files: FileMiddleware<Context, LocalFileSystem>?

    init(logger: Logger) {
        if let folder = Bundle.module.url(forResource: "Console", withExtension: nil) {
            files = FileMiddleware(folder.path, urlBasePath: Self.path, cacheControl: .init([(MediaType(type: .any), [.noCache])]),
                                   searchForIndexHtml: true, logger: logger)
        } else {
            logger.warning("the console's files are not next to the server: /console/ answers 404")
            files = nil
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == Self.path || path.hasPrefix(Self.path + "/") else { return try await next(request, context) }
        if path == Self.path { return Response(status: .movedPermanently, headers: [.location: Self.path + "/"]) }
        guard let files else { return Response(status: .notFound) }
        // The file middleware serves a file where the rest of the chain finds nothing (throws 404).
        var response = try await files.handle(request, context: context) { _, _ in throw HTTPError(.notFound) }
        response.headers[.contentSecurityPolicy] = Self.securityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
