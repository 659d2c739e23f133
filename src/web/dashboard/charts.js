// Charts drawn as SVG by hand: a patient's daily scores against the cohort, a protocol's daily
// score distribution, and Kaplan-Meier time-to-resolution curves. No library, no inline styles.

import { s } from './shared/dom.js';

let ids = 0;

const f = (n) => (Math.round(n * 10) / 10).toString();

/** The narrowest viewBox drawn: below it the plot would be too cramped to read. */
const MIN_WIDTH = 280;

/**
 * Draws `draw(width)` at a first guess of its width, then again, in place, whenever the SVG's
 * rendered width changes: the viewBox is as wide as the SVG renders (up to `max`), so its text
 * renders at its CSS size on a phone, where a fixed 640-wide viewBox would shrink it to half.
 */
function responsive(max, draw) {
  const fit = (px) => Math.round(Math.max(MIN_WIDTH, Math.min(max, px)));
  let drawn = fit(window.innerWidth - 64);
  const svg = draw(drawn);
  new ResizeObserver(([entry]) => {
    const width = fit(entry.contentRect.width);
    if (!entry.contentRect.width || Math.abs(width - drawn) < 2) return;
    drawn = width;
    const next = draw(width);
    for (const a of next.attributes) svg.setAttribute(a.name, a.value);
    svg.replaceChildren(...next.childNodes);
  }).observe(svg);
  return svg;
}

/**
 * An empty chart: axes, grid and labels; `x` and `y` map data to the drawing. The SVG scales to
 * its container's width (its viewBox is fixed) and is labelled for screen readers.
 */
function frame({ width = 640, height = 250, left = 92, xMin, xMax, yMin, yMax, xTicks, yTicks, xLabel, title, desc, testid }) {
  const m = { top: 14, right: 18, bottom: 40, left };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  if (typeof xTicks === 'function') xTicks = xTicks(w);
  const x = (v) => m.left + ((v - xMin) / (xMax - xMin)) * w;
  const y = (v) => m.top + h - ((v - yMin) / (yMax - yMin)) * h;
  const id = `chart-${++ids}`;
  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'aria-labelledby': `${id}-title ${id}-desc`,
    'data-testid': testid,
  });
  svg.append(s('title', { id: `${id}-title` }, title), s('desc', { id: `${id}-desc` }, desc));
  const grid = s('g', { class: 'axes', 'aria-hidden': 'true' });
  for (const t of yTicks) {
    grid.append(
      s('line', { x1: m.left, x2: m.left + w, y1: f(y(t.value)), y2: f(y(t.value)) }),
      s('text', { x: m.left - 8, y: f(y(t.value)), class: 'tick y', 'dominant-baseline': 'middle' }, t.label),
    );
  }
  for (const t of xTicks) {
    grid.append(
      s('line', { x1: f(x(t)), x2: f(x(t)), y1: m.top + h, y2: m.top + h + 4, class: 'tickmark' }),
      s('text', { x: f(x(t)), y: m.top + h + 16, class: 'tick x' }, t),
    );
  }
  grid.append(
    s('line', { x1: m.left, x2: m.left + w, y1: m.top + h, y2: m.top + h, class: 'axis' }),
    s('text', { x: m.left + w / 2, y: height - 4, class: 'axis-label' }, xLabel),
  );
  svg.append(grid);
  const plot = s('g', { class: 'plot' });
  svg.append(plot);
  return { svg, plot, x, y, top: m.top, bottom: m.top + h };
}

/** Day ticks for a plot `w` wide: every day, or every 2nd, 7th or 14th, at least 26 units apart. */
const dayTicks = (xMax) => (w) => {
  const step = [1, 2, 7, 14].find((st) => (w * st) / Math.max(1, xMax) >= 26) ?? 28;
  const ticks = [];
  for (let d = 0; d <= xMax; d += step) ticks.push(d);
  return ticks;
};

/** Runs of consecutive days for which `value(d)` is a number. */
function runs(days, value) {
  const out = [];
  let run = [];
  for (const d of days) {
    const v = value(d);
    if (v === null || v === undefined) {
      if (run.length) out.push(run);
      run = [];
      continue;
    }
    if (run.length && d.day !== run[run.length - 1].day + 1) {
      out.push(run);
      run = [];
    }
    run.push({ day: d.day, v });
  }
  if (run.length) out.push(run);
  return out;
}

