import Hummingbird
import Logging

/// One structured log line per request: method, path, status and duration, at `info`.
///
/// Never the headers or the body: tokens and customer data stay out of logs. Routes add what
/// they know (the user, error codes) to their own lines.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = "error"
        defer {
            let elapsed = ContinuousClock.now - started
            logger.info("request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "duration_ms": "\(elapsed.components.seconds * 1_000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ])
        }
        let response = try await next(request, context)
        status = String(response.status.code)
        return response
    }
}
