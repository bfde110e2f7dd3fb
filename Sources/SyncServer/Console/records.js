// Lists and pages of records: orders and the manager's approvals, work orders, customers and
// contact records with the managers' comments, over the office API's lists and detail pages.
'use strict';

const orderStatuses = ['draft', 'submitted', 'pending_approval', 'credit_hold', 'rejected', 'confirmed', 'cancelled', 'released_to_erp', 'delivered', 'invoiced'];
const workOrderStatuses = ['new', 'scheduled', 'dispatched', 'en_route', 'on_site', 'on_hold', 'completed', 'cannot_complete', 'closed', 'cancelled'];

/** A filter select that keeps its value in `holder[key]` and redraws. */
function filterChoice(id, label, values, holder, key) {
  return el('label', {}, label + ' ', choice(id, [['', 'any']].concat(values.map((value) => [value, value.replace(/_/g, ' ')])), holder[key] || '', (value) => {
    holder[key] = value;
    refresh(true);
  }));
}

// MARK: - Orders

/** A manager's decision on an order, with its comment box. */
function decisionButtons(order, comment) {
  const decide = (decision) => async () => {
    if (await act(decision + ' the order', () => api('POST', '/v1/office/orders/' + order.id + '/' + decision, { comment: comment.value }))) refresh(true);
  };
  if (order.status === 'pending_approval') {
    return [el('button', { type: 'button', onclick: decide('approve') }, 'Approve'), el('button', { type: 'button', onclick: decide('reject') }, 'Reject')];
  }
  if (order.status === 'credit_hold') return [el('button', { type: 'button', onclick: decide('release') }, 'Release')];
  return [];
}

views.orders = async function ordersView() {
  const filter = state.orders || (state.orders = { status: '' });
  const [waiting, held] = await Promise.all([
    api('GET', '/v1/office/orders?status=pending_approval&limit=50'),
    api('GET', '/v1/office/orders?status=credit_hold&limit=50'),
  ]);
  const row = (order, decisions) => {
    const comment = el('input', { id: 'comment-' + order.id, placeholder: 'comment' });
    return el('tr', { dataset: { order: order.id } },
      el('td', {}, time(order.order_date)), el('td', {}, recordLink('customers', order.customer, order.customer_name)), el('td', {}, order.rep_name),
      el('td', {}, order.status), el('td', { class: 'number' }, money(order.total_minor, order.currency)),
      el('td', {}, el('a', { href: address('order', { id: order.id }) }, decisions ? 'Lines and exposure' : 'Open')),
      el('td', {}, decisions ? [comment].concat(decisionButtons(order, comment)) : ''));
  };
  const headings = ['Date', 'Customer', 'Rep', 'Status', 'Total', '', ''];
  const approvals = el('table', { id: 'approvals' }, el('tr', {}, headings.map((title) => el('th', {}, title))),
    waiting.orders.concat(held.orders).map((order) => row(order, true)));
  if (waiting.orders.length + held.orders.length === 0) approvals.append(el('tr', {}, el('td', { class: 'muted', colspan: 7 }, 'Nothing waits for a decision.')));
  const list = await pagedTable('orders', headings, async (after) => {
    const page = await api('GET', '/v1/office/orders' + query({ status: filter.status, limit: 50, after }));
    return { items: page.orders, next: page.next };
  }, (order) => row(order, false));
  return el('div', {},
    el('h1', {}, 'Waiting for a manager'), approvals,
    el('h1', {}, 'Orders'), el('div', { class: 'toolbar' }, filterChoice('order-status', 'Status', orderStatuses, filter, 'status')), list);
};