/** A step area from `base` up to each day's value, a day wide around the day. */
function stepArea(x, y, days, value, base) {
  let d = '';
  for (const run of runs(days, value)) {
    d += `M${f(x(run[0].day - 0.5))},${f(y(base))}`;
    for (const p of run) d += `L${f(x(p.day - 0.5))},${f(y(p.v))}L${f(x(p.day + 0.5))},${f(y(p.v))}`;
    d += `L${f(x(run[run.length - 1].day + 0.5))},${f(y(base))}Z`;
  }
  return d;
}

/** A step line through each day's value, a day wide around the day. */
function stepLine(x, y, days, value) {
  let d = '';
  for (const run of runs(days, value)) {
    run.forEach((p, i) => {
      d += `${i ? 'L' : 'M'}${f(x(p.day - 0.5))},${f(y(p.v))}L${f(x(p.day + 0.5))},${f(y(p.v))}`;
    });
  }
  return d;
}

function scaleTicks(answers) {
  return answers.map((a) => ({ value: a.value, label: a.label }));
}

/**
 * One symptom of one patient: the daily scores as a line, broken where a day went unreported, over
 * the cohort's usual range (a band up to its 90th percentile) and its median, on the days 20 or
 * more treatments reported. A yes/no symptom (two answers) is drawn as steps between its No and
 * Yes rows, its band starting at No. `days`: [{day, score, cohort_median, cohort_p90}], the
 * patient's; `cohort` (optional): [{day, median, p90}], every day the cohort has figures for;
 * `answers`: [{value, label}].
 */
export function patientChart({ label, days, answers, lastDay, cohort }) {
  return responsive(640, (width) => drawPatientChart({ label, days, answers, lastDay, cohort, width }));
}

function drawPatientChart({ label, days, answers, lastDay, cohort, width }) {
  const maxScore = answers[answers.length - 1].value;
  const presence = answers.length === 2;
  const base = presence ? 0 : -0.2;
  const xMax = Math.max(7, lastDay, ...days.map((d) => d.day));
  const last = days[days.length - 1];
  const c = frame({
    width,
    xMin: -0.5,
    xMax: xMax + 0.5,
    yMin: -0.2,
    yMax: maxScore + 0.2,
    xTicks: dayTicks(xMax),
    yTicks: scaleTicks(answers),
    xLabel: 'Days since treatment',
    title: `${label}: daily score against the protocol's patients`,
    desc: last
      ? `Reported on ${days.length} days; on day ${last.day} ${answerLabel(answers, last.score)}.`
      : 'Not reported.',
    testid: 'patient-chart',
  });
  // The cohort's figures on every day it has them, else on the patient's days.
  const band = cohort ?? days.map((d) => ({ day: d.day, median: d.cohort_median, p90: d.cohort_p90 }));
  if (band.some((d) => d.p90 !== null && d.p90 !== undefined)) {
    c.plot.append(
      s('path', { d: stepArea(c.x, c.y, band, (d) => d.p90, base), class: 'band', 'data-testid': 'cohort-band' }),
      s('path', { d: stepLine(c.x, c.y, band, (d) => d.median), class: 'median', 'data-testid': 'cohort-median' }),
    );
  }
  // A day without a check-in is missing, not the average of its neighbours: the line breaks there.
  const line = presence
    ? stepLine(c.x, c.y, days, (d) => d.score)
    : runs(days, (d) => d.score)
        .map((run) => run.map((p, i) => `${i ? 'L' : 'M'}${f(c.x(p.day))},${f(c.y(p.v))}`).join(''))
        .join('');
  c.plot.append(s('path', { d: line, class: presence ? 'patient presence' : 'patient', 'data-testid': 'patient-line' }));
  for (const d of days) {
    const above = d.cohort_p90 !== null && d.cohort_p90 !== undefined && d.score > d.cohort_p90;
    const cohort =
      d.cohort_p90 === null || d.cohort_p90 === undefined
        ? 'too few patients that day to compare'
        : `cohort median ${answerLabel(answers, d.cohort_median)}, 90% at or below ${answerLabel(answers, d.cohort_p90)}`;
    c.plot.append(
      s(
        'circle',
        { cx: f(c.x(d.day)), cy: f(c.y(d.score)), r: above ? 5 : 4, class: above ? 'point above' : 'point', 'data-testid': 'patient-point' },
        s('title', {}, `Day ${d.day}: ${answerLabel(answers, d.score)} (${cohort})`),
      ),
    );
  }
  return c.svg;
}

