// tikker dashboard: one page, five views chosen by the URL's fragment. Every request goes to
// the daemon that served the page (same origin), with its session cookie.
import { draw, palette } from './charts.js';

const PAGES = ['overview', 'activity', 'authentication', 'keyboard', 'data'];
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const state = { bucket: 'day', keys: 'use' };

const $ = (id) => document.getElementById(id);

function problem(text) {
  const el = $('problem');
  el.textContent = text;
  el.hidden = !text;
}

/** Fetches JSON from the daemon; throws an Error whose message says what went wrong. */
async function api(path, init = {}) {
  const response = await fetch(path, {
    credentials: 'same-origin',
    ...init,
    headers: { Accept: 'application/json', ...(init.headers || {}) },
  });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const why = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    const error = new Error(response.status === 401
      ? 'This dashboard session has ended: run tikker dashboard (or choose "Open dashboard" in the tray) again.'
      : why);
    error.status = response.status;
    throw error;
  }
  return body;
}

const post = (path, body) => api(path, {
  method: 'POST',
  headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

const number = new Intl.NumberFormat();
const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n)
  ? '–' : new Intl.NumberFormat(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n));
const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const minutes = (m) => (m >= 60 ? `${Math.floor(m / 60)} h ${Math.round(m % 60)} min` : `${Math.round(m)} min`);
const daysAgo = (n) => new Date(Date.now() - n * 86400e3).toISOString();

const VERDICT_WORDS = {
  owner: 'You', likely_owner: 'Probably you', uncertain: 'Uncertain', suspicious: 'Someone else?',
  insufficient: 'Not enough typing', unknown: 'Unknown',
};
const KIND_WORDS = {
  impostor: 'Someone else typing', injection: 'Injected keystrokes', replay: 'Replayed typing',
  new_device: 'A new keyboard', unknown: 'Unknown',
};

function done(alert) {
  const parts = [alert.notified ? 'you were notified' : 'no notification server took it'];
  if (alert.action) parts.push(`alert command: ${alert.action}`);
  return parts.join('; ');
}

// ---------------------------------------------------------------- Overview
async function overview() {
  const [status, activity] = await Promise.all([
    api('/status').catch((e) => (e.status === 409 ? null : Promise.reject(e))),
    api('/activity?bucket=day'),
  ]);
  const today = activity.today;
  $('ov-keystrokes').textContent = number.format(today.keystrokes);
  $('ov-active').textContent = minutes(today.active_minutes);
  $('ov-wpm').textContent = today.wpm === null ? '–' : `${fmt(today.wpm)} WPM`;
  if (status) {
    $('ov-capture').textContent = status.paused ? 'Paused' : status.state === 'capturing' ? 'Recording' : status.state;
    $('ov-source').textContent = [status.source, status.paused_until ? `until ${when(status.paused_until)}` : '']
      .filter(Boolean).join(', ');
    const auth = status.auth || {};
    const needed = auth.enrolment_needed || 0;
    const enrolled = auth.enrolled_keystrokes || 0;
    $('ov-enrolment').textContent = needed && enrolled < needed
      ? `${fmt(100 * enrolled / needed)} %` : (auth.phase === 'off' ? 'Off' : 'Done');
    $('ov-enrolment-bar').value = needed ? Math.min(1, enrolled / needed) : 1;
    $('ov-verdict').textContent = VERDICT_WORDS[auth.verdict] || auth.verdict || '–';
    $('ov-score').textContent = auth.score === null || auth.score === undefined
      ? '' : `score ${fmt(auth.score, 2)}${auth.scored_at ? `, ${when(auth.scored_at)}` : ''}`;
    const last = auth.last_alert;
    $('ov-alert').textContent = last
      ? `${when(last.at)}: ${KIND_WORDS[last.kind] || last.kind}, score ${fmt(last.score, 2)}. ${last.reason}`
      : 'No alert so far.';
  } else {
    $('ov-capture').textContent = 'Not here';
    $('ov-source').textContent = 'this is tikker serve: nothing is captured in this process';
    $('ov-alert').textContent = 'See Authentication.';
  }
  const p = palette();
  draw('chart-today', {
    grid: { left: 56, right: 16, top: 32, bottom: 36 },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'time', axisLabel: { color: p.muted } },
    yAxis: { type: 'value', name: 'keystrokes', nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted } },
    series: [{
      type: 'bar', name: 'Keystrokes', barMaxWidth: 12, itemStyle: { color: p.accent },
      data: today.quarters.map((q) => [q.start, q.keystrokes]),
    }],
  });
}

