// The dispatcher's board (a day or a week per person, visits and work orders on a timeline) and
// the map of the day (stores, geofences, check-ins), over GET /v1/office/board and /map.
'use strict';

const dayLength = 86400000;

/** The time of an ISO string as a value for a datetime-local input, in the browser's zone. */
function localInput(iso) {
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

/** The day and week toolbar shared by the board and the map. */
function periodToolbar(name, extra) {
  const dayStart = Date.parse(state.day + 'T00:00:00Z');
  const go = (day, days) => { location.hash = address(name, { day, days: days > 1 ? days : undefined, user: state.user || undefined }); };
  const shift = (count) => go(new Date(dayStart + count * state.days * dayLength).toISOString().slice(0, 10), state.days);
  return el('div', { class: 'toolbar' },
    el('button', { type: 'button', onclick: () => shift(-1), title: 'Earlier' }, '◀'),
    el('input', { type: 'date', id: 'day', value: state.day, onchange: (event) => go(event.target.value, state.days) }),
    el('button', { type: 'button', onclick: () => shift(1), title: 'Later' }, '▶'),
    choice('days', [['1', 'Day'], ['7', 'Week']], String(state.days), (value) => go(state.day, Number(value))),
    extra,
    el('span', { class: 'muted' }, 'Days in UTC; times in your time zone. Updates as phones sync.'));
}

// MARK: - The board

views.board = async function boardView() {
  const [rows, team, queue] = await Promise.all([
    api('GET', '/v1/office/board' + query({ day: state.day, days: state.days })),
    loadTeam(),
    api('GET', '/v1/office/work-orders?unassigned=true&limit=50'),
  ]);
  const dayStart = Date.parse(state.day + 'T00:00:00Z');
  const span = state.days * dayLength;
  const position = (iso) => Math.max(0, Math.min(100, (Date.parse(iso) - dayStart) / span * 100));
  const grid = el('div', { class: 'board', id: 'board' });
  const scale = el('div', { class: 'hours' });
  if (state.days === 1) {
    for (let hour = 0; hour < 24; hour += 3) {
      scale.append(el('span', { style: { left: (hour / 24 * 100) + '%' } }, new Date(dayStart + hour * 3600000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
    }
  } else {
    for (let day = 0; day < state.days; day += 1) {
      const date = new Date(dayStart + day * dayLength);
      scale.append(el('span', { class: 'day', style: { left: (day / state.days * 100) + '%' } },
        date.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' })));
    }
  }
  grid.append(el('div', { class: 'person muted' }, 'Person'), scale);
  if (rows.length === 0) grid.append(el('div', { class: 'person muted' }, 'Nothing planned in this period.'), el('div', { class: 'lane' }));
  const block = (kind, item, start, end, label, status, late, select) => {
    const left = position(start);
    const width = Math.max(state.days === 1 ? 1 : 0.6, position(end || start) - left);
    return el('button', {
      type: 'button', class: kind + ' ' + status, style: { left: left + '%', width: width + '%' },
      title: label + ' — ' + status + (late > 0 ? ', ' + late + ' min late' : ''), dataset: item, onclick: select,
    }, label, ' · ', status, late > 0 ? el('span', { class: 'late' }, ' +' + late + ' min') : null);
  };
  for (const row of rows) {
    const counts = Object.entries(row.counts).map(([status, count]) => count + ' ' + status).join(', ');
    const lane = el('div', { class: 'lane', dataset: { user: row.user } });
    if (state.days > 1) for (let day = 1; day < state.days; day += 1) lane.append(el('span', { class: 'day-line', style: { left: (day / state.days * 100) + '%' } }));
    for (const visit of row.visits) {
      lane.append(block('visit', { visit: visit.visit }, visit.planned_start, visit.planned_end, visit.customer_name, visit.status, visit.late_minutes,
        () => { state.selected = { kind: 'visit', id: visit.visit }; refresh(true); }));
    }
    for (const order of row.work_orders) {
      lane.append(block('work-order', { workOrder: order.work_order }, order.window_start, order.window_end, '🔧 ' + order.customer_name, order.status, order.late_minutes,
        () => { state.selected = { kind: 'work-order', id: order.work_order }; refresh(true); }));
    }
    grid.append(el('div', { class: 'person' },
      el('div', {}, el('a', { href: address('people', { user: row.user, day: state.day, days: state.days > 1 ? state.days : undefined }) }, row.name)),
      el('div', { class: 'muted' }, [row.role, counts].filter(Boolean).join(' · '))), lane);
  }
  let panel = null;
  if (state.selected && state.selected.kind === 'visit') {
    const found = rows.flatMap((row) => row.visits.map((visit) => ({ visit, row }))).find((entry) => entry.visit.visit === state.selected.id);
    if (found) panel = visitPanel(found.visit, found.row, team);
  } else if (state.selected && state.selected.kind === 'work-order') {
    const found = rows.flatMap((row) => row.work_orders.map((order) => ({ order, row }))).find((entry) => entry.order.work_order === state.selected.id);
    if (found) panel = workOrderPanel(found.order, found.row.user, team);
  }
  return el('div', {},
    periodToolbar('board', el('a', { href: address('map', { day: state.day, days: state.days > 1 ? state.days : undefined }) }, 'Map of this period')),
    el('div', { class: 'columns' }, el('div', {}, grid, panel), queuePanel(queue.work_orders, team)));
};

function visitPanel(visit, row, team) {
  const assignee = el('select', { id: 'assignee' }, fieldWorkers(team, 'rep').concat(fieldWorkers(team, 'technician')).map((member) =>
    el('option', { value: member.user, selected: member.user === row.user }, member.name + ' (' + member.role + ')')));
  const start = el('input', { type: 'datetime-local', id: 'planned-start', value: localInput(visit.planned_start) });
  const end = el('input', { type: 'datetime-local', id: 'planned-end', value: localInput(visit.planned_end || visit.planned_start) });
  const path = '/v1/office/visits/' + visit.visit;
  return el('div', { class: 'panel', id: 'visit-panel' },
    el('h2', {}, recordLink('customers', visit.customer, visit.customer_name)),
    el('p', {}, 'Visit ', el('strong', {}, visit.status), ' · planned ', time(visit.planned_start), '–', time(visit.planned_end),
      visit.actual_start ? ' · started ' + time(visit.actual_start) : '', visit.late_minutes > 0 ? el('span', { class: 'late' }, ' · ' + visit.late_minutes + ' min late') : '',
      visit.executed_by ? ' · worked by ' + personName(visit.executed_by) : ''),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('reassign the visit', () => api('POST', path + '/assign', { assignee_id: assignee.value }))) refresh(true);
    } }, el('label', { for: 'assignee' }, 'Assign to'), assignee, el('button', { type: 'submit', id: 'reassign' }, 'Reassign')),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      const body = { planned_start: new Date(start.value).toISOString(), planned_end: new Date(end.value).toISOString() };
      if (await act('reschedule the visit', () => api('POST', path + '/reschedule', body))) refresh(true);
    } }, el('label', {}, 'Planned'), start, end, el('button', { type: 'submit' }, 'Reschedule')),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('cancel the visit', () => api('POST', path + '/cancel', {}))) { state.selected = null; refresh(true); }
    } }, el('button', { type: 'submit' }, 'Cancel the visit')));
}

