import Hummingbird

/// The rate limit of the routes that carry no token (`/health`, `/ready`, `/metrics`): one
/// bucket shared by every caller, so a flood of health checks cannot keep the database busy.
/// Authenticated routes are limited per user by the routes themselves (``RateLimiter``).
struct AnonymousRateLimit<Context: RequestContext>: RouterMiddleware {
    let limiter: RateLimiter
    /// The paths it limits.
    static var paths: Set<String> { ["/health", "/ready", "/metrics"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.paths.contains(request.uri.path) else { return try await next(request, context) }
        if let wait = limiter.take(for: RateLimiter.anonymous) {
            return OfficeRoutes.rateLimited(wait)
        }
        return try await next(request, context)
    }
}