// ---------------------------------------------------------------- Activity
async function activity() {
  const [data, profile] = await Promise.all([
    api(`/activity?bucket=${state.bucket}`),
    profileCache ? Promise.resolve(profileCache) : api('/profile/owner').catch(() => null),
  ]);
  if (profile) profileCache = profile;
  const p = palette();
  const max = Math.max(1, ...data.days.map((d) => d.keystrokes));
  draw('chart-calendar', {
    tooltip: { renderMode: 'richText', formatter: (x) => `${x.value[0]}: ${number.format(x.value[1])} keystrokes` },
    visualMap: {
      min: 0, max, calculable: false, orient: 'horizontal', left: 'center', bottom: 0,
      itemHeight: 120, textStyle: { color: p.muted }, text: ['more', 'fewer'],
      inRange: { color: p.dark ? ['#1f2a36', '#7fb2ec'] : ['#e4eef9', '#1f5a99'] },
    },
    calendar: {
      range: [data.year_from, data.year_to], top: 28, left: 40, right: 16, cellSize: ['auto', 13],
      itemStyle: { color: p.panel, borderColor: p.line }, splitLine: { show: false },
      dayLabel: { color: p.muted, firstDay: 1 }, monthLabel: { color: p.muted }, yearLabel: { show: false },
    },
    series: [{ type: 'heatmap', coordinateSystem: 'calendar', data: data.days.map((d) => [d.date, d.keystrokes]) }],
  });
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const hours = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}`);
  const weekMax = Math.max(1, ...data.hour_of_week.map((c) => c.keystrokes));
  draw('chart-week', {
    grid: { left: 48, right: 16, top: 12, bottom: 64 },
    tooltip: { renderMode: 'richText', formatter: (x) => `${days[x.value[1]]} ${hours[x.value[0]]}:00–${hours[x.value[0]]}:59: ${number.format(x.value[2])} keystrokes` },
    xAxis: { type: 'category', data: hours, axisLabel: { color: p.muted } },
    yAxis: { type: 'category', data: days, inverse: true, axisLabel: { color: p.muted } },
    visualMap: {
      min: 0, max: weekMax, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120,
      textStyle: { color: p.muted }, text: ['more', 'fewer'],
      inRange: { color: p.dark ? ['#1f2a36', '#7fb2ec'] : ['#e4eef9', '#1f5a99'] },
    },
    series: [{ type: 'heatmap', data: data.hour_of_week.map((c) => [c.hour, c.weekday - 1, c.keystrokes]) }],
  });
  draw('chart-trend', {
    grid: { left: 56, right: 64, top: 56, bottom: 36 },
    legend: { top: 4, textStyle: { color: p.text } },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'category', data: data.trend.map((t) => t.start), axisLabel: { color: p.muted } },
    yAxis: [
      { type: 'value', name: 'WPM', nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted } },
      { type: 'value', name: 'active minutes', nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted }, splitLine: { show: false } },
    ],
    series: [
      { type: 'bar', name: 'Active typing (minutes)', yAxisIndex: 1, barMaxWidth: 16, itemStyle: { color: p.line }, data: data.trend.map((t) => Math.round(t.active_minutes)) },
      { type: 'line', name: 'Words per minute', connectNulls: false, itemStyle: { color: p.accent }, data: data.trend.map((t) => (t.wpm === null ? null : Math.round(t.wpm * 10) / 10)) },
    ],
  });
  draw('chart-rhythm', {
    grid: { left: 56, right: 64, top: 56, bottom: 36 },
    legend: { top: 4, textStyle: { color: p.text } },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'category', data: data.trend.map((t) => t.start), axisLabel: { color: p.muted } },
    yAxis: [
      { type: 'value', name: 'consistency (0–1)', min: 0, max: 1, nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted } },
      { type: 'value', name: 'ms between presses', min: 0, nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted }, splitLine: { show: false } },
    ],
    series: [
      { type: 'bar', name: 'Mean time between presses (ms)', yAxisIndex: 1, barMaxWidth: 16, itemStyle: { color: p.line }, data: data.trend.map((t) => (t.mean_interval_ms === null ? null : Math.round(t.mean_interval_ms))) },
      { type: 'line', name: 'Rhythm consistency (higher = steadier)', connectNulls: false, itemStyle: { color: p.good }, data: data.trend.map((t) => (t.rhythm_consistency === null ? null : Math.round(t.rhythm_consistency * 100) / 100)) },
    ],
  });
  $('trend-rhythm').textContent = profileRhythm();
}

/** The rhythm consistency of the stored profile, for comparison with the chart's. */
function profileRhythm() {
  return profileCache && profileCache.rhythm_consistency !== null
    ? `Your profile's rhythm consistency (weighing recent typing most): ${fmt(profileCache.rhythm_consistency, 2)}.`
    : '';
}

