// The FieldSync console: plain JavaScript over the office API (SyncProtocol/office.md), no build
// step. Every text from the server is set with textContent, never parsed as HTML. The token lives
// in sessionStorage; a sign-in link's #token=… is moved there and wiped from the address at once.
'use strict';

const tokenKey = 'fieldsync.token';
const state = { token: null, claims: null, day: new Date().toISOString().slice(0, 10), view: 'board', live: null, selected: null, team: [] };

// MARK: - Building the page

/** An element with attributes (`on…` ones are listeners, `style` an object) and children (strings become text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    // Through the CSSOM: the content security policy refuses style attributes.
    else if (name === 'style') Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(view) {
  const target = document.getElementById('view');
  target.replaceChildren(view);
}

function notice(text) {
  const box = document.getElementById('notice');
  box.textContent = text || '';
  box.hidden = !text;
}

function time(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  return (minor / 100).toFixed(2) + (currency ? ' ' + currency : '');
}

// MARK: - Signing in

function takeTokenFromAddress() {
  const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!match) return;
  sessionStorage.setItem(tokenKey, decodeURIComponent(match[1]));
  // What else the link says (a view, a day) stays; the token goes.
  const rest = location.hash.replace(/^#/, '').split('&').filter((part) => part && !part.startsWith('token='));
  const view = rest.length && !rest[0].includes('=') ? [] : ['board'];
  history.replaceState(null, '', location.pathname + location.search + '#' + view.concat(rest).join('&'));
}

function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - part.length % 4) % 4)));
  } catch {
    return null;
  }
}

function signIn(token) {
  const claims = claimsOf(token);
  if (!claims) { notice('That is not a token: paste the whole of it.'); return false; }
  sessionStorage.setItem(tokenKey, token);
  state.token = token;
  state.claims = claims;
  document.getElementById('sign-in').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = (claims.role || '') + ' ' + (claims.sub || '').slice(0, 8);
  notice('');
  startLive();
  route();
  return true;
}

function signOut(message) {
  sessionStorage.removeItem(tokenKey);
  state.token = null;
  state.claims = null;
  if (state.live) state.live.abort();
  state.live = null;
  document.getElementById('sign-in').hidden = false;
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  show(el('div'));
  notice(message || '');
}

// MARK: - The office API

class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body, signal) {
  const headers = { Authorization: 'Bearer ' + state.token };
  if (body) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined, signal });
  let answer = null;
  try { answer = await response.json(); } catch { answer = null; }
  if (response.status === 401) {
    signOut('Your session ended (' + ((answer && answer.message) || 'unauthorized') + '): sign in again.');
    throw new APIError(401, 'unauthorized', 'signed out');
  }
  if (!response.ok) {
    const message = (answer && answer.message) || ('the server answered ' + response.status);
    throw new APIError(response.status, answer && answer.error, message);
  }
  return answer;
}

/** Runs an action and says what went wrong in words: a 403 names what the role may not do. */
async function act(what, body) {
  try {
    notice('');
    await body();
    return true;
  } catch (error) {
    if (error.status === 401) return false;
    if (error.status === 403) notice('Not allowed to ' + what + ': ' + error.message);
    else notice('Could not ' + what + ': ' + error.message);
    return false;
  }
}

// MARK: - Live updates