views.order = async function orderPage() {
  const detail = await api('GET', '/v1/office/orders/' + state.id);
  const order = detail.order, exposure = detail.exposure;
  const currency = order.currency;
  const comment = el('input', { id: 'decision-comment', placeholder: 'comment (kept in the audit)' });
  const over = exposure.available_minor !== null && exposure.available_minor < 0;
  return el('div', { id: 'order-page' },
    el('p', {}, el('a', { href: '#orders' }, '← Orders')),
    el('h1', {}, 'Order for ', recordLink('customers', order.customer, order.customer_name)),
    facts([['Status', order.status], ['Approval', order.approval_state], ['Credit', order.credit_state], ['Taken by', order.rep_name],
      ['Order date', time(order.order_date)], ['Prices', detail.tax_inclusive === null ? null : detail.tax_inclusive ? 'tax included' : 'before tax'],
      ['ERP reference', order.erp_reference]]),
    decisionButtons(order, comment).length ? el('div', { class: 'panel', id: 'decision' }, el('h2', {}, 'Decision'), el('form', { onsubmit: (event) => event.preventDefault() },
      comment, decisionButtons(order, comment))) : null,
    el('div', { class: 'panel' }, el('h2', {}, 'Lines'),
      el('table', { id: 'lines' },
        el('tr', {}, ['SKU', 'Product', 'Quantity', 'List price', 'Discount', 'Unit price', 'Tax', 'Line total'].map((title) => el('th', {}, title))),
        detail.lines.map((line) => el('tr', {},
          el('td', {}, line.sku || ''), el('td', {}, line.product_name || ''), el('td', { class: 'number' }, line.quantity),
          el('td', { class: 'number' }, money(line.list_price_minor)), el('td', { class: 'number' + (line.discount_bp > 0 ? ' flagged' : '') }, (line.discount_bp / 100).toFixed(2) + ' %'),
          el('td', { class: 'number' }, money(line.unit_price_minor)), el('td', { class: 'number' }, line.tax_rate_percent === null ? '—' : line.tax_rate_percent + ' %'),
          el('td', { class: 'number' }, money(line.line_total_minor)))),
        el('tr', { class: 'total' }, el('td', { colspan: 7 }, 'Subtotal · tax · total (the phone showed ' + money(detail.device_total_minor) + ')'),
          el('td', { class: 'number' }, money(detail.subtotal_minor), ' · ', money(order.tax_minor), ' · ', money(order.total_minor, currency))))),
    el('div', { class: 'panel' + (over ? ' over' : ''), id: 'exposure' }, el('h2', {}, 'Customer exposure'),
      facts([['Credit limit', exposure.limit_minor === null ? 'none' : money(exposure.limit_minor, currency)],
        ['Outstanding invoices', money(exposure.outstanding_minor, currency)],
        ['Other open orders', exposure.open_orders + ' · ' + money(exposure.open_orders_minor, currency)],
        ['This order', money(exposure.order_minor, currency)], ['Exposure', money(exposure.exposure_minor, currency)],
        ['Available', exposure.available_minor === null ? '—' : money(exposure.available_minor, currency)]]),
      over ? el('p', { class: 'late' }, 'Over the credit limit by ' + money(-exposure.available_minor, currency) + '.') : null),
    el('div', { class: 'panel' }, el('h2', {}, 'Payments'),
      detail.payments.length === 0 ? el('p', { class: 'muted' }, 'None collected.') : el('table', { id: 'payments' },
        el('tr', {}, ['Collected', 'By', 'Method', 'Receipt', 'Amount'].map((title) => el('th', {}, title))),
        detail.payments.map((payment) => el('tr', {}, el('td', {}, time(payment.collected_at)), el('td', {}, payment.collector_name || ''),
          el('td', {}, payment.method), el('td', {}, payment.receipt_number), el('td', { class: 'number' }, money(payment.amount_minor, payment.currency)))))),
    historyPanel(detail.history));
};

// MARK: - Work orders

views['work-orders'] = async function workOrdersView() {
  const filter = state.workOrders || (state.workOrders = { status: '', unassigned: '' });
  await loadTeam();
  const list = await pagedTable('work-orders', ['Window', 'Customer', 'Type', 'Priority', 'Status', 'Technician'], async (after) => {
    const page = await api('GET', '/v1/office/work-orders' + query({ status: filter.status, unassigned: filter.unassigned, limit: 50, after }));
    return { items: page.work_orders, next: page.next };
  }, (order) => el('tr', { dataset: { workOrder: order.id } },
    el('td', {}, time(order.window_start)), el('td', {}, recordLink('work_orders', order.id, order.customer_name)), el('td', {}, order.work_type),
    el('td', {}, order.priority), el('td', {}, order.status), el('td', {}, order.assignee_name || (order.assignee ? personName(order.assignee) : 'unassigned'))));
  return el('div', {},
    el('h1', {}, 'Work orders'),
    el('div', { class: 'toolbar' }, filterChoice('work-order-status', 'Status', workOrderStatuses, filter, 'status'),
      el('label', {}, el('input', { type: 'checkbox', id: 'unassigned', checked: filter.unassigned === 'true', onchange: (event) => {
        filter.unassigned = event.target.checked ? 'true' : '';
        refresh(true);
      } }), ' unassigned only')),
    list);
};