/** A work order's actions: reassign, move its window, hold or cancel; its page for the rest. */
function workOrderActions(order, assignee, team, done) {
  const technicians = fieldWorkers(team, 'technician');
  const who = el('select', { id: 'technician' }, technicians.map((member) => el('option', { value: member.user, selected: member.user === assignee }, member.name)));
  const start = el('input', { type: 'datetime-local', id: 'window-start', value: order.window_start ? localInput(order.window_start) : '' });
  const end = el('input', { type: 'datetime-local', id: 'window-end', value: order.window_end ? localInput(order.window_end) : '' });
  const path = '/v1/office/work-orders/' + (order.work_order || order.id);
  const move = (action, what) => el('button', { type: 'button', onclick: async () => { if (await act(what, () => api('POST', path + '/' + action, {}))) done(); } }, what[0].toUpperCase() + what.slice(1));
  return [
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('assign the work order', () => api('POST', path + '/assign', { assignee_id: who.value }))) done();
    } }, el('label', { for: 'technician' }, 'Technician'), who, el('button', { type: 'submit', id: 'assign-work-order' }, assignee ? 'Reassign' : 'Assign')),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (!start.value || !end.value) { notice('Give the window a start and an end.'); return; }
      const body = { window_start: new Date(start.value).toISOString(), window_end: new Date(end.value).toISOString() };
      if (await act('schedule the work order', () => api('POST', path + '/schedule', body))) done();
    } }, el('label', {}, 'Window'), start, end, el('button', { type: 'submit' }, 'Schedule')),
    el('div', { class: 'actions' }, move('hold', 'hold'), move('cancel', 'cancel the work order')),
  ];
}