/** Holds `GET /v1/office/live` open and redraws the view whenever the tenant's data changed. */
function startLive() {
  if (state.live) state.live.abort();
  const controller = new AbortController();
  state.live = controller;
  (async () => {
    let cursor = null;
    while (!controller.signal.aborted) {
      try {
        const path = '/v1/office/live' + (cursor ? '?after=' + encodeURIComponent(cursor) : '');
        const answer = await api('GET', path, null, controller.signal);
        if (cursor && answer.cursor !== cursor) refresh();
        cursor = answer.cursor;
      } catch (error) {
        if (controller.signal.aborted || error.status === 401) return;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  })();
}

// MARK: - Views

const views = { board: boardView, orders: ordersView, reviews: reviewsView, customers: customersView, reports: reportsView };

function route() {
  const [name, ...parameters] = location.hash.replace(/^#/, '').split('&');
  for (const parameter of parameters) {
    const [key, value] = parameter.split('=');
    if (key === 'day' && /^\d{4}-\d{2}-\d{2}$/.test(value || '')) state.day = value;
  }
  state.view = views[name] ? name : 'board';
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('current', link.dataset.view === state.view);
  refresh();
}

function refresh() {
  if (!state.token) return;
  views[state.view]().catch((error) => { if (error.status !== 401) notice('Could not load: ' + error.message); });
}

async function loadTeam() {
  state.team = await api('GET', '/v1/office/team');
  return state.team;
}

// The dispatcher's board: one lane per person over the (UTC) day, visits placed by their planned time.
async function boardView() {
  const [rows, team, queue] = await Promise.all([
    api('GET', '/v1/office/board?day=' + state.day),
    loadTeam(),
    api('GET', '/v1/office/work-orders?unassigned=true&limit=50'),
  ]);
  const dayStart = Date.parse(state.day + 'T00:00:00Z');
  const dayLength = 86400000;
  const position = (iso) => Math.max(0, Math.min(100, (Date.parse(iso) - dayStart) / dayLength * 100));
  const shift = (days) => {
    const date = new Date(dayStart + days * dayLength);
    state.day = date.toISOString().slice(0, 10);
    refresh();
  };
  const toolbar = el('div', { class: 'toolbar' },
    el('button', { type: 'button', onclick: () => shift(-1) }, '◀'),
    el('input', { type: 'date', id: 'day', value: state.day, onchange: (event) => { state.day = event.target.value; refresh(); } }),
    el('button', { type: 'button', onclick: () => shift(1) }, '▶'),
    el('span', { class: 'muted' }, 'The day in UTC; times in your time zone. Updates as phones sync.'));
  const grid = el('div', { class: 'board', id: 'board' });
  const hours = el('div', { class: 'hours' });
  for (let hour = 0; hour < 24; hour += 3) {
    hours.append(el('span', { style: { left: (hour / 24 * 100) + '%' } }, new Date(dayStart + hour * 3600000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
  }
  grid.append(el('div', { class: 'person muted' }, 'Person'), hours);
  if (rows.length === 0) grid.append(el('div', { class: 'person muted' }, 'No visits planned this day.'), el('div', { class: 'lane' }));
  for (const row of rows) {
    const counts = Object.entries(row.counts).map(([status, count]) => count + ' ' + status).join(', ');
    const lane = el('div', { class: 'lane', dataset: { user: row.user } });
    for (const visit of row.visits) {
      const left = position(visit.planned_start);
      const width = Math.max(1, position(visit.planned_end || visit.planned_start) - left);
      lane.append(el('button', {
        type: 'button', class: 'visit ' + visit.status, style: { left: left + '%', width: width + '%' },
        title: visit.customer_name + ' — ' + visit.status, dataset: { visit: visit.visit },
        onclick: () => { state.selected = { visit, row }; refresh(); },
      }, visit.customer_name, ' · ', visit.status, visit.late_minutes > 0 ? el('span', { class: 'late' }, ' +' + visit.late_minutes + ' min') : null));
    }
    grid.append(el('div', { class: 'person' }, el('div', {}, row.name), el('div', { class: 'muted' }, counts)), lane);
  }
  const selected = state.selected && rows.flatMap((row) => row.visits.map((visit) => ({ visit, row }))).find((entry) => entry.visit.visit === state.selected.visit.visit);
  show(el('div', {},
    toolbar,
    el('div', { class: 'columns' }, el('div', {}, grid, selected ? visitPanel(selected.visit, selected.row, team) : null), queuePanel(queue.work_orders, team))));
}

function fieldWorkers(team, role) {
  return team.filter((member) => !role || member.role === role);
}

function visitPanel(visit, row, team) {
  const assignee = el('select', { id: 'assignee' }, fieldWorkers(team, 'rep').concat(fieldWorkers(team, 'technician')).map((member) =>
    el('option', { value: member.user, selected: member.user === row.user }, member.name + ' (' + member.role + ')')));
  const local = (iso) => {
    const date = new Date(iso);
    return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  };
  const start = el('input', { type: 'datetime-local', id: 'planned-start', value: local(visit.planned_start) });
  const end = el('input', { type: 'datetime-local', id: 'planned-end', value: local(visit.planned_end || visit.planned_start) });
  const path = '/v1/office/visits/' + visit.visit;
  return el('div', { class: 'panel', id: 'visit-panel' },
    el('h2', {}, visit.customer_name),
    el('p', {}, 'Status ', el('strong', {}, visit.status), ' · planned ', time(visit.planned_start), '–', time(visit.planned_end),
      visit.actual_start ? ' · started ' + time(visit.actual_start) : '', visit.late_minutes > 0 ? el('span', { class: 'late' }, ' · ' + visit.late_minutes + ' min late') : ''),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('reassign the visit', () => api('POST', path + '/assign', { assignee_id: assignee.value }))) refresh();
    } }, el('label', { for: 'assignee' }, 'Assign to'), assignee, el('button', { type: 'submit', id: 'reassign' }, 'Reassign')),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      const body = { planned_start: new Date(start.value).toISOString(), planned_end: new Date(end.value).toISOString() };
      if (await act('reschedule the visit', () => api('POST', path + '/reschedule', body))) refresh();
    } }, el('label', {}, 'Planned'), start, end, el('button', { type: 'submit' }, 'Reschedule')),
    el('form', { onsubmit: async (event) => {
      event.preventDefault();
      if (await act('cancel the visit', () => api('POST', path + '/cancel', {}))) { state.selected = null; refresh(); }
    } }, el('button', { type: 'submit' }, 'Cancel the visit')));
}

