/*
 * The web UI: a single page with hash routes over benchmon's own REST API.
 *   #/                    sessions (refreshes every 5 s)
 *   #/sessions/<id>       targets with live health (every 3 s), phases, collections
 *   #/collections/<id>    KPI table and plots (collection-view.js, shared with report.html)
 * When BENCHMON_API_TOKEN is set, an /api call answers 401: the page then asks for the token,
 * keeps it in this tab's sessionStorage and sends it as `Authorization: Bearer`.
 */
const { h, formatValue, formatTime, formatAge } = globalThis.BenchmonDom;
const { renderCollection } = globalThis.BenchmonCollectionView;

const TOKEN_KEY = 'benchmon.apiToken';
const SESSIONS_EVERY_MS = 5000;
const SESSION_EVERY_MS = 3000;

const app = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const tokenState = document.getElementById('token-state');

class TokenRequired extends Error {
  constructor(rejected, message) {
    super(message || 'API token required');
    this.rejected = rejected;
  }
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

function showTokenState() {
  const token = storedToken();
  tokenState.replaceChildren(token
    ? h('span', null, 'API token set · ', h('button', { type: 'button', class: 'link', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); route(); } }, 'forget'))
    : '');
}

async function api(path, init) {
  const token = storedToken();
  const headers = { accept: 'application/json' };
  if (init && init.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { ...(init || {}), headers });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `cannot reach benchmon (${err && err.message ? err.message : err})`);
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const error = body && body.error ? body.error : {};
  if (res.status === 401) throw new TokenRequired(token !== '', error.message);
  if (!res.ok) throw new ApiError(res.status, error.code || `HTTP_${res.status}`, error.message || res.statusText || `HTTP ${res.status}`);
  return body;
}

function setCrumbs(...parts) {
  crumbs.replaceChildren(...parts.flatMap((p, i) => (i === 0 ? [p] : [' / ', p])));
}

/** The "token required" state: what is needed, where it goes, and a field to enter it. */
function showTokenForm(err) {
  setCrumbs('API token required');
  const input = h('input', { id: 'token-input', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'BENCHMON_API_TOKEN', required: true, minlength: '1' });
  const form = h('form', { class: 'token-form', onsubmit: (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (value === '') return;
    sessionStorage.setItem(TOKEN_KEY, value);
    route();
  } },
  h('label', { for: 'token-input' }, 'API token'), input, h('button', { type: 'submit' }, 'Use this token'));
  app.replaceChildren(h('section', { class: 'token-required', dataset: { state: 'token-required' } },
    h('h1', null, 'API token required'),
    h('p', null, 'This benchmon protects its API with a token (BENCHMON_API_TOKEN). Enter the token to see sessions, targets and collections. It is kept in this browser tab only (sessionStorage) and sent as an Authorization: Bearer header.'),
    err.rejected ? h('p', { class: 'error', id: 'token-rejected' }, `The token was rejected: ${err.message}. Enter the right one.`) : null,
    form));
  input.focus();
  showTokenState();
}

function showError(where, err) {
  where.replaceChildren(h('p', { class: 'error' }, err.status ? `${err.message} (${err.code}, HTTP ${err.status})` : err.message));
}

/**
 * Runs load() now and every everyMs until stopped; a 401 switches the page to the token form.
 * Another failure is shown in `status` and retried (benchmon restarting must not need a reload).
 */
