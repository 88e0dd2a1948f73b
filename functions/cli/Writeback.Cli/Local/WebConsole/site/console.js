'use strict';
// The console's pages. Every value from the API (names, inputs, outputs, errors) reaches the page through
// textContent or an attribute, never as markup: an execution's input is whatever its sender chose.

/** The Step Functions API, in its JSON 1.0 protocol, through serve's host (same origin, so no keys to sign with). */
async function sfn(action, body) {
  const response = await fetch('sfn', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AWSStepFunctions.' + action },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  let json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { json = { message: text }; }
  if (!response.ok) {
    const error = new Error(json.message || json.Message || response.statusText);
    error.type = (json.__type || '').split('#').pop();
    throw error;
  }
  return json;
}

/** One batch from run history, or null when history has not seen it yet. */
async function batch(batchId) {
  const response = await fetch('batches/' + encodeURIComponent(batchId));
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`run history answered ${response.status}`);
  return response.json();
}

function h(tag, attributes, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

const statusClass = s => 'status ' + String(s || '').toLowerCase().replace(/_/g, '-');
const badge = s => h('span', { class: statusClass(s), 'data-status': s }, String(s || '').replace(/_/g, ' '));
const time = epoch => epoch ? new Date(epoch * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
const number = n => n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
const duration = ms => ms === null || ms === undefined ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60000).toFixed(1)} min`;
const link = (route, text) => h('a', { href: '#' + route }, text);

/** JSON text pretty-printed when it parses; as it came otherwise. */
function pretty(text) {
  if (text === null || text === undefined) return '';
  try { return JSON.stringify(typeof text === 'string' ? JSON.parse(text) : text, null, 2); } catch { return String(text); }
}

const app = document.getElementById('app');
let page = 0;
let timer = null;

/**
 * Shows one page; it is drawn again every second while its render says so (something is running). What a person
 * opened (an event's details) stays open across redraws.
 */
function show(render) {
  const mine = ++page;
  clearTimeout(timer);
  const run = async () => {
    let again = false;
    try {
      const content = h('div', {});
      again = await render(content, () => mine === page);
      if (mine !== page) return;
      const open = new Set([...app.querySelectorAll('details[data-keep]')].map(d => d.dataset.keep + (d.open ? ':open' : ':closed')));
      for (const d of content.querySelectorAll('details[data-keep]')) {
        if (open.has(d.dataset.keep + ':open')) d.open = true;
        if (open.has(d.dataset.keep + ':closed')) d.open = false;
      }
      app.replaceChildren(content);
    } catch (e) {
      if (mine !== page) return;
      app.replaceChildren(h('p', { class: 'error', role: 'alert' }, `${e.type ? e.type + ': ' : ''}${e.message}`));
    }
    if (again && mine === page) timer = setTimeout(run, 1000);
  };
  run();
}

async function machinesPage(content) {
  const { stateMachines } = await sfn('ListStateMachines', {});
  content.append(
    h('h1', {}, 'State machines'),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'Created'))),
      h('tbody', {}, stateMachines.map(m => h('tr', {},
        h('td', {}, link('/machine/' + encodeURIComponent(m.stateMachineArn), m.name)),
        h('td', {}, m.type),
        h('td', {}, time(m.creationDate)))))));
  return false;
}

const readmeInput = `{ "manifestUri": "file:///…/.writeback/exports/student_dashboard/2026-11-25/<batch>/manifest.json",
  "batchId": "student_dashboard-20261125-db06ed46a5df-1764108000000",
  "dataset": "student_dashboard" }`;

async function machinePage(content, arn, filter, alive) {
  const machine = await sfn('DescribeStateMachine', { stateMachineArn: arn });
  const name = h('input', { id: 'start-name', name: 'name', maxlength: 80, placeholder: 'the batch id (empty: a generated name)', autocomplete: 'off' });
  const input = h('textarea', { id: 'start-input', name: 'input', rows: 6, spellcheck: 'false', placeholder: readmeInput });
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  const start = async event => {
    event.preventDefault();
    problem.hidden = true;
    const text = input.value.trim() || '{}';
    try { JSON.parse(text); } catch (e) { problem.textContent = `The input is not JSON: ${e.message}`; problem.hidden = false; return; }
    const body = { stateMachineArn: arn, input: text };
    if (name.value.trim()) body.name = name.value.trim();
    try {
      const started = await sfn('StartExecution', body);
      location.hash = '#/execution/' + encodeURIComponent(started.executionArn);
    } catch (e) {
      problem.textContent = `${e.type ? e.type + ': ' : ''}${e.message}`;
      problem.hidden = false;
    }
  };
  const select = h('select', { id: 'status-filter', 'aria-label': 'Status', onchange: e => { location.hash = `#/machine/${encodeURIComponent(arn)}${e.target.value ? '/' + e.target.value : ''}`; } },
    ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].map(s => h('option', { value: s, selected: s === (filter || '') }, s ? s.replace('_', ' ') : 'All statuses')));
  const list = h('div', { id: 'execution-list' });
  const running = await executionList(list, arn, filter);

  content.append(
    h('p', { class: 'crumbs' }, link('/', 'State machines'), ' / ', machine.name),
    h('h1', {}, machine.name),
    h('p', { class: 'muted mono' }, machine.stateMachineArn),
    h('details', { class: 'panel', id: 'start', open: true },
      h('summary', {}, 'Start execution'),
      h('form', { onsubmit: start },
        h('label', { for: 'start-name' }, 'Name'), name,
        h('label', { for: 'start-input' }, 'Input'), input,
        h('p', { class: 'muted' }, 'The input the README (“Starting a run by hand”) pastes into the AWS console: the manifest’s location, and its batch id as the name so that a repeated start is recognised.'),
        problem,
        h('button', { type: 'submit', id: 'start-execution' }, 'Start execution'))),
    h('div', { class: 'bar' }, h('h2', {}, 'Executions'), select),
    list);
  // Only the list follows runs as they finish: redrawing the page would clear a form being filled in.
  if (running) {
    const follow = async () => { if (alive() && await executionList(list, arn, filter)) setTimeout(follow, 1000); };
    setTimeout(follow, 1000);
  }
  return false;
}