export function answerLabel(answers, value) {
  const a = answers.find((x) => x.value === value);
  return a ? `${a.label} (${value})` : String(value);
}

/**
 * A protocol's daily scores for one symptom: bands up to the 90th and 75th percentiles, the
 * median as a step line and the mean as a dotted line. `days`: DayStats.
 */
export function cohortChart({ label, days, answers, xMax }) {
  return responsive(640, (width) => drawCohortChart({ label, days, answers, xMax, width }));
}

function drawCohortChart({ label, days, answers, xMax, width }) {
  const maxScore = answers[answers.length - 1].value;
  const base = answers.length === 2 ? 0 : -0.2;
  const reported = days.filter((d) => d.n > 0 && d.day <= xMax);
  const c = frame({
    width,
    xMin: -0.5,
    xMax: xMax + 0.5,
    yMin: -0.2,
    yMax: maxScore + 0.2,
    xTicks: dayTicks(xMax),
    yTicks: scaleTicks(answers),
    xLabel: 'Days since treatment',
    title: `${label}: daily scores of the protocol's patients`,
    desc: `Median, 75th and 90th percentile of the daily score, on ${reported.length} days with reports.`,
    testid: 'cohort-chart',
  });
  c.plot.append(
    s('path', { d: stepArea(c.x, c.y, reported, (d) => d.p90, base), class: 'band', 'data-testid': 'cohort-p90' }),
    s('path', { d: stepArea(c.x, c.y, reported, (d) => d.p75, base), class: 'band inner', 'data-testid': 'cohort-p75' }),
    s('path', { d: stepLine(c.x, c.y, reported, (d) => d.median), class: 'median', 'data-testid': 'cohort-median' }),
  );
  const mean = runs(reported, (d) => d.mean)
    .map((run) => run.map((p, i) => `${i ? 'L' : 'M'}${f(c.x(p.day))},${f(c.y(p.v))}`).join(''))
    .join('');
  c.plot.append(s('path', { d: mean, class: 'mean', 'data-testid': 'cohort-mean' }));
  for (const d of reported) {
    const pct = d.moderate_or_worse === null ? '' : `, ${Math.round(d.moderate_or_worse * 100)}% moderate or worse`;
    c.plot.append(
      s(
        'rect',
        { x: f(c.x(d.day - 0.5)), width: f(c.x(1) - c.x(0)), y: c.top, height: c.bottom - c.top, class: 'hover' },
        s(
          'title',
          {},
          `Day ${d.day}: ${d.n} reported; mean ${d.mean === null ? '—' : d.mean.toFixed(2)}, median ${d.median ?? '—'}, ` +
            `75th percentile ${d.p75 ?? '—'}, 90th percentile ${d.p90 ?? '—'}${pct}`,
        ),
      ),
    );
  }
  return c.svg;
}

/** A step curve through KM points (share unresolved after each day), from 1 at day 0. */
function kmPath(x, y, curve, pick, xMax) {
  let prev = 1;
  let d = `M${f(x(0))},${f(y(1))}`;
  for (const p of curve) {
    if (p.day > xMax) break;
    const v = pick(p);
    d += `L${f(x(p.day))},${f(y(prev))}L${f(x(p.day))},${f(y(v))}`;
    prev = v;
  }
  return { d: `${d}L${f(x(xMax))},${f(y(prev))}`, last: prev };
}

/** The 95% band of a KM curve, as one closed step area. */
function kmBand(x, y, curve, xMax) {
  const upper = kmPath(x, y, curve, (p) => p.ci_high, xMax).d;
  const points = curve.filter((p) => p.day <= xMax);
  let d = `L${f(x(xMax))},${f(y(points.length ? points[points.length - 1].ci_low : 1))}`;
  for (let i = points.length - 1; i >= 0; i--) {
    const before = i > 0 ? points[i - 1].ci_low : 1;
    d += `L${f(x(points[i].day))},${f(y(points[i].ci_low))}L${f(x(points[i].day))},${f(y(before))}`;
  }
  return `${upper}${d}L${f(x(0))},${f(y(1))}Z`;
}

