'use strict';
// The technicians and automatic dispatch (office.md, "Technicians and automatic dispatch"):
// each technician's week, skills, territories and absences, the work types with their checklists,
// and dispatch's latest decisions, an open assignment accepted here or overridden on the board.

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "boiler L3, gas L1" from {"boiler": 3, "gas": 1}. */
function levelsText(levels) {
  const names = Object.keys(levels || {});
  return names.length === 0 ? 'none' : names.map((name) => name + ' L' + levels[name]).join(', ');
}

/** "08:00–17:00, Mon–Fri as days, 6 a day" from a profile. */
function weekText(profile) {
  if (!profile) return 'no working week: never dispatched automatically';
  const clock = (minutes) => String(Math.floor(minutes / 60)).padStart(2, '0') + ':' + String(minutes % 60).padStart(2, '0');
  const days = weekdays.filter((_, index) => profile.working_days & (1 << index)).join(' ');
  return clock(profile.workday_start_minute) + '–' + clock(profile.workday_end_minute) + ' · ' + days + ' · ' + profile.daily_capacity + ' a day';
}

/** {"boiler": 3} from "boiler=3, gas=1"; null when a pair does not read. */
function parseLevels(text) {
  const levels = {};
  for (const pair of text.split(',').map((part) => part.trim()).filter((part) => part)) {
    const [name, level] = pair.split('=').map((part) => part.trim());
    if (!name || !/^[1-5]$/.test(level || '')) return null;
    levels[name] = Number(level);
  }
  return levels;
}

views.technicians = async function techniciansView() {
  const [people, types, decisions] = await Promise.all([
    api('GET', '/v1/office/technicians'),
    api('GET', '/v1/office/work-order-types'),
    api('GET', '/v1/office/dispatch/decisions?limit=20'),
  ]);
  const rows = people.technicians.map((person) => {
    const skills = el('input', { type: 'text', value: Object.keys(person.skills).map((name) => name + '=' + person.skills[name]).join(', '), size: 24,
      'aria-label': 'Skills of ' + person.name });
    const from = el('input', { type: 'datetime-local', 'aria-label': 'Absent from' });
    const to = el('input', { type: 'datetime-local', 'aria-label': 'Absent until' });
    const reason = el('input', { type: 'text', placeholder: 'reason', size: 10 });
    return el('tr', { class: 'technician' },
      el('td', {}, person.name), el('td', {}, weekText(person.profile)),
      el('td', {}, el('form', { class: 'skills', onsubmit: async (event) => {
        event.preventDefault();
        const levels = parseLevels(skills.value);
        if (!levels) { notice('Skills are name=level pairs, levels 1 to 5: boiler=3, gas=1'); return; }
        if (await act('set the skills', () => api('POST', '/v1/office/technicians/' + person.id + '/skills', { skills: levels }))) refresh(true);
      } }, skills, el('button', { type: 'submit' }, 'Save'))),
      el('td', { class: 'number' }, String(person.territories.length)),
      el('td', {}, person.absences.map((absence) => el('div', {}, time(absence.starts_at) + ' – ' + time(absence.ends_at) + (absence.reason ? ' (' + absence.reason + ')' : ''),
        ' ', el('button', { type: 'button', onclick: async () => {
          if (await act('remove the absence', () => api('POST', '/v1/office/absences/' + absence.id + '/delete', {}))) refresh(true);
        } }, 'Remove'))),
        el('form', { class: 'absence', onsubmit: async (event) => {
          event.preventDefault();
          if (!from.value || !to.value) { notice('An absence needs a start and an end'); return; }
          const body = { starts_at: new Date(from.value).toISOString(), ends_at: new Date(to.value).toISOString(), reason: reason.value || null };
          if (await act('record the absence', () => api('POST', '/v1/office/technicians/' + person.id + '/absences', body))) refresh(true);
        } }, from, to, reason, el('button', { type: 'submit' }, 'Add'))),
      el('td', { class: 'number' }, String(person.open_work_orders)));
  });
  return el('div', { id: 'technicians-page' },
    el('h1', {}, 'Technicians'),
    el('table', { id: 'technicians' },
      el('tr', {}, ['Technician', 'Working week', 'Skills', 'Territories', 'Absences', 'Open work orders'].map((title) => el('th', {}, title))),
      rows.length === 0 ? el('tr', {}, el('td', { class: 'muted', colspan: 6 }, 'No technicians.')) : rows),
    el('div', { class: 'panel' }, el('h2', {}, 'Work types'),
      types.work_order_types.length === 0 ? el('p', { class: 'muted' }, 'None yet: any work type takes 60 minutes and needs no skill.') :
        el('table', { id: 'work-types' }, el('tr', {}, ['Code', 'Name', 'Minutes', 'Skills', 'Checklist'].map((title) => el('th', {}, title))),
          types.work_order_types.map((type) => el('tr', {}, el('td', {}, type.code), el('td', {}, type.name), el('td', { class: 'number' }, String(type.duration_minutes)),
            el('td', {}, levelsText(type.skills)),
            el('td', {}, type.steps.map((step) => step.label + ' (' + step.answer_kind + (step.required ? ', required' : '') + ')').join('; ') || '—'))))),
    el('div', { class: 'panel' }, el('h2', {}, 'Automatic dispatch: latest decisions'),
      decisions.decisions.length === 0 ? el('p', { class: 'muted' }, 'None yet.') :
        el('table', { id: 'dispatch-decisions' }, el('tr', {}, ['Decided', 'Work order', 'Outcome', 'Technician', 'Slot', 'Why', 'Review'].map((title) => el('th', {}, title))),
          decisions.decisions.map((decision) => el('tr', {}, el('td', {}, time(decision.decided_at)), el('td', {}, recordLink('work_orders', decision.work_order, decision.work_order.slice(0, 8))),
            el('td', {}, decision.outcome), el('td', {}, decision.technician_name || ''), el('td', {}, decision.slot_start ? time(decision.slot_start) : ''),
            el('td', {}, decision.reason),
            el('td', {}, decision.outcome === 'assigned' && decision.review === 'open'
              ? el('button', { type: 'button', class: 'accept-dispatch', onclick: async () => {
                if (await act('accept the assignment', () => api('POST', '/v1/office/dispatch/decisions/' + decision.id + '/accept', {}))) refresh(true);
              } }, 'Accept')
              : decision.review))))));
};