/** The executions table, drawn into `list`; true while any of them is running. */
async function executionList(list, arn, filter) {
  const request = { stateMachineArn: arn, maxResults: 100 };
  if (filter) request.statusFilter = filter;
  const { executions } = await sfn('ListExecutions', request);
  list.replaceChildren(executions.length === 0
    ? h('p', { class: 'muted' }, filter ? `No ${filter.replace('_', ' ').toLowerCase()} executions.` : 'No executions yet.')
    : h('table', { id: 'executions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Status'), h('th', {}, 'Started'), h('th', {}, 'Stopped'), h('th', {}, 'Redrives'))),
      h('tbody', {}, executions.map(e => h('tr', { 'data-execution': e.name },
        h('td', {}, link('/execution/' + encodeURIComponent(e.executionArn), e.name)),
        h('td', {}, badge(e.status)),
        h('td', {}, time(e.startDate)),
        h('td', {}, time(e.stopDate)),
        h('td', {}, String(e.redriveCount || 0)))))));
  return executions.some(e => e.status === 'RUNNING');
}

async function historyOf(arn) {
  const events = [];
  let nextToken;
  do {
    const page = await sfn('GetExecutionHistory', { executionArn: arn, maxResults: 1000, nextToken });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The fields of an event worth a column: the state, or the error. */
function eventSummary(e) {
  const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'));
  const d = details ? details[1] : {};
  return [d.name, d.index !== undefined ? `#${d.index}` : null, d.error, d.resource].filter(x => x !== undefined && x !== null).join(' ');
}

function eventRow(e, start) {
  const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'));
  const d = details ? details[1] : null;
  const data = [];
  if (d) {
    for (const key of ['input', 'output', 'parameters', 'cause']) {
      if (d[key] !== undefined && d[key] !== null) data.push(h('div', { class: 'io' }, h('b', {}, key), h('pre', { class: 'event-' + key }, pretty(d[key]))));
    }
    const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !['input', 'output', 'parameters', 'cause', 'inputDetails', 'outputDetails'].includes(k)));
    if (Object.keys(rest).length) data.push(h('pre', {}, pretty(rest)));
  }
  return h('tr', { 'data-event-type': e.type },
    h('td', {}, String(e.id)),
    h('td', { class: /Failed|TimedOut|Aborted/.test(e.type) ? 'bad' : null }, e.type),
    h('td', {}, eventSummary(e)),
    h('td', { class: 'mono' }, `+${duration((e.timestamp - start) * 1000)}`),
    h('td', {}, data.length ? h('details', { 'data-keep': 'event-' + e.id }, h('summary', {}, 'details'), data) : ''));
}