/**
 * Kaplan-Meier time to resolution: the share of affected treatments not yet resolved after each
 * day, with its 95% band, for one or more protocols. `series`: [{name, curve, medianDay, tone, end}],
 * where `end` is the last day to draw.
 */
export function survivalChart({ label, series, xMax, width = 640, height }) {
  return responsive(width, (w) => drawSurvivalChart({ label, series, xMax, width: w, height }));
}

function drawSurvivalChart({ label, series, xMax, width, height }) {
  const c = frame({
    width,
    height,
    xMin: 0,
    xMax,
    yMin: 0,
    yMax: 1,
    left: 52,
    xTicks: dayTicks(xMax),
    yTicks: [0, 0.25, 0.5, 0.75, 1].map((v) => ({ value: v, label: `${v * 100}%` })),
    xLabel: 'Days since treatment',
    title: `${label}: share not yet resolved`,
    desc: series
      .map((sr) => `${sr.name}: ${sr.medianDay === null ? 'half not resolved within the period' : `half resolved by day ${sr.medianDay}`}.`)
      .join(' '),
    testid: 'km-chart',
  });
  c.plot.append(s('line', { x1: c.x(0), x2: c.x(xMax), y1: c.y(0.5), y2: c.y(0.5), class: 'guide' }));
  // Each curve ends on the last day its treatments reported: past it, there is nothing to draw.
  const endOf = (sr) => Math.min(xMax, sr.end ?? xMax);
  for (const sr of series) {
    c.plot.append(s('path', { d: kmBand(c.x, c.y, sr.curve, endOf(sr)), class: `km-band ${sr.tone}`, 'data-testid': 'km-band' }));
  }
  for (const sr of series) {
    const end = endOf(sr);
    c.plot.append(s('path', { d: kmPath(c.x, c.y, sr.curve, (p) => p.unresolved, end).d, class: `km ${sr.tone}`, 'data-testid': 'km-curve' }));
    if (sr.medianDay !== null && sr.medianDay <= end) {
      c.plot.append(
        s(
          'line',
          { x1: f(c.x(sr.medianDay)), x2: f(c.x(sr.medianDay)), y1: f(c.y(0.5)), y2: c.bottom, class: `median-day ${sr.tone}` },
          s('title', {}, `${sr.name}: half resolved by day ${sr.medianDay}`),
        ),
      );
    }
    for (const p of sr.curve.filter((q) => q.day <= end)) {
      c.plot.append(
        s(
          'rect',
          { x: f(c.x(p.day) - 3), width: 6, y: f(c.y(p.ci_high) - 3), height: f(c.y(p.ci_low) - c.y(p.ci_high) + 6), class: 'hover' },
          s('title', {}, `${sr.name}, after day ${p.day}: ${Math.round(p.unresolved * 100)}% not resolved (95% band ${Math.round(p.ci_low * 100)}–${Math.round(p.ci_high * 100)}%)`),
        ),
      );
    }
  }
  return c.svg;
}

/** A tiny line of the worst score per day, for lists. */
export function sparkline(points, maxScore = 4, label = '') {
  const width = 120;
  const height = 28;
  const xMax = Math.max(7, ...points.map((p) => p.day));
  const x = (d) => 3 + (d / xMax) * (width - 6);
  const y = (v) => height - 4 - (v / maxScore) * (height - 8);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'spark', role: 'img', 'aria-label': label });
  svg.append(s('line', { x1: 0, x2: width, y1: y(0), y2: y(0), class: 'spark-base' }));
  if (points.length) {
    svg.append(s('path', { d: points.map((p, i) => `${i ? 'L' : 'M'}${f(x(p.day))},${f(y(p.v))}`).join(''), class: 'spark-line' }));
    const last = points[points.length - 1];
    svg.append(s('circle', { cx: f(x(last.day)), cy: f(y(last.v)), r: 2.5, class: 'spark-end' }));
  }
  return svg;
}