// ---------------------------------------------------------------- Authentication
async function authentication() {
  const [scores, alerts] = await Promise.all([
    api(`/scores?from=${encodeURIComponent(daysAgo(7))}&limit=10000`),
    api('/alerts?limit=200'),
  ]);
  const p = palette();
  const band = (from, to, color, name) => [{ yAxis: from, name, itemStyle: { color } }, { yAxis: to }];
  draw('chart-scores', {
    grid: { left: 48, right: 16, top: 32, bottom: 36 },
    tooltip: { trigger: 'axis', renderMode: 'richText' },
    xAxis: { type: 'time', axisLabel: { color: p.muted } },
    yAxis: { type: 'value', min: 0, max: 1, name: 'score', nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted } },
    series: [
      {
        type: 'line', name: 'Score', showSymbol: scores.length < 200, itemStyle: { color: p.accent },
        data: scores.map((s) => [s.to, s.score]),
        markArea: {
          silent: true,
          label: { color: p.muted, position: 'insideRight' },
          data: [
            band(0.8, 1, 'rgba(46,125,50,0.16)', 'owner'),
            band(0.6, 0.8, 'rgba(46,125,50,0.07)', 'probably the owner'),
            band(0.4, 0.6, 'rgba(240,165,0,0.12)', 'uncertain'),
            band(0, 0.4, 'rgba(179,38,30,0.14)', 'suspicious'),
          ],
        },
      },
      {
        type: 'scatter', name: 'Alert', symbol: 'triangle', symbolSize: 14, itemStyle: { color: p.bad },
        data: alerts.map((a) => [a.created, a.score]),
      },
    ],
  });
  const body = document.querySelector('#alerts tbody');
  body.replaceChildren();
  if (!alerts.length) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 5;
    cell.textContent = 'No alert so far.';
  }
  for (const alert of alerts) {
    const row = body.insertRow();
    row.insertCell().textContent = when(alert.created);
    row.insertCell().textContent = KIND_WORDS[alert.kind] || alert.kind;
    row.insertCell().textContent = `${alert.reason} (score ${fmt(alert.score, 2)})`;
    row.insertCell().textContent = done(alert);
    const action = row.insertCell();
    if (alert.false_alert || alert.marked_false) {
      action.textContent = 'Marked: it was you';
      action.className = 'marked';
    } else {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'It was me';
      button.dataset.alert = alert.id;
      button.setAttribute('aria-label', `It was me: alert of ${when(alert.created)}`);
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await post(`/alerts/${alert.id}/false`);
          action.textContent = 'Marked: it was you';
          action.className = 'marked';
        } catch (e) {
          button.disabled = false;
          problem(`"It was me" failed: ${e.message}`);
        }
      });
      action.append(button);
    }
  }
}

