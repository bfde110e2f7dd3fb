/// How big each benchmark is: the sizes, or tiny ones for `--quick`.
struct Scale: Sendable {
    /// `full` or `quick`.
    var name: String
    /// Customers in the rep's territory (the demo set has 200).
    var customers: Int
    /// Products in the catalogue, each with a price in the standard list (the demo set has 2,000 and two lists).
    var products: Int
    /// Weeks of the rep's visits (20 a day, five days a week).
    var weeks: Int
    /// The rep's past orders, and lines per order.
    var orders: Int, linesPerOrder: Int
    /// Visits worked for each of the two change mixes.
    var mixVisits: Int
    /// Round trips timed per pending count.
    var roundTrips: Int
    /// Device counts tried for the capacity, smallest first.
    var capacitySteps: [Int]
    /// How often each simulated device syncs, in seconds.
    var syncPeriod: Double
    /// How many times the in-memory merge runs over the mix.
    var kernelRepeats: Int
    /// Phones in the evening rush, the seconds over which they come back, and the visits of each one's day.
    var rushPhones: Int, rushWindow: Double, rushVisits: Int
    /// Visits a working day in the rep's year of the phone-window figure.
    var yearVisitsPerDay: Int
    /// Technicians and open work orders automatic dispatch plans.
    var dispatchTechnicians = 100, dispatchWorkOrders = 1_000
    /// Products and customers in the master-data files imported.
    var importProducts = 100_000, importCustomers = 20_000

    /// The sizes: a rep of about 50,000 rows, capacity up to 20,000 devices, an evening
    /// rush of 2,000 phones within ten minutes.
    static let full = Scale(name: "full", customers: 300, products: 20_000, weeks: 4, orders: 2_000, linesPerOrder: 10, mixVisits: 150,
                            roundTrips: 200, capacitySteps: [500, 1_000, 2_500, 5_000, 10_000, 12_500, 15_000, 20_000], syncPeriod: 30, kernelRepeats: 20,
                            rushPhones: 2_000, rushWindow: 600, rushVisits: 10, yearVisitsPerDay: 20)
    /// Tiny sizes, to prove the suite runs.
    static let quick = Scale(name: "quick", customers: 200, products: 300, weeks: 1, orders: 40, linesPerOrder: 3, mixVisits: 6,
                             roundTrips: 5, capacitySteps: [40], syncPeriod: 2, kernelRepeats: 2,
                             rushPhones: 20, rushWindow: 5, rushVisits: 2, yearVisitsPerDay: 2,
                             dispatchTechnicians: 5, dispatchWorkOrders: 20, importProducts: 200, importCustomers: 50)
}
