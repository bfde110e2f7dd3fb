import SyncCore

/// Makes the demo data set: one field-sales tenant in Manhattan, the same bytes for the same seed.
///
/// What it holds (DOMAIN.md §1): 1 tenant; 3 territories (downtown from 14th Street, midtown, uptown); 6 reps (two
/// per territory), 2 technicians, 2 dispatchers and 1 manager over them; 600 customers placed on
/// Manhattan's street grid (streets run 29° east of north, about 80 m apart; avenues about 280 m
/// apart); 2,000 products; a tax-exclusive and a tax-inclusive price list with an entry for every
/// product; two weeks of weekly visit plans (each rep visits each of their 100 customers once a
/// week, 20 a day in route order); 100 assets at customers and 40 work orders on them.
///
/// Every number is an integer or decimal text: coordinates are computed in integer
/// micro-degrees and money in cents, so no floating-point rounding can differ between machines.
public struct DemoGenerator: Sendable {
    /// The seed of the committed `Fixtures/demo/` set.
    public static let committedSeed: UInt64 = 20_261_130

    /// The seed that fixes every random choice.
    public var seed: UInt64
    /// The Monday the two planned weeks start on (year, month, day), in the tenant's time zone.
    public var firstMonday = CivilDate(year: 2026, month: 11, day: 30)

    /// Creates a generator.
    public init(seed: UInt64 = DemoGenerator.committedSeed) {
        self.seed = seed
    }

    /// Makes the data set.
    public func generate() -> DemoDataSet {
        var state = State(seed: seed, epochMilliseconds: firstMonday.adding(days: -30).epochSeconds * 1000)
        state.organisation()
        state.catalogue()
        state.customers()
        state.visits(firstMonday: firstMonday)
        state.fieldService(firstMonday: firstMonday)
        return DemoDataSet(tables: state.tables)
    }
}

/// A calendar date without a time zone.
public struct CivilDate: Sendable, Hashable {
    /// The year, month (1–12) and day (1–31).
    public var year: Int, month: Int, day: Int