async function executionPage(content, arn) {
  const [execution, machine, events] = await Promise.all([
    sfn('DescribeExecution', { executionArn: arn }),
    sfn('DescribeStateMachineForExecution', { executionArn: arn }),
    historyOf(arn),
  ]);
  const running = execution.status === 'RUNNING';
  const definition = JSON.parse(machine.definition);
  const { statuses, maps } = WbGraph.analyse(events, execution.status);
  const input = execution.input ? (() => { try { return JSON.parse(execution.input); } catch { return null; } })() : null;
  const batchId = input && typeof input.batchId === 'string' ? input.batchId : execution.name;
  const notice = h('p', { class: 'error', role: 'alert', hidden: true });
  const act = async (action, body) => {
    try { await sfn(action, body); show(c => executionPage(c, arn)); } catch (e) { notice.textContent = `${e.type ? e.type + ': ' : ''}${e.message}`; notice.hidden = false; }
  };
  const machineArn = execution.stateMachineArn;

  content.append(
    h('p', { class: 'crumbs' }, link('/', 'State machines'), ' / ', link('/machine/' + encodeURIComponent(machineArn), machine.name), ' / ', execution.name),
    h('div', { class: 'bar' },
      h('h1', {}, execution.name, ' ', h('span', { id: 'execution-status' }, badge(execution.status))),
      h('span', { class: 'actions' },
        h('button', { id: 'stop', disabled: !running, onclick: () => act('StopExecution', { executionArn: arn, cause: 'Stopped from the local console' }) }, 'Stop'),
        h('button', { id: 'redrive', disabled: execution.redriveStatus !== 'REDRIVABLE', title: execution.redriveStatusReason || null, onclick: () => act('RedriveExecution', { executionArn: arn, clientToken: crypto.randomUUID() }) }, 'Redrive'))),
    notice,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Execution ARN'), h('dd', { class: 'mono' }, arn),
      h('dt', {}, 'Started'), h('dd', {}, time(execution.startDate)),
      h('dt', {}, 'Stopped'), h('dd', {}, time(execution.stopDate)),
      h('dt', {}, 'Redrives'), h('dd', {}, `${execution.redriveCount || 0}${execution.redriveDate ? ' (last ' + time(execution.redriveDate) + ')' : ''}`),
      execution.error ? [h('dt', {}, 'Error'), h('dd', { class: 'bad', id: 'execution-error' }, execution.error)] : null,
      execution.cause ? [h('dt', {}, 'Cause'), h('dd', { id: 'execution-cause' }, h('pre', {}, pretty(execution.cause)))] : null),
    h('section', { class: 'panel' },
      h('h2', {}, 'Graph'),
      h('p', { class: 'legend' }, ['succeeded', 'caught', 'failed', 'running', 'cancelled', 'not-reached'].map(s => h('span', { class: 'key ' + s }, s.replace('-', ' ')))),
      h('div', { class: 'graph-box', id: 'graph' }, WbGraph.render(definition, statuses, maps)),
      [...maps].map(([name, p]) => h('p', { class: 'map-progress', 'data-map': name },
        h('b', {}, name), `: ${p.succeeded} of ${p.total} iterations done, ${p.failed} failed, ${p.running} running`
        + (p.unfinished ? `, ${p.unfinished} not finished` : '')))),
    h('section', { class: 'panel two' },
      h('div', {}, h('h2', {}, 'Input'), h('pre', { id: 'execution-input' }, pretty(execution.input))),
      h('div', {}, h('h2', {}, 'Output'), h('pre', { id: 'execution-output' }, running ? '(running)' : pretty(execution.output) || '–'))),
    await batchPanel(batchId),
    h('section', { class: 'panel' },
      h('h2', {}, `Events (${events.length})`),
      h('table', { id: 'events' },
        h('thead', {}, h('tr', {}, h('th', {}, 'ID'), h('th', {}, 'Type'), h('th', {}, 'State / error'), h('th', {}, 'Elapsed'), h('th', {}, 'Input / output'))),
        h('tbody', {}, events.map(e => eventRow(e, execution.startDate))))));
  return running;
}

