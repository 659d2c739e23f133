// "My recovery": per symptom the patient reported, their answer each day drawn over the band that
// 9 in 10 of the protocol's patients stayed within and the middle answer, with a sentence that
// says how it is going in plain words.

import { answerWords, symptomLabel, t } from './i18n.js';
import { h, s } from './shared/dom.js';

const W = 340;
const H = 170;
const PAD = { left: 78, right: 10, top: 10, bottom: 28 };

function scales(maxDay, maxScore) {
  const x = (day) => PAD.left + (day / Math.max(maxDay, 1)) * (W - PAD.left - PAD.right);
  const y = (score) => H - PAD.bottom - (score / maxScore) * (H - PAD.top - PAD.bottom);
  return { x, y };
}

const line = (points) => points.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');

function chart(symptom, item) {
  const words = answerWords(item);
  const maxScore = words.length - 1;
  const maxDay = Math.max(7, ...symptom.days.map((d) => d.day), symptom.usual_resolution_day ?? 0);
  const { x, y } = scales(maxDay, maxScore);
  const cohort = symptom.days.filter((d) => d.cohort_p90 !== null && d.cohort_p90 !== undefined);
  const band = cohort.length ? `${line(cohort.map((d) => [x(d.day), y(d.cohort_p90)]))} L${x(cohort.at(-1).day).toFixed(1)},${y(0)} L${x(cohort[0].day).toFixed(1)},${y(0)} Z` : null;
  const grid = words.map((word, score) => [
    s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(score), y2: y(score), class: 'grid' }),
    s('text', { x: PAD.left - 6, y: y(score) + 4, 'text-anchor': 'end', class: 'axis' }, word),
  ]);
  const anchors = ['start', 'middle', 'end'];
  const ticks = [0, Math.round(maxDay / 2), maxDay].map((day, i) => s('text', { x: x(day), y: H - 8, 'text-anchor': anchors[i], class: 'axis' }, `${t('day')} ${day}`));
  const label = t('chart_label', { symptom: symptomLabel(item) });
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'chart', 'data-testid': `chart-${symptom.code}` },
    grid,
    ticks,
    band ? s('path', { d: band, class: 'band', 'data-testid': 'usual-range' }) : null,
    cohort.length ? s('path', { d: line(cohort.map((d) => [x(d.day), y(d.cohort_median)])), class: 'median', 'data-testid': 'usual-middle' }) : null,
    s('path', { d: line(symptom.days.map((d) => [x(d.day), y(d.score)])), class: 'you' }),
    symptom.days.map((d) => s('circle', { cx: x(d.day), cy: y(d.score), r: 4.5, class: 'you', 'data-testid': 'my-point' }, s('title', {}, t('chart_point', { day: d.day, answer: words[d.score] ?? d.score })))),
  );
}

function sentence(symptom) {
  if (symptom.slower_than_usual) return h('p', { class: 'note warn' }, t('slower'));
  if (symptom.resolved_day !== null && symptom.resolved_day !== undefined) return h('p', { class: 'note ok' }, t('resolved_on', { day: symptom.resolved_day }));
  if (symptom.usual_resolution_day !== null && symptom.usual_resolution_day !== undefined) return h('p', { class: 'note' }, t('usually_by', { day: symptom.usual_resolution_day }));
  return null;
}

const key = (cls, text) => h('li', {}, h('span', { class: `key ${cls}`, 'aria-hidden': 'true' }), text);

export function recoveryScreen({ recovery, catalogue }) {
  const byCode = new Map(catalogue.map((i) => [i.code, i]));
  const reported = (recovery ? recovery.symptoms : []).filter((sym) => byCode.has(sym.code));
  const shown = reported.filter((sym) => sym.days.some((d) => d.score > 0));
  const none = reported.filter((sym) => !shown.includes(sym)).map((sym) => symptomLabel(byCode.get(sym.code)));
  return h(
    'section',
    { 'aria-labelledby': 'recovery-title', 'data-testid': 'recovery' },
    h('h1', { id: 'recovery-title' }, t('recovery_title')),
    h('p', {}, t('recovery_intro')),
    h('ul', { class: 'legend' }, key('you', t('you')), key('median', t('usual_middle')), key('band', t('usual_range'))),
    shown.length
      ? shown.map((sym) => h('figure', { class: 'panel', 'data-testid': 'recovery-symptom' }, h('figcaption', {}, h('h2', {}, symptomLabel(byCode.get(sym.code)))), chart(sym, byCode.get(sym.code)), sentence(sym)))
      : h('p', { class: 'panel', 'data-testid': 'recovery-none' }, t('recovery_none')),
    none.length ? h('p', { class: 'muted' }, t('none_so_far', { list: none.join(', ') })) : null,
  );
}