views['work-order'] = async function workOrderPage() {
  const [detail, team] = await Promise.all([api('GET', '/v1/office/work-orders/' + state.id), loadTeam()]);
  const order = detail.work_order;
  const open = !['completed', 'closed', 'cancelled', 'cannot_complete'].includes(order.status);
  return el('div', { id: 'work-order-page' },
    el('p', {}, el('a', { href: '#work-orders' }, '← Work orders')),
    el('h1', {}, order.work_type + ' at ', recordLink('customers', order.customer, order.customer_name)),
    facts([['Status', order.status], ['Priority', order.priority], ['Technician', order.assignee_name || 'unassigned'],
      ['Window', order.window_start ? time(order.window_start) + ' – ' + time(order.window_end) : 'not scheduled'],
      ['Appointment', order.scheduled_start ? time(order.scheduled_start) + ' – ' + time(order.scheduled_end) : null],
      ['Automatic dispatch', { auto: 'on for this work order', manual: 'off for this work order' }[order.dispatch_mode] || 'as the tenant is set'],
      ['Dispatch reason', order.dispatch_reason],
      ['Due', order.response_due_at ? 'technician by ' + time(order.response_due_at) + ', on site by ' + time(order.arrival_due_at) : null],
      ['Service level', order.service_level_breach ? order.service_level_breach + ' time breached' : null],
      ['Started', order.actual_start ? time(order.actual_start) : null], ['Ended', order.actual_end ? time(order.actual_end) : null],
      ['What to do', detail.description], ['Resolution', detail.resolution], ['Rating', detail.rating === null ? null : '★'.repeat(detail.rating) + ' (' + detail.rating + ' of 5)' + (detail.rating_comment ? ': “' + detail.rating_comment + '”' : '')],
      ['Signed', detail.signature ? 'yes' : null],
      ['Asset', detail.asset_serial ? detail.asset_serial + (detail.asset_model ? ' · ' + detail.asset_model : '') : null], ['Maintenance plan', detail.maintenance_plan]]),
    open ? el('div', { class: 'panel' }, el('h2', {}, 'Dispatch'), workOrderActions(order, order.assignee, team, () => refresh(true)),
      el('p', {}, 'Automatic dispatch: ', choice('dispatch-mode', [['', 'as the tenant is set'], ['auto', 'on'], ['manual', 'off']], order.dispatch_mode || '', async (value) => {
        if (await act('set automatic dispatch', () => api('POST', '/v1/office/work-orders/' + order.id + '/dispatch-mode', { mode: value || null }))) refresh(true);
      }))) : null,
    el('div', { class: 'panel' }, el('h2', {}, 'Parts used'),
      detail.parts.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('table', { id: 'parts' },
        el('tr', {}, ['Used', 'SKU', 'Product', 'Quantity', 'From'].map((title) => el('th', {}, title))),
        detail.parts.map((part) => el('tr', {}, el('td', {}, time(part.used_at)), el('td', {}, part.sku || ''), el('td', {}, part.product_name || ''),
          el('td', { class: 'number' }, part.quantity), el('td', {}, part.stock_location_name || ''))))),
    historyPanel(detail.history));
};

// MARK: - Customers

views.customers = async function customersView() {
  const search = el('input', { type: 'search', id: 'search', placeholder: 'name, phone, tax number, address', value: state.search || '' });
  const list = await pagedTable('customers', ['Name', 'Territory', 'Phone', 'Address', 'Status', 'Credit limit', 'Outstanding'], async (after) => {
    const page = await api('GET', '/v1/office/customers' + query({ search: state.search, limit: 100, after }));
    return { items: page.customers, next: page.next };
  }, (customer) => el('tr', { dataset: { customer: customer.id } },
    el('td', {}, recordLink('customers', customer.id, customer.name)), el('td', {}, customer.territory_name || ''), el('td', {}, customer.phone || ''),
    el('td', {}, [customer.street_address, customer.city].filter(Boolean).join(', ')), el('td', {}, customer.status || ''),
    el('td', { class: 'number' }, money(customer.credit_limit_minor)), el('td', { class: 'number' }, money(customer.outstanding_minor))));
  return el('div', {},
    el('form', { class: 'toolbar', onsubmit: (event) => { event.preventDefault(); state.search = search.value; refresh(true); } },
      search, el('button', { type: 'submit' }, 'Search')),
    list);
};