function queuePanel(workOrders, team) {
  const technicians = fieldWorkers(team, 'technician');
  return el('div', { class: 'panel', id: 'queue' },
    el('h2', {}, 'Unassigned work orders'),
    workOrders.length === 0 ? el('p', { class: 'muted' }, 'None waiting.') : null,
    workOrders.map((order) => {
      const who = el('select', {}, technicians.map((member) => el('option', { value: member.user }, member.name)));
      return el('form', { onsubmit: async (event) => {
        event.preventDefault();
        if (await act('assign the work order', () => api('POST', '/v1/office/work-orders/' + order.id + '/assign', { assignee_id: who.value }))) refresh();
      } }, el('span', {}, order.customer_name + ' · ' + order.work_type + ' · ' + order.priority), who, el('button', { type: 'submit' }, 'Assign'));
    }));
}

// Orders: a manager's approvals first, then the latest orders.
async function ordersView() {
  const [waiting, held, latest] = await Promise.all([
    api('GET', '/v1/office/orders?status=pending_approval&limit=50'),
    api('GET', '/v1/office/orders?status=credit_hold&limit=50'),
    api('GET', '/v1/office/orders?limit=50'),
  ]);
  const decide = (order, decision) => async () => {
    const comment = document.getElementById('comment-' + order.id).value;
    if (await act(decision + ' the order', () => api('POST', '/v1/office/orders/' + order.id + '/' + decision, { comment }))) refresh();
  };
  const table = (orders, decisions) => el('table', {},
    el('tr', {}, ['Date', 'Customer', 'Rep', 'Status', 'Total', ''].map((title) => el('th', {}, title))),
    orders.map((order) => el('tr', { dataset: { order: order.id } },
      el('td', {}, time(order.order_date)), el('td', {}, order.customer_name), el('td', {}, order.rep_name), el('td', {}, order.status),
      el('td', {}, money(order.total_minor, order.currency)),
      el('td', {}, decisions ? [el('input', { id: 'comment-' + order.id, placeholder: 'comment' }),
        el('button', { type: 'button', onclick: decide(order, 'approve') }, 'Approve'),
        el('button', { type: 'button', onclick: decide(order, 'reject') }, 'Reject')] : ''))));
  show(el('div', {},
    el('h1', {}, 'Waiting for approval'), table(waiting.orders.concat(held.orders), true),
    el('h1', {}, 'Latest orders'), table(latest.orders, false)));
}

// The review queue: exceptions, quarantined changes and conflicts, each accepted or overridden.
async function reviewsView() {
  const items = (await api('GET', '/v1/office/reviews?limit=200')).reviews;
  show(el('div', {},
    el('h1', {}, 'To review'),
    items.length === 0 ? el('p', { class: 'muted' }, 'Nothing to review.') : null,
    el('table', {},
      el('tr', {}, ['Kind', 'Rule', 'Record', 'What happened', 'Decision'].map((title) => el('th', {}, title))),
      items.map((item) => {
        const comment = el('input', { placeholder: 'comment (needed to override)' });
        const resolve = (action) => async () => {
          if (await act(action + ' the item', () => api('POST', '/v1/office/reviews/' + encodeURIComponent(item.id).replace(/%3A/g, ':') + '/resolve', { action, comment: comment.value }))) refresh();
        };
        return el('tr', { dataset: { review: item.id } },
          el('td', {}, item.kind), el('td', {}, item.rule), el('td', {}, item.table),
          el('td', {}, item.message),
          el('td', {}, item.review === 'open'
            ? [comment, el('button', { type: 'button', onclick: resolve('accept') }, 'Accept'), el('button', { type: 'button', onclick: resolve('override') }, 'Override')]
            : item.review));
      }))));
}

// Customers, searched by name, phone, tax number or address.
async function customersView() {
  const search = el('input', { type: 'search', id: 'search', placeholder: 'name, phone, tax number', value: state.search || '' });
  const answer = await api('GET', '/v1/office/customers?limit=100' + (state.search ? '&search=' + encodeURIComponent(state.search) : ''));
  show(el('div', {},
    el('form', { class: 'toolbar', onsubmit: (event) => { event.preventDefault(); state.search = search.value; refresh(); } },
      search, el('button', { type: 'submit' }, 'Search')),
    el('table', { id: 'customers' },
      el('tr', {}, ['Name', 'Territory', 'Phone', 'Address', 'Status', 'Credit limit'].map((title) => el('th', {}, title))),
      answer.customers.map((customer) => el('tr', {},
        el('td', {}, customer.name), el('td', {}, customer.territory_name || ''), el('td', {}, customer.phone || ''),
        el('td', {}, [customer.street_address, customer.city].filter(Boolean).join(', ')), el('td', {}, customer.status || ''),
        el('td', {}, money(customer.credit_limit_minor)))))));
}