async function batchPanel(batchId) {
  const view = await batch(batchId).catch(e => ({ failure: e.message }));
  const section = h('section', { class: 'panel', id: 'batch' }, h('h2', {}, 'Batch in run history'));
  if (!view) {
    section.append(h('p', { class: 'muted' }, `Run history has no batch ${batchId}: it holds the writeback workflow's batches, from the trigger's delivery or the first step on.`));
    return section;
  }
  if (view.failure) {
    section.append(h('p', { class: 'error' }, `Run history could not be read: ${view.failure}`));
    return section;
  }
  const deadline = view.deadline;
  section.append(
    h('dl', { class: 'facts' },
      h('dt', {}, 'Batch'), h('dd', { class: 'mono' }, view.batchId),
      h('dt', {}, 'Dataset / partition'), h('dd', {}, `${view.dataset || '?'} / ${view.partition || '?'}`),
      h('dt', {}, 'Status'), h('dd', { id: 'batch-status' }, badge(view.status)),
      h('dt', {}, 'Deliveries / retries'), h('dd', {}, `${view.deliveries} / ${view.retries}`),
      view.error ? [h('dt', {}, 'Error'), h('dd', { class: 'bad' }, `${view.error}: ${view.cause || ''}`)] : null,
      deadline ? [
        h('dt', {}, 'Deadline'), h('dd', { id: 'batch-deadline' }, badge(deadline.outcome), ` business date ${deadline.businessDate}, due ${deadline.deadline}`),
        h('dt', {}, 'Dataset SLO'), h('dd', { id: 'batch-slo' }, badge(deadline.datasetSlo), ' ', deadline.datasetSloDetail),
      ] : [h('dt', {}, 'Deadline'), h('dd', {}, 'none in targets/')]),
    h('table', { id: 'batch-rows', class: 'numbers' },
      h('thead', {}, h('tr', {}, ['rows', 'inserted', 'updated', 'deleted', 'unchanged'].map(k => h('th', {}, k)))),
      h('tbody', {}, h('tr', {}, ['rows', 'inserted', 'updated', 'deleted', 'unchanged'].map(k => h('td', { 'data-count': k }, number(view[k])))))),
    h('table', { id: 'batch-steps' },
      h('thead', {}, h('tr', {}, ['step', 'status', 'duration', 'shards', 'rows', 'failed attempts'].map(k => h('th', {}, k)))),
      h('tbody', {}, view.steps.map(s => h('tr', { 'data-step': s.step },
        h('td', {}, s.step), h('td', {}, badge(s.status)), h('td', {}, duration(s.durationMs)),
        h('td', {}, s.shards ? String(s.shards) : ''), h('td', {}, s.rows ? number(s.rows) : ''), h('td', {}, s.failedAttempts ? String(s.failedAttempts) : ''))))));
  return section;
}

function route() {
  const [, kind, arn, extra] = (location.hash.slice(1) || '/').split('/').map(decodeURIComponent);
  if (kind === 'machine' && arn) show((c, alive) => machinePage(c, arn, extra, alive));
  else if (kind === 'execution' && arn) show(c => executionPage(c, arn));
  else show(machinesPage);
}

window.addEventListener('hashchange', route);
route();