function workOrderPanel(order, assignee, team) {
  return el('div', { class: 'panel', id: 'work-order-panel' },
    el('h2', {}, recordLink('work_orders', order.work_order, order.work_type + ' at ' + order.customer_name)),
    el('p', {}, 'Work order ', el('strong', {}, order.status), ' · ', order.priority, ' · window ', time(order.window_start), '–', time(order.window_end),
      order.actual_start ? ' · started ' + time(order.actual_start) : '', order.late_minutes > 0 ? el('span', { class: 'late' }, ' · ' + order.late_minutes + ' min late') : '',
      order.service_level_breach ? el('span', { class: 'late' }, ' · ' + order.service_level_breach + ' time breached') : ''),
    workOrderActions(order, assignee, team, () => refresh(true)));
}

function queuePanel(workOrders, team) {
  const technicians = fieldWorkers(team, 'technician');
  const dispatchAll = el('button', { type: 'button', id: 'dispatch-queue', onclick: async () => {
    let answer = null;
    if (!await act('dispatch the queue', async () => { answer = await api('POST', '/v1/office/dispatch/run', { work_orders: workOrders.map((order) => order.id) }); })) return;
    const assigned = answer.decisions.filter((decision) => decision.outcome === 'assigned').length;
    notice(assigned + ' assigned automatically, ' + (answer.decisions.length - assigned) + ' still waiting');
    refresh(true);
  } }, 'Dispatch automatically');
  return el('div', { class: 'panel', id: 'queue' },
    el('h2', {}, 'Unassigned work orders'),
    workOrders.length === 0 ? el('p', { class: 'muted' }, 'None waiting.') : el('p', {}, dispatchAll),
    workOrders.map((order) => {
      const who = el('select', {}, technicians.map((member) => el('option', { value: member.user }, member.name)));
      return el('form', { onsubmit: async (event) => {
        event.preventDefault();
        if (await act('assign the work order', () => api('POST', '/v1/office/work-orders/' + order.id + '/assign', { assignee_id: who.value }))) refresh(true);
      } }, el('span', {}, recordLink('work_orders', order.id, order.customer_name), ' · ' + order.work_type + ' · ' + order.priority), who, el('button', { type: 'submit' }, 'Assign'),
      order.dispatch_reason ? el('div', { class: 'muted dispatch-reason' }, order.dispatch_reason) : null);
    }));
}

// MARK: - The map

const svgNS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (never markup). */
function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

views.map = async function mapView() {
  const [map, team] = await Promise.all([
    api('GET', '/v1/office/map' + query({ day: state.day, days: state.days, user: state.user })),
    loadTeam(),
  ]);
  const people = [['', 'Everyone']].concat(fieldWorkers(team).filter((member) => ['rep', 'technician'].includes(member.role)).map((member) => [member.user, member.name]));
  const who = choice('map-user', people, state.user || '', (value) => {
    location.hash = address('map', { day: state.day, days: state.days > 1 ? state.days : undefined, user: value || undefined });
  });
  return el('div', {},
    periodToolbar('map', who),
    drawMap(map),
    el('div', { class: 'panel' }, el('h2', {}, 'Check-ins and check-outs'),
      el('table', { id: 'fixes' },
        el('tr', {}, ['When', 'Who', 'Store', 'Kind', 'Verification', 'Distance', 'Accuracy'].map((title) => el('th', {}, title))),
        map.fixes.map((fix) => el('tr', { dataset: { fix: fix.id } },
          el('td', {}, time(fix.device_time)), el('td', {}, fix.user_name || personName(fix.user)),
          el('td', {}, recordLink('customers', fix.customer, (map.stores.find((store) => store.customer === fix.customer) || {}).name)),
          el('td', {}, fix.kind), el('td', { class: 'verification ' + (fix.verification || '') }, (fix.verification || 'unverified') + (fix.mock_location ? ' (mock location)' : '')),
          el('td', {}, fix.distance_m === null ? '—' : fix.distance_m + ' m'), el('td', {}, fix.accuracy_m === null ? '—' : '±' + fix.accuracy_m + ' m'))))));
};

/**
 * The stores and fixes drawn to scale: an equirectangular projection around their middle (exact
 * enough over a city), metres the same both ways, each store's geofence a circle of its radius,
 * each fix a dot joined to its store.
 */
