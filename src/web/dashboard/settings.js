// The clinic's settings and its staff, for admins: the phone patients call and the hour reminders
// go out; staff added, deactivated and reactivated, and handed a one-time password reset code.
// Each form shows the API's errors beside their fields, the rest in its own error line.

import { api, get, post } from './api.js';
import { opener, pager, toast } from './dom.js';
import { field as formField, refusal, showErrors } from './forms.js';
import { formatDate, me } from './shared.js';
import { h } from './shared/dom.js';

const ROLES = { clinician: 'Clinician', admin: 'Admin' };
const hour = (n) => `${String(n).padStart(2, '0')}:00`;

// ---------------------------------------------------------------------------------------------
// A form whose fields are named as the API names them

/** A field of the form `prefix`, named as the API names it. */
function field(prefix, name, label, control, hint) {
  return formField(`${prefix}-${name}`, name, label, control, { hint, errorTestid: `${prefix}-error-${name}` });
}

/**
 * A form of `fields`: on submit, `send(body)` stores what `read()` gives, and `done(record)` follows;
 * a refusal shows each error the API names beside its field (a 409 beside `conflictField`), and a
 * summary, or the refusal itself, above the buttons.
 */
function apiForm({ prefix, title, fields, submitLabel, read, send, done, cancel, conflictField }) {
  const byName = Object.fromEntries(fields.map((f) => [f.control.name, f]));
  const summary = h('p', { class: 'form-error', role: 'alert', 'data-testid': `${prefix}-form-error` });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': `${prefix}-save` }, submitLabel);
  const form = h(
    'form',
    { class: 'panel desk-form settings-form', novalidate: true, 'data-testid': `${prefix}-form`, 'aria-labelledby': `${prefix}-title` },
    h('h2', { id: `${prefix}-title` }, title),
    fields.map((f) => f.node),
    summary,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', onclick: cancel }, 'Cancel')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showErrors(form, summary, []);
    submit.disabled = true;
    try {
      done(await send(read(byName)));
    } catch (err) {
      showErrors(form, summary, refusal(err, conflictField), { fallback: err.message });
    }
    submit.disabled = false;
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// The clinic

function clinicFacts(clinic) {
  const fact = (label, value, testid) => h('div', { 'data-testid': testid }, h('span', { class: 'label' }, label), value);
  return [
    fact('Name', clinic.name, 'clinic-fact-name'),
    fact('Time zone', clinic.timezone, 'clinic-fact-timezone'),
    fact('Contact phone', clinic.contact_phone || 'Not set', 'clinic-fact-phone'),
    fact('Reminders after', `${hour(clinic.reminder_hour)}, the clinic’s time`, 'clinic-fact-reminder'),
    fact(
      'Clinic code',
      [h('strong', { class: 'clinic-code' }, clinic.code), h('div', { class: 'muted small' }, 'Staff who work at more than one clinic give it when signing in.')],
      'clinic-fact-code',
    ),
  ];
}

function clinicForm(clinic, done, cancel) {
  const phone = field('clinic', 'contact_phone', 'Contact phone', h('input', { type: 'tel', value: clinic.contact_phone ?? '', autocomplete: 'off' }), 'The number patients are asked to call, with the country code, such as +49 30 1234 5678. Empty to remove it.');
  const reminder = field(
    'clinic',
    'reminder_hour',
    'Remind patients after',
    h('select', {}, ...Array.from({ length: 24 }, (_, n) => h('option', { value: n, selected: n === clinic.reminder_hour }, hour(n)))),
    'A patient who has not checked in on a scheduled day is reminded after this hour of the clinic’s day.',
  );
  return apiForm({
    prefix: 'clinic',
    title: 'Change the clinic’s settings',
    fields: [phone, reminder],
    submitLabel: 'Save settings',
    read: (f) => ({ contact_phone: f.contact_phone.control.value.trim() || null, reminder_hour: Number(f.reminder_hour.control.value) }),
    send: (body) => api('PATCH', '/v1/clinic', body),
    done,
    cancel,
  });
}

async function clinicSection() {
  const clinic = await get('/v1/clinic');
  const facts = h('div', { class: 'treatment-summary', 'data-testid': 'clinic-facts' }, clinicFacts(clinic));
  const slot = h('div', {});
  const edit = opener('Change settings', 'edit-clinic', slot, (close) =>
    clinicForm(
      clinic,
      (changed) => {
        Object.assign(clinic, changed);
        facts.replaceChildren(...clinicFacts(clinic));
        toast('Settings saved.', 'ok');
        close();
      },
      close,
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'clinic-title', 'data-testid': 'clinic-settings' },
    h('div', { class: 'split settings-head' }, h('h2', { id: 'clinic-title' }, 'Clinic'), edit),
    facts,
    h('p', { class: 'muted small' }, 'The name, time zone and clinic code are set when the clinic is created.'),
    slot,
  );
}

// ---------------------------------------------------------------------------------------------
// Staff

function staffForm(done, cancel) {
  const input = (attrs) => h('input', { type: 'text', autocomplete: 'off', ...attrs });
  return apiForm({
    prefix: 'staff',
    title: 'Add a staff member',
    fields: [
      field('staff', 'name', 'Name', input({ maxlength: 120 })),
      field('staff', 'email', 'Email', input({ type: 'email', spellcheck: 'false' }), 'They sign in with it.'),
      field('staff', 'role', 'Role', h('select', {}, ...Object.entries(ROLES).map(([value, label]) => h('option', { value }, label))), 'Admins also manage these settings and the staff.'),
      field('staff', 'password', 'First password', input({ type: 'password', autocomplete: 'new-password' }), 'At least 12 characters and hard to guess. Hand it over in person, or add them and issue a reset code.'),
    ],
    submitLabel: 'Add staff member',
    read: (f) => ({ name: f.name.control.value.trim(), email: f.email.control.value.trim(), role: f.role.control.value, password: f.password.control.value }),
    send: (body) => post('/v1/staff', body),
    done,
    cancel,
    conflictField: 'email',
  });
}

/** The one-time code just issued, to hand to the staff member. */
function resetResult(member, reset, close) {
  const code = h('input', { type: 'text', id: 'reset-token', readonly: true, value: reset.token, spellcheck: 'false', 'data-testid': 'reset-token' });
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    code.select();
    try {
      await navigator.clipboard.writeText(reset.token);
      toast('Copied.', 'ok');
    } catch {
      toast('Select the code and copy it.', 'error');
    }
  });
  return h(
    'div',
    { class: 'panel desk-form settings-form', role: 'group', 'aria-labelledby': 'reset-title', 'data-testid': 'reset-result' },
    h('h2', { id: 'reset-title' }, `Password reset code for ${member.name}`),
    h('div', { class: 'field' }, h('label', { for: code.id }, 'One-time code'), h('div', { class: 'form-buttons settings-code' }, code, copy)),
    h('p', { class: 'hint', 'data-testid': 'reset-expires' }, `Hand it to ${member.name}: it sets a new password once, until ${formatDate(reset.expires_at, true)}. Only this page shows it; a new code replaces it.`),
    h('div', { class: 'form-buttons' }, h('button', { type: 'button', onclick: close }, 'Done')),
  );
}