// ---------------------------------------------------------------- Keyboard
// A US ANSI layout in Linux evdev key codes: [code, label, width in key units].
const ROWS = [
  [[1, 'Esc', 1], [59, 'F1', 1], [60, 'F2', 1], [61, 'F3', 1], [62, 'F4', 1], [63, 'F5', 1], [64, 'F6', 1], [65, 'F7', 1], [66, 'F8', 1], [67, 'F9', 1], [68, 'F10', 1], [87, 'F11', 1], [88, 'F12', 1]],
  [[41, '`', 1], [2, '1', 1], [3, '2', 1], [4, '3', 1], [5, '4', 1], [6, '5', 1], [7, '6', 1], [8, '7', 1], [9, '8', 1], [10, '9', 1], [11, '0', 1], [12, '-', 1], [13, '=', 1], [14, 'Backspace', 2]],
  [[15, 'Tab', 1.5], [16, 'Q', 1], [17, 'W', 1], [18, 'E', 1], [19, 'R', 1], [20, 'T', 1], [21, 'Y', 1], [22, 'U', 1], [23, 'I', 1], [24, 'O', 1], [25, 'P', 1], [26, '[', 1], [27, ']', 1], [43, '\\', 1.5]],
  [[58, 'Caps', 1.75], [30, 'A', 1], [31, 'S', 1], [32, 'D', 1], [33, 'F', 1], [34, 'G', 1], [35, 'H', 1], [36, 'J', 1], [37, 'K', 1], [38, 'L', 1], [39, ';', 1], [40, "'", 1], [28, 'Enter', 2.25]],
  [[42, 'Shift', 2.25], [44, 'Z', 1], [45, 'X', 1], [46, 'C', 1], [47, 'V', 1], [48, 'B', 1], [49, 'N', 1], [50, 'M', 1], [51, ',', 1], [52, '.', 1], [53, '/', 1], [54, 'Shift', 2.75]],
  [[29, 'Ctrl', 1.25], [125, 'Super', 1.25], [56, 'Alt', 1.25], [57, 'Space', 5.75], [100, 'Alt', 1.25], [97, 'Ctrl', 1.25], [105, '←', 1], [108, '↓', 1], [103, '↑', 1], [106, '→', 1]],
];

let profileCache = null;