function poll(load, everyMs, status) {
  let stopped = false;
  let timer;
  const tick = async () => {
    try {
      await load();
      if (status) status.classList.remove('error');
    } catch (err) {
      if (stopped) return;
      if (err instanceof TokenRequired) {
        stopped = true;
        showTokenForm(err);
        return;
      }
      if (status) {
        status.classList.add('error');
        const what = err.status ? `${err.message} (${err.code}, HTTP ${err.status})` : err.message;
        status.textContent = everyMs > 0 ? `${what}; retrying` : what;
      } else throw err;
    }
    if (!stopped && everyMs > 0) timer = setTimeout(tick, everyMs);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function updatedLine(status, everyMs) {
  status.textContent = `updated ${new Date().toISOString().slice(11, 19)}Z · refreshes every ${everyMs / 1000} s`;
}

const sessionHref = (id) => `#/sessions/${encodeURIComponent(id)}`;
const collectionHref = (id) => `#/collections/${encodeURIComponent(id)}`;

function sessionsPage() {
  setCrumbs('sessions');
  const status = h('p', { class: 'muted status' });
  const body = h('div');
  app.replaceChildren(h('h1', null, 'Sessions'), status, body);
  return poll(async () => {
    const { sessions } = await api('/api/v1/sessions');
    updatedLine(status, SESSIONS_EVERY_MS);
    if (sessions.length === 0) {
      body.replaceChildren(h('p', { class: 'empty' }, 'No sessions yet. Create one with POST /api/v1/sessions or `benchmon session-create --session NAME`.'));
      return;
    }
    body.replaceChildren(h('table', { id: 'sessions', class: 'grid' },
      h('thead', null, h('tr', null, ['session', 'labels', 'targets', 'scrape interval', 'created (UTC)'].map((x) => h('th', null, x)))),
      h('tbody', null, sessions.map((s) => h('tr', { dataset: { session: s.session_id } },
        h('td', null, h('a', { href: sessionHref(s.session_id) }, s.session_id)),
        h('td', null, Object.entries(s.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ')),
        h('td', { class: 'num' }, String(s.target_count ?? '')),
        h('td', null, s.scrape_interval || 'default'),
        h('td', null, formatTime(s.created_at)))))));
  }, SESSIONS_EVERY_MS, status);
}

function slurmText(t) {
  if (!t.slurm) return '';
  const s = t.slurm;
  const nodes = (s.nodes || []).map((n) => n.node).join(',');
  return [`job ${s.job_id}`, s.state || s.phase, s.reason ? `(${s.reason})` : '', nodes ? `on ${nodes}` : ''].filter(Boolean).join(' ');
}

function targetRows(targets, nowMs) {
  return targets.flatMap((t) => {
    const endpoints = t.endpoints_health && t.endpoints_health.length > 0 ? t.endpoints_health : [{ endpoint: '', health: t.health, last_scrape: null, last_scrape_duration_seconds: null, last_error: null }];
    return endpoints.map((e) => h('tr', { dataset: { target: t.target_id, endpoint: e.endpoint } },
      h('td', null, t.target_id),
      h('td', null, t.target_type),
      h('td', null, t.role),
      h('td', null, e.endpoint ? h('code', null, e.endpoint) : h('span', { class: 'muted' }, 'no endpoint yet')),
      h('td', { class: 'health', dataset: { health: e.health } }, h('span', { class: `badge health-${e.health}` }, e.health)),
      h('td', { title: e.last_scrape || '' }, formatAge(e.last_scrape, nowMs)),
      h('td', { class: 'num' }, e.last_scrape_duration_seconds === null || e.last_scrape_duration_seconds === undefined ? '' : `${formatValue(e.last_scrape_duration_seconds * 1000)} ms`),
      h('td', null, slurmText(t)),
      h('td', { class: 'note' }, e.last_error || '')));
  });
}

function sessionPage(id) {
  setCrumbs(h('a', { href: '#/' }, 'sessions'), id);
  const status = h('p', { class: 'muted status' });
  const facts = h('div');
  const targets = h('div');
  const phases = h('section', { id: 'phases', hidden: true });
  const collections = h('div');
  app.replaceChildren(
    h('h1', null, 'Session ', h('code', null, id)), facts,
    h('section', { id: 'targets' }, h('h2', null, 'Targets'), status, targets),
    phases,
    h('section', { id: 'collections' }, h('h2', null, 'Collections'), collections));

  let phasesAnswered = true;
  const loadPhases = async () => {
    if (!phasesAnswered) return;
    let body;
    try {
      body = await api(`/api/v1/sessions/${encodeURIComponent(id)}/phases`);
    } catch (err) {
      // An older benchmon has no phases route (404 NOT_FOUND): the section stays hidden.
      if (err instanceof ApiError && err.code === 'NOT_FOUND') {
        phasesAnswered = false;
        return;
      }
      throw err;
    }
    const list = Array.isArray(body) ? body : (body && body.phases) || [];
    phases.hidden = false;
    phases.replaceChildren(h('h2', null, 'Phases'), list.length === 0
      ? h('p', { class: 'empty' }, 'No phases marked (POST /api/v1/sessions/{id}/phases or `benchmon phase start NAME`).')
      : h('table', { id: 'session-phases', class: 'grid' },
        h('thead', null, h('tr', null, ['phase', 'start (UTC)', 'end (UTC)'].map((x) => h('th', null, x)))),
        h('tbody', null, list.map((p) => h('tr', { dataset: { phase: String(p.name) } },
          h('td', null, String(p.name)), h('td', null, formatTime(p.start_time ?? p.start)), h('td', null, formatTime(p.end_time ?? p.end) || 'open'))))));
  };

  return poll(async () => {
    const st = await api(`/api/v1/sessions/${encodeURIComponent(id)}`);
    const nowMs = Date.now();
    facts.replaceChildren(h('dl', { class: 'facts' },
      h('dt', null, 'labels'), h('dd', null, Object.entries(st.session.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ') || '(none)'),
      h('dt', null, 'scrape interval'), h('dd', null, st.session.scrape_interval || 'default'),
      h('dt', null, 'created'), h('dd', null, formatTime(st.session.created_at))));
    targets.replaceChildren(
      st.health_error ? h('p', { class: 'error' }, `Live health unavailable: ${st.health_error}`) : '',
      st.targets.length === 0
        ? h('p', { class: 'empty' }, 'No targets registered yet.')
        : h('table', { id: 'targets-table', class: 'grid' },
          h('thead', null, h('tr', null, ['target', 'type', 'role', 'endpoint', 'health', 'last scrape', 'scrape duration', 'Slurm', 'last error'].map((x) => h('th', null, x)))),
          h('tbody', null, targetRows(st.targets, nowMs))));
    const list = [...st.collections].sort((a, b) => (a.collection_id < b.collection_id ? 1 : -1));
    collections.replaceChildren(list.length === 0
      ? h('p', { class: 'empty' }, 'No collections yet (POST /api/v1/sessions/{id}/collect or `benchmon collect`).')
      : h('table', { id: 'collections-table', class: 'grid' },
        h('thead', null, h('tr', null, ['collection', 'recipe', 'window (UTC)', 'KPIs with a value', 'targets down'].map((x) => h('th', null, x)))),
        h('tbody', null, list.map((c) => h('tr', { dataset: { collection: c.collection_id } },
          h('td', null, h('a', { href: collectionHref(c.collection_id) }, c.collection_id)),
          h('td', null, c.recipe),
          h('td', null, `${formatTime(c.window.start)} .. ${formatTime(c.window.end)}`),
          h('td', { class: 'num' }, `${c.kpis.filter((k) => k.value !== null).length}/${c.kpis.length}`),
          h('td', { class: 'num' }, String(c.targets_down)))))));
    await loadPhases();
    updatedLine(status, SESSION_EVERY_MS);
  }, SESSION_EVERY_MS, status);
}

function collectionPage(id) {
  setCrumbs(h('a', { href: '#/' }, 'sessions'), 'collection');
  const status = h('p', { class: 'muted status' }, 'Loading…');
  const root = h('div', null, status);
  app.replaceChildren(root);
  let view = { destroy() {} };
  let stopped = false;
  const stopPoll = poll(async () => {
    const path = `/api/v1/collections/${encodeURIComponent(id)}`;
    const [c, series] = await Promise.all([
      api(path),
      api(`${path}/timeseries`).then((ts) => ({ ts }), (err) => {
        if (err instanceof TokenRequired) throw err;
        return { error: err.message };
      }),
    ]);
    if (stopped) return;
    const m = c.manifest_content;
    setCrumbs(h('a', { href: '#/' }, 'sessions'), h('a', { href: sessionHref(m.session.session_id) }, m.session.session_id), m.collection_id);
    const reportStatus = h('span', { class: 'muted' }, `report: ${c.directory}/report.html`);
    const actions = h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'small', onclick: async () => {
        reportStatus.textContent = 'writing report.html …';
        try {
          const r = await api(`${path}/report`, { method: 'POST' });
          reportStatus.textContent = `report written: ${r.path}`;
        } catch (err) {
          reportStatus.textContent = `report not written: ${err.message}`;
        }
      } }, 'Re-create report.html'), ' ', reportStatus);
    root.replaceChildren();
    view = renderCollection(root, { manifest: m, timeseries: series.ts, timeseriesError: series.error, directory: c.directory, actions });
  }, 0, status);
  return () => {
    stopped = true;
    stopPoll();
    view.destroy();
  };
}

let stopCurrent = () => {};

function route() {
  stopCurrent();
  showTokenState();
  const path = location.hash.replace(/^#/, '') || '/';
  let m;
  try {
    if ((m = /^\/sessions\/([^/]+)$/.exec(path))) stopCurrent = sessionPage(decodeURIComponent(m[1]));
    else if ((m = /^\/collections\/([^/]+)$/.exec(path))) stopCurrent = collectionPage(decodeURIComponent(m[1]));
    else stopCurrent = sessionsPage();
  } catch (err) {
    showError(app, err);
  }
}

window.addEventListener('hashchange', route);
route();
