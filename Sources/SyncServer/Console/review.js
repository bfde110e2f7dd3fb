// The review queue (exceptions, quarantined changes with both values, conflicts with both values
// and who won), a person's activity timeline, and the reports with their charts.
'use strict';

// MARK: - Review

/** A value as the API gives it (plain JSON), for a cell. */
function plainValue(value) {
  if (value === undefined) return '';
  if (value === null) return '∅';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** What an item is about: a refused change's fields beside the server's, or a conflict's two values. */
function reviewValues(item) {
  if (item.kind === 'conflict') {
    return el('table', { class: 'values' },
      el('tr', {}, el('th', {}, 'Field'), el('th', {}, 'Kept (won)'), el('th', {}, 'Lost')),
      el('tr', {}, el('td', {}, item.rule), el('td', { class: 'winner' }, plainValue(item.winner)), el('td', { class: 'loser' }, plainValue(item.loser))));
  }
  if (!item.change || typeof item.change !== 'object') return item.change === 'delete' ? el('p', {}, 'The phone deleted the record.') : null;
  // A refused change was kept with the server's record as it stood; a flagged one was applied, so the record shows what it is now.
  const server = item.server_state && typeof item.server_state === 'object' ? item.server_state : null;
  return el('table', { class: 'values' },
    el('tr', {}, el('th', {}, 'Field'), el('th', {}, 'The phone sent'), server ? el('th', {}, 'The server had') : null),
    Object.keys(item.change).map((field) => el('tr', {}, el('td', {}, field), el('td', { class: 'device' }, plainValue(item.change[field])),
      server ? el('td', { class: 'server' + (plainValue(item.change[field]) === plainValue(server[field]) ? '' : ' differs') }, plainValue(server[field])) : null)));
}

const reviewTables = ['visits', 'geo_events', 'sales_orders', 'order_lines', 'payments', 'customers', 'contacts', 'work_orders', 'parts_used', 'visit_tasks', 'contact_records'];

views.reviews = async function reviewsView() {
  const filter = state.reviews || (state.reviews = { state: 'open', kind: '', table: '' });
  const list = await pagedTable('review-items', ['Kind', 'Record', 'Rule', 'What happened', 'Who, when', 'Values', 'Decision'], async (after) => {
    const page = await api('GET', '/v1/office/reviews' + query({ state: filter.state, kind: filter.kind, table: filter.table, limit: 50, after }));
    return { items: page.reviews, next: page.next };
  }, (item) => {
    const comment = el('input', { placeholder: 'comment (needed to override)' });
    const resolve = (action) => async () => {
      if (await act(action + ' the item', () => api('POST', '/v1/office/reviews/' + item.id + '/resolve', { action, comment: comment.value }))) refresh(true);
    };
    return el('tr', { dataset: { review: item.id } },
      el('td', { class: 'kind ' + item.kind }, item.kind), el('td', {}, item.table, ' ', recordLink(item.table, item.record)), el('td', {}, item.rule),
      el('td', {}, item.message),
      el('td', {}, item.author ? personName(item.author) : '', item.device_time ? el('div', { class: 'muted' }, 'on the phone ' + time(item.device_time)) : null,
        item.server_time ? el('div', { class: 'muted' }, 'arrived ' + time(item.server_time)) : null),
      el('td', {}, reviewValues(item)),
      el('td', {}, item.review === 'open'
        ? [comment, el('button', { type: 'button', onclick: resolve('accept') }, 'Accept'), el('button', { type: 'button', onclick: resolve('override') }, 'Override')]
        : [item.review, item.comment ? el('div', { class: 'muted' }, item.comment) : null]));
  });
  await loadTeam();
  return el('div', {},
    el('h1', {}, 'To review'),
    el('div', { class: 'toolbar' },
      el('label', {}, 'Show ', choice('review-state', [['open', 'open'], ['all', 'open and resolved']], filter.state, (value) => { filter.state = value; refresh(true); })),
      filterChoice('review-kind', 'Kind', ['exception', 'rejection', 'conflict'], filter, 'kind'),
      filterChoice('review-table', 'Table', reviewTables, filter, 'table')),
    list);
};

// MARK: - People

views.people = async function peopleView() {
  const team = await loadTeam();
  const people = fieldWorkers(team).filter((member) => ['rep', 'technician'].includes(member.role));
  const person = state.user || (people[0] && people[0].user);
  const from = Date.parse(state.day + 'T00:00:00Z');
  const to = from + state.days * dayLength;
  const timeline = person ? await api('GET', '/v1/office/people/' + person + '/activity' + query({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })) : null;
  const who = choice('person', people.map((member) => [member.user, member.name + ' (' + member.role + ')']), person || '', (value) => {
    location.hash = address('people', { user: value, day: state.day, days: state.days > 1 ? state.days : undefined });
  });
  const saved = state.user;
  state.user = person;
  const toolbar = periodToolbar('people', who);
  state.user = saved;
  return el('div', {},
    toolbar,
    !timeline ? el('p', { class: 'muted' }, 'No one to show.') : el('div', {},
      el('h1', {}, timeline.name, ' ', el('span', { class: 'muted' }, timeline.role)),
      timeline.events.length === 0 ? el('p', { class: 'muted' }, 'Nothing recorded in this period.') : el('ol', { class: 'timeline', id: 'timeline' },
        timeline.events.map((event) => el('li', { class: event.kind, dataset: { record: event.record } },
          el('time', {}, time(event.time)), ' ', el('strong', {}, event.kind.replace(/_/g, ' ')), ' ',
          event.customer ? recordLink('customers', event.customer, event.customer_name) : '', ' — ',
          recordLink(event.table, event.record, event.summary))))));
};

// Reports: a table of what PostgreSQL computed, a bar chart of one figure, and the CSV.
const reportKinds = ['visit-compliance', 'sales', 'collections', 'out-of-stock', 'service'];

views.reports = async function reportsView() {
  const report = state.report || (state.report = { kind: 'visit-compliance', by: 'rep', from: '', to: '' });
  const query = () => {
    const parts = [];
    if (report.from) parts.push('from=' + encodeURIComponent(new Date(report.from + 'T00:00:00Z').toISOString()));
    if (report.to) parts.push('to=' + encodeURIComponent(new Date(report.to + 'T00:00:00Z').toISOString()));
    if (report.kind === 'sales') parts.push('by=' + report.by);
    return parts.join('&');
  };
  const answer = await api('GET', '/v1/office/reports/' + report.kind + '?' + query());
  const kind = el('select', { id: 'report-kind', onchange: (event) => { report.kind = event.target.value; refresh(true); } },
    reportKinds.map((name) => el('option', { value: name, selected: name === report.kind }, name)));
  const by = report.kind === 'sales' ? el('select', { id: 'report-by', onchange: (event) => { report.by = event.target.value; refresh(true); } },
    ['rep', 'customer', 'product', 'day'].map((name) => el('option', { value: name, selected: name === report.by }, 'by ' + name))) : null;
  const from = el('input', { type: 'date', value: report.from || answer.from.slice(0, 10), onchange: (event) => { report.from = event.target.value; refresh(true); } });
  const to = el('input', { type: 'date', value: report.to || answer.to.slice(0, 10), onchange: (event) => { report.to = event.target.value; refresh(true); } });
  const download = el('button', { type: 'button', id: 'report-csv', onclick: () => act('download the report', async () => {
    const response = await fetch('/v1/office/reports/' + report.kind + '?format=csv&' + query(), { headers: { Authorization: 'Bearer ' + state.token } });
    if (!response.ok) throw new APIError(response.status, null, 'the server answered ' + response.status);
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: report.kind + '.csv' });
    link.click();
    URL.revokeObjectURL(link.href);
  }) }, 'Download CSV');
  return el('div', {},
    el('div', { class: 'toolbar' }, kind, by, from, to, download),
    answer.rows.length ? chart(answer) : el('p', { class: 'muted' }, 'Nothing in this period.'),
    el('table', { id: 'report' },
      el('tr', {}, answer.columns.map((name) => el('th', {}, name))),
      answer.rows.map((row) => el('tr', {}, answer.columns.map((name) => el('td', {}, row[name] === null ? '' : row[name]))))));
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