function drawMap(map) {
  const width = 900, height = 560, margin = 40;
  const points = [];
  for (const store of map.stores) if (store.latitude_e6 !== null && store.longitude_e6 !== null) points.push([store.latitude_e6, store.longitude_e6]);
  for (const fix of map.fixes) if (fix.latitude_e6 !== null && fix.longitude_e6 !== null) points.push([fix.latitude_e6, fix.longitude_e6]);
  const picture = svg('svg', { id: 'map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Map of the stores and check-ins' });
  picture.append(svg('rect', { x: 0, y: 0, width, height, class: 'ground' }));
  if (points.length === 0) {
    picture.append(svg('text', { x: margin, y: margin }, 'Nothing with a location in this period.'));
    return picture;
  }
  const middle = points.reduce((sum, [lat]) => sum + lat, 0) / points.length / 1e6;
  const metresPerDegreeLat = 110540, metresPerDegreeLon = 111320 * Math.cos(middle * Math.PI / 180);
  const east = ([, lon]) => lon / 1e6 * metresPerDegreeLon, north = ([lat]) => lat / 1e6 * metresPerDegreeLat;
  const xs = points.map(east), ys = points.map(north);
  const largestRadius = Math.max(0, ...map.stores.map((store) => store.geofence_radius_m || 0));
  const minX = Math.min(...xs) - largestRadius, maxX = Math.max(...xs) + largestRadius;
  const minY = Math.min(...ys) - largestRadius, maxY = Math.max(...ys) + largestRadius;
  const scale = Math.min((width - 2 * margin) / Math.max(1, maxX - minX), (height - 2 * margin) / Math.max(1, maxY - minY));
  const x = (point) => margin + (east(point) - minX) * scale, y = (point) => height - margin - (north(point) - minY) * scale;
  // A scale bar of a round number of metres.
  const bar = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000].find((metres) => metres * scale >= 80) || 100000;
  picture.append(svg('line', { x1: margin, y1: height - 14, x2: margin + bar * scale, y2: height - 14, class: 'scale' }),
    svg('text', { x: margin + bar * scale + 6, y: height - 10, class: 'label' }, bar >= 1000 ? bar / 1000 + ' km' : bar + ' m'));
  const stores = new Map();
  // Names on the map while they can be read; past 40 stores only where a fix was not verified, the rest on hover.
  const doubtful = new Set(map.fixes.filter((fix) => fix.verification !== 'verified').map((fix) => fix.customer));
  const named = (store) => map.stores.length <= 40 || doubtful.has(store.customer);
  for (const store of map.stores) {
    if (store.latitude_e6 === null || store.longitude_e6 === null) continue;
    const point = [store.latitude_e6, store.longitude_e6];
    stores.set(store.customer, point);
    const statuses = store.visits.map((visit) => visit.status).join(', ');
    const group = svg('g', { class: 'store', 'data-customer': store.customer });
    group.append(svg('circle', { cx: x(point), cy: y(point), r: Math.max(3, (store.geofence_radius_m || 0) * scale), class: 'geofence' }),
      svg('circle', { cx: x(point), cy: y(point), r: 4, class: 'store-dot' }),
      named(store) ? svg('text', { x: x(point) + 7, y: y(point) - 7, class: 'label' }, store.name) : '',
      svg('title', {}, store.name + ' — ' + statuses + (store.geofence_radius_m ? ', geofence ' + store.geofence_radius_m + ' m' : '')));
    picture.append(group);
  }
  for (const fix of map.fixes) {
    if (fix.latitude_e6 === null || fix.longitude_e6 === null) continue;
    const point = [fix.latitude_e6, fix.longitude_e6];
    const store = stores.get(fix.customer);
    const group = svg('g', { class: 'fix ' + (fix.verification || 'unverified'), 'data-fix': fix.id });
    if (store) group.append(svg('line', { x1: x(store), y1: y(store), x2: x(point), y2: y(point), class: 'tether' }));
    group.append(svg('circle', { cx: x(point), cy: y(point), r: fix.kind === 'check_in' ? 5 : 3.5, class: 'fix-dot ' + fix.kind }),
      svg('title', {}, (fix.user_name || '') + ' ' + fix.kind + ' ' + time(fix.device_time) + ': ' + (fix.verification || 'unverified')
        + (fix.distance_m === null ? '' : ', ' + fix.distance_m + ' m from the store')));
    picture.append(group);
  }
  return picture;
}
