public import SyncCore

extension Role {
    /// A field sales rep: visits customers, checks in and out, takes orders, collects payments.
    public static let rep = Role("rep")
    /// A field service technician: works work orders, logs parts used from the van.
    public static let technician = Role("technician")
    /// Plans and assigns visits and work orders.
    public static let dispatcher = Role("dispatcher")
    /// Sees a subtree of reps; approves discounts and credit holds; owns customers' commercial terms.
    public static let manager = Role("manager")
    /// Administers the tenant.
    public static let admin = Role("admin")

    /// Every role, for matrices and checks.
    public static let all: [Role] = [.rep, .technician, .dispatcher, .manager, .admin]
}

extension WriteAccess {
    /// Reps and technicians: facts captured in the field.
    public static let fieldWorkers = WriteAccess(roles: [.rep, .technician])
    /// Reps only.
    public static let reps = WriteAccess(roles: [.rep])
    /// Technicians only.
    public static let technicians = WriteAccess(roles: [.technician])
    /// Dispatchers (and admins): plans, assignments, schedules.
    public static let dispatch = WriteAccess(roles: [.dispatcher, .admin])
    /// Reps and managers (and admins): what a rep or the office may both write (a quote).
    public static let sales = WriteAccess(roles: [.rep, .manager, .admin])
    /// Managers (and admins): commercial terms, approvals.
    public static let managers = WriteAccess(roles: [.manager, .admin])
    /// Dispatchers and managers (and admins): the office.
    public static let office = WriteAccess(roles: [.dispatcher, .manager, .admin])
    /// Anyone with a role.
    public static let everyone = WriteAccess(roles: Set(Role.all))
}