async function staffSection() {
  const who = await me();
  const body = h('tbody');
  const resetSlot = h('div', {});
  const closeReset = () => resetSlot.replaceChildren();

  /** A staff member's row, drawn again in place after each change. */
  const row = (s) => {
    const status = s.active ? h('span', { class: 'chip ok' }, 'Active') : h('span', { class: 'chip warn' }, 'Deactivated');
    const act = (label, testid, run) => {
      const button = h('button', { type: 'button', 'data-testid': testid, 'aria-label': `${label}: ${s.name}` }, label);
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await run();
        } catch (err) {
          toast(err.message, 'error');
        }
        button.disabled = false;
      });
      return button;
    };
    const set = (active) => async () => {
      const changed = await post(`/v1/staff/${s.id}/${active ? 'reactivate' : 'deactivate'}`);
      tr.replaceWith(row(changed));
      toast(active ? `${s.name} can sign in again.` : `${s.name} can no longer sign in.`, 'ok');
      body.querySelector(`[data-staff-id="${s.id}"] [data-testid=${active ? 'staff-deactivate' : 'staff-reactivate'}]`)?.focus();
    };
    const reset = async () => {
      const issued = await post(`/v1/staff/${s.id}/password-reset`);
      resetSlot.replaceChildren(resetResult(s, issued, closeReset));
      resetSlot.querySelector('input').focus();
    };
    const self = s.id === who.user_id;
    const tr = h(
      'tr',
      { 'data-testid': 'staff-row', 'data-staff-id': s.id },
      h(
        'th',
        { scope: 'row' },
        h('div', { 'data-testid': 'staff-name' }, s.name, self ? ' (you)' : ''),
        h('div', { class: 'muted small settings-who' }, `${ROLES[s.role] || s.role} · ${s.email}`),
      ),
      h('td', { 'data-testid': 'staff-status' }, status),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'settings-actions' },
          act('Reset password', 'staff-reset', reset),
          // An admin who deactivated themselves would be signed out at once.
          self ? null : s.active ? act('Deactivate', 'staff-deactivate', set(false)) : act('Reactivate', 'staff-reactivate', set(true)),
        ),
      ),
    );
    return tr;
  };
  const append = (items) => {
    for (const s of items) if (!body.querySelector(`[data-staff-id="${s.id}"]`)) body.append(row(s));
  };
  const { more, load } = pager('/v1/staff?limit=50', 'Show more staff', append);
  await load();

  const slot = h('div', {});
  const add = opener('Add staff member', 'add-staff', slot, (close) =>
    staffForm((created) => {
      append([created]);
      toast(`${created.name} added.`, 'ok');
      close();
    }, close),
  );
  add.classList.add('primary');
  return h(
    'section',
    { 'aria-labelledby': 'staff-title', 'data-testid': 'staff-settings' },
    h('div', { class: 'split settings-head' }, h('h2', { id: 'staff-title' }, 'Staff'), add),
    slot,
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Staff (scrolls sideways)' },
      h(
        'table',
        { class: 'settings-staff', 'data-testid': 'staff-table' },
        h('caption', { class: 'sr-only' }, 'The clinic’s staff, oldest first'),
        h('thead', {}, h('tr', {}, ...['Staff member', 'Status', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        body,
      ),
    ),
    more,
    resetSlot,
  );
}

export async function settingsScreen() {
  document.title = 'Settings · Aftercare';
  const [clinic, staff] = await Promise.all([clinicSection(), staffSection()]);
  return h(
    'section',
    { class: 'screen', 'data-testid': 'settings-screen' },
    h('div', { class: 'screen-head' }, h('h1', {}, 'Settings'), h('p', { class: 'muted' }, 'The clinic’s details and who may sign in.')),
    clinic,
    staff,
  );
}