// Reports: a table of what PostgreSQL computed, a bar chart of one figure, and the CSV.
const reportKinds = ['visit-compliance', 'sales', 'collections', 'out-of-stock', 'service'];

async function reportsView() {
  const report = state.report || (state.report = { kind: 'visit-compliance', by: 'rep', from: '', to: '' });
  const query = () => {
    const parts = [];
    if (report.from) parts.push('from=' + encodeURIComponent(new Date(report.from + 'T00:00:00Z').toISOString()));
    if (report.to) parts.push('to=' + encodeURIComponent(new Date(report.to + 'T00:00:00Z').toISOString()));
    if (report.kind === 'sales') parts.push('by=' + report.by);
    return parts.join('&');
  };
  const answer = await api('GET', '/v1/office/reports/' + report.kind + '?' + query());
  const kind = el('select', { id: 'report-kind', onchange: (event) => { report.kind = event.target.value; refresh(); } },
    reportKinds.map((name) => el('option', { value: name, selected: name === report.kind }, name)));
  const by = report.kind === 'sales' ? el('select', { id: 'report-by', onchange: (event) => { report.by = event.target.value; refresh(); } },
    ['rep', 'customer', 'product', 'day'].map((name) => el('option', { value: name, selected: name === report.by }, 'by ' + name))) : null;
  const from = el('input', { type: 'date', value: report.from || answer.from.slice(0, 10), onchange: (event) => { report.from = event.target.value; refresh(); } });
  const to = el('input', { type: 'date', value: report.to || answer.to.slice(0, 10), onchange: (event) => { report.to = event.target.value; refresh(); } });
  const download = el('button', { type: 'button', id: 'report-csv', onclick: () => act('download the report', async () => {
    const response = await fetch('/v1/office/reports/' + report.kind + '?format=csv&' + query(), { headers: { Authorization: 'Bearer ' + state.token } });
    if (!response.ok) throw new APIError(response.status, null, 'the server answered ' + response.status);
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: report.kind + '.csv' });
    link.click();
    URL.revokeObjectURL(link.href);
  }) }, 'Download CSV');
  show(el('div', {},
    el('div', { class: 'toolbar' }, kind, by, from, to, download),
    answer.rows.length ? chart(answer) : el('p', { class: 'muted' }, 'Nothing in this period.'),
    el('table', { id: 'report' },
      el('tr', {}, answer.columns.map((name) => el('th', {}, name))),
      answer.rows.map((row) => el('tr', {}, answer.columns.map((name) => el('td', {}, row[name] === null ? '' : row[name])))))));
}

/** A horizontal bar chart (SVG) of the report's first numeric column, labelled by its second column. */
function chart(answer) {
  const numeric = answer.columns.find((name) => answer.rows.some((row) => typeof row[name] === 'number'));
  if (!numeric) return null;
  const label = answer.columns[1] || answer.columns[0];
  const rows = answer.rows.slice(0, 20);
  const largest = Math.max(1, ...rows.map((row) => row[numeric] || 0));
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('id', 'report-chart');
  svg.setAttribute('width', '720');
  svg.setAttribute('height', String(rows.length * 22 + 24));
  const title = document.createElementNS(svgNS, 'text');
  title.setAttribute('x', '0'); title.setAttribute('y', '14');
  title.textContent = numeric;
  svg.append(title);
  rows.forEach((row, index) => {
    const y = 24 + index * 22;
    const name = document.createElementNS(svgNS, 'text');
    name.setAttribute('x', '0'); name.setAttribute('y', String(y + 14));
    name.textContent = String(row[label] || row[answer.columns[0]] || '').slice(0, 28);
    const bar = document.createElementNS(svgNS, 'rect');
    bar.setAttribute('x', '220'); bar.setAttribute('y', String(y + 2));
    bar.setAttribute('height', '16'); bar.setAttribute('width', String(Math.round((row[numeric] || 0) / largest * 420)));
    bar.setAttribute('class', 'bar');
    const value = document.createElementNS(svgNS, 'text');
    value.setAttribute('x', String(226 + Math.round((row[numeric] || 0) / largest * 420))); value.setAttribute('y', String(y + 14));
    value.textContent = String(row[numeric] ?? '');
    svg.append(name, bar, value);
  });
  return svg;
}

// MARK: - Start

window.addEventListener('hashchange', () => { takeTokenFromAddress(); route(); });
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(document.getElementById('token').value.trim());
  });
  document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
  takeTokenFromAddress();
  const token = sessionStorage.getItem(tokenKey);
  if (token) signIn(token); else signOut('');
});