views.customer = async function customerPage() {
  const id = state.id;
  const [detail, orders, visits, records] = await Promise.all([
    api('GET', '/v1/office/customers/' + id),
    api('GET', '/v1/office/orders' + query({ customer: id, limit: 10 })),
    api('GET', '/v1/office/visits' + query({ customer: id, limit: 10 })),
    api('GET', '/v1/office/contact-records' + query({ customer: id, limit: 10 })),
  ]);
  const customer = detail.customer, exposure = detail.exposure;
  const place = detail.latitude_e6 === null ? null : (detail.latitude_e6 / 1e6).toFixed(5) + ', ' + (detail.longitude_e6 / 1e6).toFixed(5)
    + (detail.geofence_radius_m ? ' (geofence ' + detail.geofence_radius_m + ' m)' : '');
  return el('div', { id: 'customer-page' },
    el('p', {}, el('a', { href: '#customers' }, '← Customers')),
    el('h1', {}, customer.name),
    facts([['Status', customer.status], ['Territory', customer.territory_name], ['Group', customer.customer_group], ['Phone', customer.phone],
      ['Tax number', customer.tax_number], ['Address', [customer.street_address, detail.postal_code, customer.city].filter(Boolean).join(', ')], ['Location', place],
      ['Price list', detail.price_list_name], ['Payment terms', detail.payment_terms_days === null ? null : detail.payment_terms_days + ' days'],
      ['Merged into', detail.merged_into ? recordLink('customers', detail.merged_into) : null]]),
    el('div', { class: 'columns' },
      el('div', {},
        el('div', { class: 'panel' }, el('h2', {}, 'Latest orders'), orders.orders.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('table', {},
          orders.orders.map((order) => el('tr', {}, el('td', {}, recordLink('sales_orders', order.id, time(order.order_date))), el('td', {}, order.status),
            el('td', {}, order.rep_name), el('td', { class: 'number' }, money(order.total_minor, order.currency)))))),
        el('div', { class: 'panel' }, el('h2', {}, 'Latest visits'), visits.visits.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('table', {},
          visits.visits.map((visit) => el('tr', {}, el('td', {}, time(visit.planned_start)), el('td', {}, visit.status), el('td', {}, visit.visit_type),
            el('td', {}, visit.assignee_name || ''))))),
        el('div', { class: 'panel' }, el('h2', {}, 'Contact records'), records.contact_records.length === 0 ? el('p', { class: 'muted' }, 'None.') : null,
          records.contact_records.map(contactRecord)),
        historyPanel(detail.history)),
      el('div', {},
        el('div', { class: 'panel', id: 'exposure' }, el('h2', {}, 'Credit exposure'),
          facts([['Credit limit', exposure.limit_minor === null ? 'none' : money(exposure.limit_minor)], ['Outstanding', money(exposure.outstanding_minor)],
            ['Open orders', exposure.open_orders + ' · ' + money(exposure.open_orders_minor)], ['Available', exposure.available_minor === null ? '—' : money(exposure.available_minor)]])),
        el('div', { class: 'panel' }, el('h2', {}, 'Contacts'), detail.contacts.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('ul', {},
          detail.contacts.map((contact) => el('li', {}, contact.name, contact.title ? ' — ' + contact.title : '',
            [contact.phone, contact.email].filter(Boolean).length ? el('div', { class: 'muted' }, [contact.phone, contact.email].filter(Boolean).join(' · ')) : null)))))));
}

// MARK: - Contact records

/** A contact record with its managers' comments and a box to add one. */
function contactRecord(record) {
  const body = el('textarea', { rows: 2, cols: 60, placeholder: 'A comment for the rep', id: 'comment-body-' + record.id });
  return el('article', { class: 'contact-record', dataset: { contactRecord: record.id } },
    el('header', {}, el('strong', {}, record.author_name || 'someone'), ' · ', record.channel, ' · ', time(record.created_at), ' · ',
      recordLink('customers', record.customer, record.customer_name)),
    el('p', { class: 'notes' }, record.notes),
    record.next_action ? el('p', { class: 'muted' }, 'Next: ', record.next_action, record.next_action_at ? ' (' + time(record.next_action_at) + ')' : '') : null,
    el('ul', { class: 'comments' }, record.comments.map((comment) => el('li', {}, el('strong', {}, comment.author_name || 'manager'), ' · ', time(comment.created_at), ': ', comment.body))),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('comment on the contact record', () => api('POST', '/v1/office/contact-records/' + record.id + '/comments', { body: body.value }))) {
        body.value = '';
        refresh(true);
      }
    } }, body, el('button', { type: 'submit' }, 'Comment')));
}

views['contact-records'] = async function contactRecordsView() {
  let next = null;
  const list = el('div', { id: 'contact-records' });
  const more = el('button', { type: 'button', class: 'more', hidden: true }, 'More');
  const load = async () => {
    const page = await api('GET', '/v1/office/contact-records' + query({ limit: 25, after: next }));
    list.append(...page.contact_records.map(contactRecord));
    if (!next && page.contact_records.length === 0) list.append(el('p', { class: 'muted' }, 'No contact records.'));
    next = page.next;
    more.hidden = !next;
  };
  more.addEventListener('click', () => act('load more', load));
  await load();
  return el('div', {}, el('h1', {}, 'Contact records'), el('p', { class: 'muted' }, 'What reps wrote after talking with customers; a manager answers with guidance.'), list, more);
};
