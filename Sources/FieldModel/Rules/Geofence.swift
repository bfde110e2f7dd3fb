import Foundation
public import SyncCore

/// A point on the earth in integer micro-degrees (about 0.1 m of resolution).
public struct Coordinate: Hashable, Sendable {
    /// Latitude in millionths of a degree.
    public var latitudeE6: Int64
    /// Longitude in millionths of a degree.
    public var longitudeE6: Int64

    /// Creates a coordinate from micro-degrees.
    public init(latitudeE6: Int64, longitudeE6: Int64) {
        self.latitudeE6 = latitudeE6
        self.longitudeE6 = longitudeE6
    }

    /// A coordinate from two stored values, or `nil` unless both are present.
    public static func at(latitudeE6: Int64?, longitudeE6: Int64?) -> Coordinate? {
        guard let latitudeE6, let longitudeE6 else { return nil }
        return Coordinate(latitudeE6: latitudeE6, longitudeE6: longitudeE6)
    }

    /// Creates a coordinate from degrees, rounded to micro-degrees.
    public init(latitude: Double, longitude: Double) {
        self.init(latitudeE6: Int64((latitude * 1e6).rounded()), longitudeE6: Int64((longitude * 1e6).rounded()))
    }
}

/// DOMAIN.md §4.1–4.2: where a check-in happened relative to the store, judged as of device time.
public enum Geofence {
    /// How a check-in's place was judged.
    public enum Verification: String, Hashable, Sendable, CaseIterable {
        /// Within the radius plus the reported accuracy.
        case verified
        /// Farther: flagged for review, never blocked (GPS drifts 50–200 m between tall buildings).
        case outsideRadius = "outside_radius"
        /// The store has no location, or the fix has no usable accuracy: nothing to judge.
        case unverified
        /// Mock location, impossible travel, or the very coordinates of another store.
        case suspicious
    }

    /// The mean earth radius (IUGG), in meters.
    static let earthRadiusMeters = 6_371_008.8
    /// Reported accuracies worse than this make a fix unusable for verification.
    public static let accuracyMaxMeters = 2_000
    /// Faster than this between two check-ins is impossible in a city (meters per second, 300 km/h).
    public static let travelSpeedMax = 83.3

    /// The great-circle distance in meters (haversine).
    public static func distance(_ a: Coordinate, _ b: Coordinate) -> Double {
        let radians = Double.pi / 180 / 1e6
        let lat1 = Double(a.latitudeE6) * radians
        let lat2 = Double(b.latitudeE6) * radians
        let dLat = lat2 - lat1
        // Differences in Double: two device values far apart must not overflow Int64.
        let dLng = (Double(b.longitudeE6) - Double(a.longitudeE6)) * radians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLng / 2) * sin(dLng / 2)
        return 2 * earthRadiusMeters * asin(min(1, h.squareRoot()))
    }

    /// A distance in whole meters; a distance that is not finite (which checked coordinates never
    /// give) counts as the farthest possible.
    static func wholeMeters(_ meters: Double) -> Int {
        meters.isFinite ? Int(min(meters.rounded(), 40_075_017)) : 40_075_017
    }

    /// Radii by visit type, where a type needs its own (meters): deliveries stop at the loading
    /// dock, audits stay inside the store.
    public static let visitTypeRadius: [String: Int] = ["delivery": 300, "audit": 100, "merchandising": 150]

    /// The radius that applies: the customer's override, else the visit type's, else the tenant's.
    public static func radius(customer: Int?, visitType: Int?, tenant: Int) -> Int {
        customer ?? visitType ?? tenant
    }

    /// A fix reported by the phone.
    public struct Fix: Hashable, Sendable {
        /// Where.
        public var coordinate: Coordinate
        /// The reported accuracy in meters.
        public var accuracyMeters: Int
        /// The device time, in milliseconds since the Unix epoch.
        public var deviceTime: Int64
        /// The OS said the location was mocked.
        public var mockLocation: Bool

        /// Creates a fix.
        public init(coordinate: Coordinate, accuracyMeters: Int, deviceTime: Int64, mockLocation: Bool = false) {
            self.coordinate = coordinate
            self.accuracyMeters = accuracyMeters
            self.deviceTime = deviceTime
            self.mockLocation = mockLocation
        }
    }

    /// Judges a check-in.
    ///
    /// - Parameters:
    ///   - fix: The check-in's fix.
    ///   - store: The customer's location, if known.
    ///   - radiusMeters: From ``radius(customer:visitType:tenant:)``.
    ///   - previous: The same user's previous check-in elsewhere, to catch impossible travel.
    ///   - matchesAnotherStore: The fix has exactly the coordinates of another store's check-in.
    /// - Returns: The verification, the distance in whole meters (when the store has a location)
    ///   and the findings to record.
    public static func verify(
        _ fix: Fix, store: Coordinate?, radiusMeters: Int, previous: Fix? = nil, matchesAnotherStore: Bool = false
    ) -> (verification: Verification, distanceMeters: Int?, findings: [RuleFinding]) {
        let meters = store.map { Self.wholeMeters(Self.distance(fix.coordinate, $0)) }
        var reasons: [String] = []
        if fix.mockLocation { reasons.append("the device reported a mock location") }
        if matchesAnotherStore { reasons.append("the coordinates are identical to another store's check-in") }
        if let previous, fix.deviceTime > previous.deviceTime {
            let seconds = (Double(fix.deviceTime) - Double(previous.deviceTime)) / 1000
            let travelled = Self.distance(previous.coordinate, fix.coordinate)
            if travelled > 1_000, travelled / seconds > travelSpeedMax {
                reasons.append("travel from the previous check-in would need \(Int(travelled / seconds * 3.6)) km/h")
            }
        }
        // Every rule that fires is reported: a fix can be both suspicious and far from the store.
        var findings: [RuleFinding] = []
        if !reasons.isEmpty { findings.append(RuleFinding(.suspiciousLocation, reasons.joined(separator: "; "))) }
        guard let distance = meters, fix.accuracyMeters >= 0, fix.accuracyMeters <= accuracyMaxMeters else {
            return (findings.isEmpty ? .unverified : .suspicious, meters, findings)
        }
        if Int128(distance) > Int128(radiusMeters) + Int128(fix.accuracyMeters) {
            findings.append(RuleFinding(.outsideGeofence, "\(distance) m from the store; the radius is \(radiusMeters) m and the fix's accuracy \(fix.accuracyMeters) m"))
        }
        if !reasons.isEmpty { return (.suspicious, distance, findings) }
        return (findings.isEmpty ? .verified : .outsideRadius, distance, findings)
    }
}