function drawKeyboard(profile) {
  const p = palette();
  const byCode = new Map(profile.keys.map((k) => [k.code, k]));
  const measure = state.keys === 'use' ? (k) => k.share * 100 : (k) => k.hold_ms;
  const cells = [];
  ROWS.forEach((row, y) => {
    let x = 0;
    for (const [code, label, width] of row) {
      const key = byCode.get(code);
      cells.push([x, y, width, key ? measure(key) : null, label, key ? key.presses : 0, key ? key.hold_ms : null]);
      x += width;
    }
  });
  const values = cells.map((c) => c[3]).filter((v) => v !== null);
  const unit = state.keys === 'use' ? '% of presses' : 'ms held (median)';
  draw('chart-keyboard', {
    tooltip: {
      renderMode: 'richText',
      formatter: (x) => (x.value[3] === null ? `${x.value[4]}: not in the profile`
        : `${x.value[4]}: ${fmt(x.value[5] * 1)} presses, ${fmt(x.value[6])} ms held (median)`),
    },
    visualMap: {
      min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 1,
      dimension: 3, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 160,
      text: [unit, ''], textStyle: { color: p.muted },
      inRange: { color: state.keys === 'use' ? (p.dark ? ['#24313f', '#7fb2ec'] : ['#e4eef9', '#1f5a99']) : ['#7dcf84', '#f0a500', '#e0584f'] },
      outOfRange: { color: p.line },
    },
    grid: { left: 8, right: 8, top: 8, bottom: 44 },
    xAxis: { type: 'value', min: 0, max: 16, show: false },
    yAxis: { type: 'value', min: 0, max: 6, inverse: true, show: false },
    series: [{
      type: 'custom',
      encode: { x: 0, y: 1 },
      data: cells,
      renderItem: (params, api) => {
        const [x0, y0] = api.coord([api.value(0), api.value(1)]);
        const [x1, y1] = api.coord([api.value(0) + api.value(2), api.value(1) + 1]);
        const known = api.value(3) !== null && !Number.isNaN(api.value(3));
        return {
          type: 'group',
          children: [
            {
              type: 'rect', shape: { x: x0 + 2, y: y0 + 2, width: x1 - x0 - 4, height: y1 - y0 - 4, r: 4 },
              style: { fill: known ? api.visual('color') : 'transparent', stroke: p.line },
            },
            {
              type: 'text', silent: true,
              style: { x: (x0 + x1) / 2, y: (y0 + y1) / 2, text: String(cells[params.dataIndex][4]), fill: p.text, stroke: p.panel, lineWidth: 3, align: 'center', verticalAlign: 'middle', fontSize: 12 },
            },
          ],
        };
      },
    }],
  });
}

function pairChart(id, pairs, value, name) {
  const p = palette();
  draw(id, {
    grid: { left: 72, right: 24, top: 8, bottom: 36 },
    tooltip: { renderMode: 'richText', formatter: (x) => `${x.name}: ${fmt(x.value, 1)} ${name}` },
    xAxis: { type: 'value', name, nameLocation: 'middle', nameGap: 24, nameTextStyle: { color: p.muted }, axisLabel: { color: p.muted } },
    yAxis: { type: 'category', inverse: true, data: pairs.map((d) => d.pair), axisLabel: { color: p.text } },
    series: [{ type: 'bar', barMaxWidth: 14, itemStyle: { color: p.accent }, data: pairs.map(value) }],
  });
}

async function keyboard() {
  let profile;
  try {
    profile = profileCache || await api('/profile/owner');
  } catch (e) {
    if (e.status === 404) {
      $('profile-words').replaceChildren(Object.assign(document.createElement('p'), { textContent: e.message }));
      return;
    }
    throw e;
  }
  profileCache = profile;
  drawKeyboard(profile);
  pairChart('chart-slowest', profile.slowest_digraphs, (d) => d.ppt_ms, 'ms press to press');
  pairChart('chart-characteristic', profile.characteristic_digraphs, (d) => d.distinctiveness, 'standard errors from your usual (+ slower)');
  $('profile-words').replaceChildren(...profile.words.map((w) => Object.assign(document.createElement('p'), { textContent: w })));
}

