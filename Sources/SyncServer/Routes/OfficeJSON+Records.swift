import Foundation
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// The office API's records as JSON: each shape written in one place, for its list and its detail page.
extension OfficeJSON {
    /// A sales order as the office lists it.
    static func order(_ order: SyncStore.OrderListItem) -> JSONValue {
        JSONValue.fields([("id", OfficeJSON.id(order.id)), ("customer", OfficeJSON.id(order.customer)), ("customer_name", .string(order.customerName)),
                          ("rep", OfficeJSON.id(order.rep)), ("rep_name", .string(order.repName)), ("order_date", OfficeJSON.time(order.orderDate)),
                          ("status", .string(order.status)), ("approval_state", .text(order.approvalState)), ("credit_state", .text(order.creditState)),
                          ("total_minor", OfficeJSON.integer(order.totalMinor)), ("tax_minor", OfficeJSON.integer(order.taxMinor)),
                          ("currency", .text(order.currency)), ("erp_reference", .text(order.erpReference))])
    }

    /// A work order as the office lists it.
    static func workOrder(_ order: SyncStore.WorkOrderListItem) -> JSONValue {
        JSONValue.fields([("id", OfficeJSON.id(order.id)), ("customer", OfficeJSON.id(order.customer)), ("customer_name", .string(order.customerName)),
                          ("assignee", OfficeJSON.id(order.assignee)), ("assignee_name", .text(order.assigneeName)),
                          ("work_type", .string(order.workType)), ("priority", .string(order.priority)), ("status", .string(order.status)),
                          ("window_start", OfficeJSON.time(order.windowStart)), ("window_end", OfficeJSON.time(order.windowEnd)),
                          ("actual_start", OfficeJSON.time(order.actualStart)), ("actual_end", OfficeJSON.time(order.actualEnd)),
                          ("asset", OfficeJSON.id(order.asset)), ("scheduled_start", OfficeJSON.time(order.scheduledStart)),
                          ("scheduled_end", OfficeJSON.time(order.scheduledEnd)), ("dispatch_mode", .text(order.dispatchMode)),
                          ("dispatch_reason", .text(order.dispatchReason)), ("response_due_at", OfficeJSON.time(order.responseDueAt)),
                          ("arrival_due_at", OfficeJSON.time(order.arrivalDueAt)), ("service_level_breach", .text(order.serviceLevelBreach))])
    }

    /// A customer as the office lists it.
    static func customer(_ customer: SyncStore.CustomerListItem) -> JSONValue {
        JSONValue.fields([("id", OfficeJSON.id(customer.id)), ("name", .string(customer.name)), ("territory", OfficeJSON.id(customer.territory)),
                          ("territory_name", .text(customer.territoryName)), ("phone", .text(customer.phone)),
                          ("street_address", .text(customer.streetAddress)), ("city", .text(customer.city)),
                          ("customer_group", .text(customer.customerGroup)), ("status", .text(customer.status)), ("tax_number", .text(customer.taxNumber)),
                          ("credit_limit_minor", OfficeJSON.integer(customer.creditLimitMinor)),
                          ("outstanding_minor", OfficeJSON.integer(customer.outstandingMinor))])
    }

    /// A payment as the office lists it.
    static func payment(_ payment: SyncStore.PaymentListItem) -> JSONValue {
        JSONValue.fields([("id", OfficeJSON.id(payment.id)), ("order", OfficeJSON.id(payment.order)), ("customer", OfficeJSON.id(payment.customer)),
                          ("customer_name", .text(payment.customerName)), ("amount_minor", .integer(payment.amountMinor)),
                          ("currency", .text(payment.currency)), ("method", .string(payment.method)), ("receipt_number", .string(payment.receiptNumber)),
                          ("collected_by", OfficeJSON.id(payment.collectedBy)), ("collector_name", .text(payment.collectorName)),
                          ("collected_at", OfficeJSON.time(payment.collectedAt))])
    }
}
