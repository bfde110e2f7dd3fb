// The FieldSync console: plain JavaScript over the office API (SyncProtocol/office.md), no build
// step. Every text from the server is set with textContent, never parsed as HTML. The token lives
// in sessionStorage; a sign-in link's #token=… is moved there and wiped from the address at once.
'use strict';

const tokenKey = 'fieldsync.token';
const state = { token: null, claims: null, day: new Date().toISOString().slice(0, 10), days: 1, view: 'board', id: null, user: null, live: null, selected: null, team: [], stale: false, generation: 0 };

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
  for (const child of children.flat(Infinity)) {
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

/**
 * Every view by its name in the address (`#name&key=value…`): an async function answering the
 * page to show. The other files add theirs.
 */
const views = {};

/** The address's parameters after the view's name, checked: a day, a number of days, ids. */
function parameters() {
  const [name, ...rest] = location.hash.replace(/^#/, '').split('&');
  const found = {};
  for (const part of rest) {
    const [key, value] = part.split('=');
    if (key === 'day' && /^\d{4}-\d{2}-\d{2}$/.test(value || '')) found.day = value;
    else if (key === 'days' && /^[1-7]$/.test(value || '')) found.days = Number(value);
    else if ((key === 'id' || key === 'user') && /^[0-9a-fA-F-]{36}$/.test(value || '')) found[key] = value;
  }
  return { name, ...found };
}

/** The address of a view with its parameters. */
function address(name, values = {}) {
  return '#' + [name].concat(Object.entries(values).filter(([, value]) => value !== undefined && value !== null).map(([key, value]) => key + '=' + value)).join('&');
}

/** A link to a record's page (an order, a work order, a customer), or its text when there is no page. */
function recordLink(table, id, text) {
  const page = { sales_orders: 'order', work_orders: 'work-order', customers: 'customer' }[table];
  if (!page || !id) return text || '—';
  return el('a', { href: address(page, { id }), class: 'record' }, text || id.slice(0, 8));
}

function route() {
  const found = parameters();
  if (found.day) state.day = found.day;
  if (found.days) state.days = found.days;
  state.id = found.id || null;
  state.user = found.user || null;
  state.view = views[found.name] ? found.name : 'board';
  const section = { order: 'orders', 'work-order': 'work-orders', customer: 'customers' }[state.view] || state.view;
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('current', link.dataset.view === section);
  state.stale = false;
  refresh();
}

/** Draws the view again, unless the user is typing in it: then once they leave the field. */
function refresh(force) {
  if (!state.token) return;
  const active = document.activeElement;
  if (!force && active && active.closest && active.closest('#view') && ['INPUT', 'TEXTAREA', 'SELECT'].includes(active.tagName)) {
    state.stale = true;
    return;
  }
  // A view answers its page; only the latest request's page is shown (an earlier, slower one is dropped).
  const generation = ++state.generation;
  views[state.view]().then((page) => { if (generation === state.generation) show(page); })
    .catch((error) => { if (error.status !== 401 && generation === state.generation) notice('Could not load: ' + error.message); });
}

async function loadTeam() {
  state.team = await api('GET', '/v1/office/team');
  return state.team;
}

function fieldWorkers(team, role) {
  return team.filter((member) => !role || member.role === role);
}

/** The name of a user of the team, else the start of their id. */
function personName(id) {
  const member = (state.team || []).find((person) => person.user === id);
  return member ? member.name : (id ? id.slice(0, 8) : '—');
}

/**
 * A list that pages with the API's cursor: `load(after)` answers a page, `row(item)` draws one
 * row; "More" appends the next page in place.
 */
async function pagedTable(id, headings, load, row) {
  const table = el('table', { id }, el('tr', {}, headings.map((title) => el('th', {}, title))));
  const more = el('button', { type: 'button', class: 'more', hidden: true }, 'More');
  let next = null;
  const append = async () => {
    const page = await load(next);
    for (const item of page.items) table.append(row(item));
    if (page.items.length === 0 && table.rows.length === 1) table.append(el('tr', {}, el('td', { class: 'muted', colspan: headings.length }, 'Nothing here.')));
    next = page.next;
    more.hidden = !next;
  };
  more.addEventListener('click', () => act('load more', append));
  await append();
  return el('div', {}, table, more);
}

/** A query string from the set values of `values`. */
function query(values) {
  const parts = Object.entries(values).filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => key + '=' + encodeURIComponent(value));
  return parts.length ? '?' + parts.join('&') : '';
}

/** A select of `options` ([value, label] pairs) that calls `change(value)`. */
function choice(id, options, selected, change) {
  return el('select', { id, onchange: (event) => change(event.target.value) },
    options.map(([value, label]) => el('option', { value, selected: value === selected }, label)));
}

/** A definition list of [term, value] pairs, the empty ones left out. */
function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
}

/** A record's history from the audit. */
function historyPanel(history) {
  return el('div', { class: 'panel', id: 'history' },
    el('h2', {}, 'History'),
    history.length === 0 ? el('p', { class: 'muted' }, 'Nothing recorded.') : el('table', {},
      el('tr', {}, ['When', 'Rule', 'Result', 'What', 'Who', 'Review'].map((title) => el('th', {}, title))),
      history.map((entry) => el('tr', {},
        el('td', {}, time(entry.server_time)), el('td', {}, entry.rule), el('td', {}, entry.result), el('td', {}, entry.message),
        el('td', {}, [entry.author_name || (entry.author ? entry.author.slice(0, 8) : ''), entry.author_role ? ' (' + entry.author_role + ')' : '']),
        el('td', {}, entry.review || '')))));
}

// MARK: - Start

window.addEventListener('hashchange', () => { takeTokenFromAddress(); route(); });
// A redraw held back while the user typed happens when they leave the field.
document.addEventListener('focusout', () => setTimeout(() => { if (state.stale) { state.stale = false; refresh(); } }, 0));
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