    /// Creates a date.
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` later (or earlier, when negative).
    public func adding(days: Int) -> CivilDate {
        let z = daysSinceEpoch + days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return CivilDate(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    /// Seconds since the Unix epoch at midnight UTC of this date.
    public var epochSeconds: UInt64 { UInt64(daysSinceEpoch * 86_400) }

    /// `YYYY-MM-DD`.
    public var text: String { "\(year)-\(Self.pad(month))-\(Self.pad(day))" }

    /// An RFC 3339 UTC timestamp for `minutes` after local midnight at `utcOffsetMinutes`.
    func timestamp(localMinutes minutes: Int, utcOffsetMinutes: Int) -> String {
        let total = daysSinceEpoch * 1440 + minutes - utcOffsetMinutes
        let date = CivilDate(year: 1970, month: 1, day: 1).adding(days: total.floorDivided(by: 1440))
        let inDay = total - total.floorDivided(by: 1440) * 1440
        return "\(date.text)T\(Self.pad(inDay / 60)):\(Self.pad(inDay % 60)):00Z"
    }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        self >= 0 ? self / divisor : -((-self + divisor - 1) / divisor)
    }
}

/// The generator's working state: the random stream, the id clock and the tables so far.
private struct State {
    var random: SplitMix64
    var idMilliseconds: UInt64
    var tables: [DemoDataSet.Table] = []

    var tenant: RecordID!
    var territories: [RecordID] = []
    var reps: [RecordID] = []
    var technicians: [RecordID] = []
    var repNames: [String] = []
    /// Customers per territory, with their street number (for route order).
    var customersByTerritory: [[(id: RecordID, street: Int, avenue: Int)]] = [[], [], []]
    var allCustomers: [RecordID] = []
    var priceLists: (standard: RecordID, keyAccounts: RecordID)!

    /// New York in winter: UTC−5 (the two planned weeks fall in December).
    let utcOffsetMinutes = -300

    init(seed: UInt64, epochMilliseconds: UInt64) {
        random = SplitMix64(seed: seed)
        idMilliseconds = epochMilliseconds
    }

    mutating func id() -> RecordID {
        idMilliseconds += 1 + random.next() % 3
        return RecordID.make(milliseconds: idMilliseconds, using: &random)
    }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func number(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { number(0...99) < percent }

    mutating func organisation() {
        tenant = id()
        tables.append(DemoDataSet.Table(
            name: "tenants", columns: ["id", "name", "time_zone", "currency", "geofence_radius_m"],
            rows: [[tenant.uuidString, "Hudson Beverage Distributors", "America/New_York", "USD", "200"]]))

        var users = DemoDataSet.Table(name: "users", columns: ["id", "tenant_id", "role", "name", "email", "phone", "manager_id"])
        let manager = id()
        addUser(manager, "manager", "Dana Whitfield", manager: nil, to: &users)
        for name in ["Marcus Bell", "Priya Raman"] { addUser(id(), "dispatcher", name, manager: manager, to: &users) }
        repNames = ["Luis Ortega", "Hannah Kim", "Tomasz Nowak", "Aisha Bello", "Ryan O'Connor", "Mei Chen"]
        for name in repNames {
            let rep = id()
            reps.append(rep)
            addUser(rep, "rep", name, manager: manager, to: &users)
        }
        for name in ["Samir Haddad", "Grace Liu"] {
            let technician = id()
            technicians.append(technician)
            addUser(technician, "technician", name, manager: manager, to: &users)
        }
        tables.append(users)

        var territoryTable = DemoDataSet.Table(name: "territories", columns: ["id", "tenant_id", "name"])
        for name in ["Downtown (streets 14–42)", "Midtown (streets 43–86)", "Uptown (streets 87–130)"] {
            let territory = id()
            territories.append(territory)
            territoryTable.append([territory.uuidString, tenant.uuidString, name])
        }
        tables.append(territoryTable)

        var owners = DemoDataSet.Table(name: "territory_owners", columns: ["territory_id", "user_id", "valid_from", "valid_to"])
        for (index, rep) in reps.enumerated() {
            owners.append([territories[index / 2].uuidString, rep.uuidString, "2026-01-01T05:00:00Z", nil])
        }
        tables.append(owners)
    }

    mutating func addUser(_ user: RecordID, _ role: String, _ name: String, manager: RecordID?, to users: inout DemoDataSet.Table) {
        let email = name.lowercased().replacingSpaces(with: ".") + "@demo.fieldsync.example"
        let phone = "+1-212-555-\(1000 + number(0...8999))"
        users.append([user.uuidString, tenant.uuidString, role, name, email, phone, manager?.uuidString])
    }

    mutating func customers() {
        var table = DemoDataSet.Table(name: "customers", columns: [
            "id", "tenant_id", "territory_id", "name", "normalized_name", "phone", "tax_number", "street_address", "city",
            "postal_code", "latitude", "longitude", "geofence_radius_m", "customer_group", "price_list_id",
            "credit_limit_minor", "payment_terms_days", "status",
        ])
        let surnames = ["Rossi", "Kim", "Patel", "Garcia", "Cohen", "Nguyen", "O'Brien", "Santos", "Lee", "Murphy", "Haddad",
                        "Novak", "Okafor", "Russo", "Chen", "Levy", "Morales", "Park", "Ivanova", "Walsh", "Diaz", "Singh",
                        "Greco", "Adeyemi", "Friedman", "Costa", "Yamamoto", "Kowalski", "Reyes", "Byrne"]
        let kinds = ["Deli", "Market", "Pharmacy", "Grocery", "Bodega", "Wine & Spirits", "Newsstand", "Café", "Bakery", "Corner Store"]
        let streetRanges = [14...42, 43...86, 87...130]  // the regular grid starts at 14th Street
        // 5th Avenue at 14th Street, and the grid's steps in micro-degrees: one street north-east
        // along an avenue, one avenue north-west across town.
        let streetStep = (lat: 629, lng: 460)
        let avenueStep = (lat: 1219, lng: -2904)
        let origin = (lat: 40_735_900 - 14 * streetStep.lat, lng: -73_994_000 - 14 * streetStep.lng)
        var usedNames = Set<String>()

        for territory in 0..<3 {
            for _ in 0..<200 {
                let customer = id()
                let street = number(streetRanges[territory])
                let avenue = number(1...10)  // between avenue `avenue` and `avenue + 1`
                let along = number(5...95)  // percent of the block from `avenue`
                let westward = (avenue - 5) * 100 + along  // hundredths of an avenue west of 5th
                let latitude = origin.lat + street * streetStep.lat + westward * avenueStep.lat / 100 + number(-12...12)
                let longitude = origin.lng + street * streetStep.lng + westward * avenueStep.lng / 100 + number(-12...12)
                var name = "\(pick(surnames)) \(pick(kinds))"
                if usedNames.contains(name) { name += " #\(street)" }
                usedNames.insert(name)
                let side = westward >= 0 ? "W" : "E"
                let house = max(1, abs(westward) + number(0...9))
                let keyAccount = chance(20)
                table.append([
                    customer.uuidString, tenant.uuidString, territories[territory].uuidString, name, Self.normalize(name),
                    "+1-212-555-\(1000 + number(0...8999))", "\(number(10...99))-\(number(1_000_000...9_999_999))",
                    "\(house) \(side) \(Self.ordinal(street)) St", "New York", "\(10001 + (street * 7 + avenue) % 39)",
                    Self.degrees(latitude), Self.degrees(longitude), chance(10) ? "150" : nil,
                    keyAccount ? "key_account" : "retail", (keyAccount ? priceLists.keyAccounts : priceLists.standard).uuidString,
                    "\(number(10...100) * 50_000)", "\(pick([0, 15, 30, 45]))", chance(95) ? "active" : "unverified",
                ])
                customersByTerritory[territory].append((customer, street, avenue))
                allCustomers.append(customer)
            }
        }
        tables.append(table)
    }

    mutating func catalogue() {
        var products = DemoDataSet.Table(name: "products", columns: ["id", "tenant_id", "sku", "name", "category", "unit", "tax_rate_percent", "active"])
        let categories: [(name: String, items: [String], sizes: [String], taxable: Bool, cents: ClosedRange<Int>)] = [
            ("beverages", ["Sparkling Water", "Cola", "Iced Tea", "Orange Juice", "Cold Brew", "Lemonade", "Ginger Ale", "Energy Drink", "Coconut Water", "Root Beer"],
             ["330 ml can", "500 ml bottle", "1 l bottle", "case of 12 cans", "case of 24 bottles"], true, 99...4_999),
            ("snacks", ["Potato Chips", "Pretzels", "Trail Mix", "Granola Bar", "Popcorn", "Tortilla Chips", "Peanuts", "Rice Cakes", "Beef Jerky", "Cheese Crackers"],
             ["single", "family pack", "box of 12", "case of 24", "display of 48"], true, 129...6_999),
            ("dairy", ["Whole Milk", "Greek Yogurt", "Butter", "Cheddar", "Cream Cheese", "Oat Milk", "Kefir", "Mozzarella", "Sour Cream", "Half & Half"],
             ["small", "medium", "large", "case of 6", "case of 12"], false, 149...5_999),
            ("household", ["Dish Soap", "Paper Towels", "Trash Bags", "Sponges", "Laundry Pods", "Glass Cleaner", "Foil", "Batteries AA", "Light Bulbs", "Matches"],
             ["each", "pack of 3", "pack of 6", "case of 12", "case of 24"], true, 199...8_999),
            ("personal_care", ["Toothpaste", "Shampoo", "Hand Soap", "Deodorant", "Razors", "Sunscreen", "Lip Balm", "Tissues", "Cotton Swabs", "Mouthwash"],
             ["travel", "regular", "value", "pack of 6", "case of 12"], true, 149...7_999),
        ]
        let brands = ["Hudson", "Liberty", "Empire", "Harbor", "Brooklyn Basics", "Greenpoint", "Lenox", "Astoria"]
        var basePrices: [(RecordID, Int, Int)] = []  // id, cents, tax in thousandths of a percent
        for index in 0..<2_000 {
            let category = categories[index % 5]
            let brand = brands[(index / 5) % 8]
            let item = category.items[(index / 40) % 10]
            let size = category.sizes[(index / 400) % 5]
            let product = id()
            let cents = number(category.cents) / 5 * 5 + 4  // prices end in 4 or 9
            let taxMilli = category.taxable ? 8_875 : 0
            products.append([
                product.uuidString, tenant.uuidString, "HBD-\(10_000 + index)", "\(brand) \(item), \(size)", category.name,
                size, category.taxable ? "8.875" : "0", index % 97 == 0 ? "false" : "true",
            ])
            basePrices.append((product, cents, taxMilli))
        }
        tables.append(products)

        let standard = id()
        let keyAccounts = id()
        tables.append(DemoDataSet.Table(
            name: "price_lists", columns: ["id", "tenant_id", "name", "currency", "tax_inclusive", "customer_group", "valid_from"],
            rows: [
                [standard.uuidString, tenant.uuidString, "Standard retail (net of tax)", "USD", "false", "retail", "2026-01-01"],
                [keyAccounts.uuidString, tenant.uuidString, "Key accounts (tax included)", "USD", "true", "key_account", "2026-01-01"],
            ]))
        var entries = DemoDataSet.Table(name: "price_list_entries", columns: ["price_list_id", "product_id", "unit_price_minor"])
        for (product, cents, _) in basePrices {
            entries.append([standard.uuidString, product.uuidString, "\(cents)"])
        }
        for (product, cents, taxMilli) in basePrices {
            // Gross of tax, 5% below list: cents × (1 + tax) × 0.95, rounded half up.
            let gross = (cents * (100_000 + taxMilli) * 95 + 5_000_000) / 10_000_000
            entries.append([keyAccounts.uuidString, product.uuidString, "\(gross)"])
        }
        tables.append(entries)
        priceLists = (standard, keyAccounts)
    }

    mutating func visits(firstMonday: CivilDate) {
        var plans = DemoDataSet.Table(name: "visit_plans", columns: ["id", "tenant_id", "rep_id", "name", "period_start", "period_end"])
        var visits = DemoDataSet.Table(name: "visits", columns: [
            "id", "tenant_id", "plan_id", "customer_id", "assignee_id", "visit_type", "sequence", "planned_start", "planned_end",
            "instructions", "status", "creation_mode",
        ])
        let instructions = ["Check the cooler temperature log.", "Count shelf stock of the beverage aisle.",
                            "Collect the open invoice.", "Photograph the end-cap display.", "Introduce the winter promotion."]
        for week in 0..<2 {
            let monday = firstMonday.adding(days: week * 7)
            for (index, rep) in reps.enumerated() {
                let plan = id()
                plans.append([plan.uuidString, tenant.uuidString, rep.uuidString, "Week of \(monday.text) — \(repNames[index])",
                              monday.text, monday.adding(days: 4).text])
                // Two reps share a territory: each takes every other customer.
                let mine = customersByTerritory[index / 2].enumerated().filter { $0.offset % 2 == index % 2 }.map(\.element)
                for weekday in 0..<5 {
                    // A day's customers in route order: street by street, zig-zagging across avenues.
                    let today = mine.enumerated().filter { $0.offset % 5 == weekday }.map(\.element)
                        .sorted { ($0.street, $0.street % 2 == 0 ? $0.avenue : -$0.avenue) < ($1.street, $1.street % 2 == 0 ? $1.avenue : -$1.avenue) }
                    let day = monday.adding(days: weekday)
                    for (sequence, customer) in today.enumerated() {
                        let start = 8 * 60 + 30 + sequence * 22
                        let type = sequence % 7 == 3 ? "audit" : sequence % 11 == 5 ? "collection" : "routine"
                        visits.append([
                            id().uuidString, tenant.uuidString, plan.uuidString, customer.id.uuidString, rep.uuidString, type,
                            "\(sequence + 1)", day.timestamp(localMinutes: start, utcOffsetMinutes: utcOffsetMinutes),
                            day.timestamp(localMinutes: start + 20, utcOffsetMinutes: utcOffsetMinutes),
                            chance(15) ? pick(instructions) : nil, "planned", "planned",
                        ])
                    }
                }
            }
        }
        tables.append(plans)
        tables.append(visits)
    }

    mutating func fieldService(firstMonday: CivilDate) {
        var assets = DemoDataSet.Table(name: "assets", columns: ["id", "tenant_id", "customer_id", "serial", "model", "maintenance_plan"])
        var assetIDs: [(RecordID, RecordID)] = []
        for _ in 0..<100 {
            let asset = id()
            let customer = pick(allCustomers)
            let serial = "SN-" + String(random.next() % 0xFFFF_FFFF, radix: 16, uppercase: true)
            assets.append([asset.uuidString, tenant.uuidString, customer.uuidString, serial,
                           pick(["Beverage cooler BC-400", "Coffee machine CM-2", "Ice maker IM-90", "Display freezer DF-7", "Convection oven CO-3"]),
                           pick(["quarterly", "semiannual", "annual"])])
            assetIDs.append((asset, customer))
        }
        tables.append(assets)

        var orders = DemoDataSet.Table(name: "work_orders", columns: [
            "id", "tenant_id", "customer_id", "asset_id", "work_type", "priority", "description", "window_start", "window_end",
            "assignee_id", "status",
        ])
        let descriptions = [
            "repair": ["Not cooling below 8 °C.", "Leaking water at the base.", "Display lights flicker.", "Door seal torn.", "Error code E4 on start."],
            "maintenance": ["Scheduled preventive maintenance.", "Clean the condenser and replace the filter."],
            "installation": ["Install the new unit and remove the old one.", "Install a second unit beside the counter."],
            "inspection": ["Annual safety inspection.", "Check the unit after the customer's complaint."],
        ]
        for index in 0..<40 {
            let (asset, customer) = assetIDs[number(0...99)]
            let day = firstMonday.adding(days: (index % 10) / 5 * 7 + index % 5)
            let start = pick([8 * 60, 10 * 60, 13 * 60, 15 * 60])
            let scheduled = index < 30
            let workType = pick(["repair", "repair", "maintenance", "installation", "inspection"])
            orders.append([
                id().uuidString, tenant.uuidString, customer.uuidString, asset.uuidString,
                workType, pick(["low", "normal", "normal", "high", "urgent"]), pick(descriptions[workType]!), day.timestamp(localMinutes: start, utcOffsetMinutes: utcOffsetMinutes),
                day.timestamp(localMinutes: start + pick([120, 240]), utcOffsetMinutes: utcOffsetMinutes),
                scheduled ? technicians[index % 2].uuidString : nil, scheduled ? "scheduled" : "new",
            ])
        }
        tables.append(orders)
    }

    static func normalize(_ name: String) -> String {
        let folded = name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : " " }
        return String(folded).split(separator: " ").joined(separator: " ")
    }

    static func ordinal(_ number: Int) -> String {
        let suffix = (11...13).contains(number % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][number % 10] ?? "th"
        return "\(number)\(suffix)"
    }

    /// Micro-degrees as decimal degrees with six places.
    static func degrees(_ micro: Int) -> String {
        let sign = micro < 0 ? "-" : ""
        let magnitude = abs(micro)
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}

extension String {
    fileprivate func replacingSpaces(with separator: String) -> String {
        split(separator: " ").joined(separator: separator).filter { $0 != "'" }
    }
}
