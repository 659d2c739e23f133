// The patient's details as a form, to add a patient at the front desk or change one: the API
// checks every field, and each error it names is shown beside its field.

import { api } from './api.js';
import { opener, toast } from './dom.js';
import { field as formField, group, refusal, showErrors } from './forms.js';
import { humanize, roman } from './shared.js';
import { h } from './shared/dom.js';

const CONCERNS = ['acne_scars', 'other_scars', 'fine_lines', 'texture', 'pores', 'hyperpigmentation', 'stretch_marks', 'hair_loss'];

const field = (name, label, control, hint) => formField(`patient-${name}`, name, label, control, { hint, errorTestid: `patient-error-${name}` });

/**
 * The form: empty to add a patient, or filled with `patient` to change them. `save(body)` sends it
 * and resolves to the stored patient, which `done` gets.
 */
function patientForm(patient, { submitLabel, save, done, cancel }) {
  const p = patient || { external_ref: '', display_name: null, birth_year: null, fitzpatrick_type: null, concerns: [], contact_phone: null };
  const input = (name, value, attrs = {}) => h('input', { type: 'text', value: value ?? '', 'data-testid': `patient-${name}`, ...attrs });
  const skin = h(
    'select',
    { 'data-testid': 'patient-fitzpatrick_type' },
    h('option', { value: '' }, 'Not recorded'),
    ...[1, 2, 3, 4, 5, 6].map((n) => h('option', { value: n, selected: p.fitzpatrick_type === n }, `Type ${roman(n)}`)),
  );
  const concernBoxes = CONCERNS.map((c) => h('input', { type: 'checkbox', id: `patient-concern-${c}`, value: c, checked: p.concerns.includes(c) }));
  const concerns = group(
    'patient-concerns',
    'concerns',
    'Concerns',
    h('div', { class: 'check-row' }, ...concernBoxes.map((box) => h('label', { class: 'check', for: box.id }, box, humanize(box.value)))),
    { errorTestid: 'patient-error-concerns' },
  );
  const fields = {
    display_name: field('display_name', 'Name', input('display_name', p.display_name, { autocomplete: 'off', maxlength: 120 })),
    external_ref: field('external_ref', 'Record number', input('external_ref', p.external_ref, { autocomplete: 'off', maxlength: 64 }), 'The clinic’s own number for the patient; required.'),
    birth_year: field('birth_year', 'Birth year', input('birth_year', p.birth_year, { inputmode: 'numeric', maxlength: 4, autocomplete: 'off' })),
    fitzpatrick_type: field('fitzpatrick_type', 'Skin type (Fitzpatrick)', skin),
    contact_phone: field('contact_phone', 'Contact phone (optional)', input('contact_phone', p.contact_phone, { type: 'tel', autocomplete: 'off' }), 'With the country code, such as +49 30 1234 5678.'),
  };
  const summary = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'patient-form-error' });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'patient-save' }, submitLabel);
  const form = h(
    'form',
    { class: 'panel desk-form patient-form', novalidate: true, 'data-testid': 'patient-form', 'aria-label': submitLabel },
    fields.display_name.node,
    fields.external_ref.node,
    fields.birth_year.node,
    fields.fitzpatrick_type.node,
    fields.contact_phone.node,
    concerns,
    summary,
    h('div', { class: 'form-buttons' }, submit, h('button', { type: 'button', onclick: cancel }, 'Cancel')),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showErrors(form, summary, []);
    const value = (name) => fields[name].control.value.trim();
    const year = value('birth_year');
    const body = {
      // Sent as typed: the API says what is wrong with it, beside its field.
      external_ref: value('external_ref'),
      display_name: value('display_name') || null,
      birth_year: year === '' ? null : /^\d+$/.test(year) ? Number(year) : year,
      fitzpatrick_type: skin.value ? Number(skin.value) : null,
      concerns: concernBoxes.filter((b) => b.checked).map((b) => b.value),
      contact_phone: value('contact_phone') || null,
    };
    submit.disabled = true;
    try {
      done(await save(body));
    } catch (err) {
      // A taken record number is a conflict (409), not a field error, but it is that field's.
      showErrors(form, summary, refusal(err, 'external_ref'), { fallback: err.message });
    }
    submit.disabled = false;
  });
  return form;
}

/** A button that shows `makeForm(close)` in its slot below, and hides it again. */
function toggled(label, testid, makeForm) {
  const slot = h('div', {});
  return { button: opener(label, testid, slot, makeForm), slot };
}

/** "Add patient" on the patient list: on success, the new patient's page. */
export function addPatientAction() {
  const action = toggled('Add patient', 'add-patient', (close) =>
    patientForm(null, {
      submitLabel: 'Add patient',
      save: (body) => api('POST', '/v1/patients', body),
      done: (created) => {
        toast('Patient added.', 'ok');
        location.hash = `#/patients/${created.id}`;
      },
      cancel: close,
    }),
  );
  action.button.classList.add('primary');
  return action;
}

/** "Edit details" on a patient's page: on success, the page again, showing the changes. */
export function editPatientAction(patient) {
  return toggled('Edit details', 'edit-patient', (close) =>
    patientForm(patient, {
      submitLabel: 'Save changes',
      save: (body) => api('PATCH', `/v1/patients/${patient.id}`, body),
      done: () => {
        toast('Changes saved.', 'ok');
        // The same address: drawn again, as a visit to it would be.
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      },
      cancel: close,
    }),
  );
}