// ---------------------------------------------------------------- Data and control
async function data() {
  const status = await api('/status').catch((e) => (e.status === 409 ? null : Promise.reject(e)));
  $('pause').disabled = !status || status.paused;
  $('resume').disabled = !status || !status.paused;
  $('data-capture').textContent = !status
    ? 'Nothing is captured by this process (tikker serve): pause and resume belong to tikker daemon.'
    : status.paused
      ? `Paused${status.paused_until ? ` until ${when(status.paused_until)}` : ' until you resume'}: nothing is recorded.`
      : `Recording from ${status.source || 'no source yet'} (${status.state}).`;
  const storage = $('storage');
  storage.replaceChildren();
  const add = (term, text) => {
    storage.append(Object.assign(document.createElement('dt'), { textContent: term }));
    storage.append(Object.assign(document.createElement('dd'), { textContent: text }));
  };
  if (status) {
    add('Database', status.database);
    const privacy = status.privacy;
    if (privacy) {
      const where = { keyring: 'encrypted (SQLCipher), the key in the desktop\'s Secret Service',
        keyfile: 'encrypted (SQLCipher), the key in a file', off: 'not encrypted' };
      add('Encryption', `${where[privacy.encryption] || privacy.encryption}${privacy.key_file ? ` (${privacy.key_file})` : ''}`);
      if (privacy.note) add('Note', privacy.note);
      add('Raw key events kept', privacy.raw_retention_days
        ? `${privacy.raw_retention_days} days (older ones are deleted daily; the rollups, profile, scores and alerts stay)`
        : 'only what the monitor still needs');
      if (privacy.raw_kept_from) add('Raw key events from', when(privacy.raw_kept_from));
    } else {
      add('Encryption and retention', 'not reported by this daemon');
    }
  }
  const exports = $('exports');
  exports.replaceChildren();
  for (const [href, text] of [
    ['/stats/daily', 'Statistics per day (JSON)'],
    ['/activity?bucket=month', 'Activity: per day, hour of the week, per month (JSON)'],
    [`/scores?limit=10000`, 'The newest 10,000 scored windows (JSON)'],
    ['/alerts?limit=10000', 'Alerts (JSON)'],
    ['/profile/owner', 'Your profile (JSON)'],
  ]) {
    const a = Object.assign(document.createElement('a'), { href, textContent: text, download: '' });
    const li = document.createElement('li');
    li.append(a);
    exports.append(li);
  }
  const raw = document.createElement('li');
  raw.append('Raw key events: ', Object.assign(document.createElement('code'), { textContent: 'tikker export' }), ' on the command line.');
  exports.append(raw);
}

function wireControls() {
  $('pause').addEventListener('click', () => post('/pause').then(data).catch((e) => problem(`Pause failed: ${e.message}`)));
  $('resume').addEventListener('click', () => post('/resume').then(data).catch((e) => problem(`Resume failed: ${e.message}`)));
  $('forget').addEventListener('submit', async (event) => {
    event.preventDefault();
    const n = Number($('forget-minutes').value);
    try {
      const answer = await post('/data/forget', { last_minutes: n });
      $('forget-result').textContent = answer.message;
      profileCache = null;
    } catch (e) {
      $('forget-result').textContent = `Forget failed: ${e.message}`;
    }
  });
  document.querySelectorAll('[data-bucket]').forEach((b) => b.addEventListener('click', () => {
    state.bucket = b.dataset.bucket;
    document.querySelectorAll('[data-bucket]').forEach((o) => o.setAttribute('aria-pressed', String(o === b)));
    activity().catch((e) => problem(e.message));
  }));
  document.querySelectorAll('[data-keys]').forEach((b) => b.addEventListener('click', () => {
    state.keys = b.dataset.keys;
    document.querySelectorAll('[data-keys]').forEach((o) => o.setAttribute('aria-pressed', String(o === b)));
    if (profileCache) drawKeyboard(profileCache);
  }));
}

const VIEWS = { overview, activity, authentication, keyboard, data };

async function show() {
  const wanted = location.hash.slice(1);
  const page = PAGES.includes(wanted) ? wanted : 'overview';
  document.querySelectorAll('section[data-page]').forEach((s) => { s.hidden = s.dataset.page !== page; });
  document.querySelectorAll('nav a').forEach((a) => {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  document.title = `tikker: ${document.querySelector(`nav a[data-page="${page}"]`).textContent}`;
  problem('');
  document.body.dataset.ready = '';
  try {
    await VIEWS[page]();
    // Milliseconds from the start of the navigation to a complete page (the benchmark reads it).
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = page;
  } catch (e) {
    problem(e.message);
    document.body.dataset.ready = `${page}:failed`;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('tz').textContent = `${zone} (your browser's time zone)`;
  wireControls();
  window.addEventListener('hashchange', show);
  show();
});
