'use strict';
// The state-machine graph: laid out from the definition, coloured from the execution's history events.
// Every label goes into the SVG as a text node, never as markup.
const WbGraph = (() => {
  const svgNs = 'http://www.w3.org/2000/svg';
  const node = { w: 176, h: 34 };
  const gap = { x: 28, y: 34 };
  const mapPad = { x: 14, top: 32, bottom: 12 };

  /** The transitions out of a state: Next, Choice rules and Default, and Catch (drawn dashed). */
  function transitions(state) {
    const out = [];
    const add = (to, caught) => { if (to && !out.some(t => t.to === to)) out.push({ to, caught }); };
    add(state.Next, false);
    for (const rule of state.Choices || []) add(rule.Next, false);
    add(state.Default, false);
    for (const catcher of state.Catch || []) add(catcher.Next, true);
    return out;
  }

  function processorOf(state) {
    return state.Type === 'Map' ? (state.ItemProcessor || state.Iterator) : null;
  }

  /**
   * Ranks by the longest path from StartAt over forward edges (edges back to a state on the current path are loops,
   * drawn on the side); states in a rank side by side.
   */
  function layout(graph) {
    const names = Object.keys(graph.States);
    const order = [];
    const seen = new Set();
    const onPath = new Set();
    const back = new Set();
    const visit = name => {
      if (!graph.States[name] || seen.has(name)) return;
      seen.add(name);
      onPath.add(name);
      for (const t of transitions(graph.States[name])) {
        if (onPath.has(t.to)) back.add(name + '\u0000' + t.to); else visit(t.to);
      }
      onPath.delete(name);
      order.push(name);
    };
    visit(graph.StartAt);
    names.forEach(visit);
    order.reverse();

    const rank = new Map(order.map(n => [n, 0]));
    for (const name of order) {
      for (const t of transitions(graph.States[name])) {
        if (!back.has(name + '\u0000' + t.to) && rank.has(t.to)) rank.set(t.to, Math.max(rank.get(t.to), rank.get(name) + 1));
      }
    }

    const boxes = new Map();
    for (const name of order) {
      const processor = processorOf(graph.States[name]);
      if (processor) {
        const inner = layout(processor);
        boxes.set(name, { name, inner, w: Math.max(node.w + 20, inner.width + 2 * mapPad.x), h: inner.height + mapPad.top + mapPad.bottom });
      } else {
        boxes.set(name, { name, w: node.w, h: node.h });
      }
    }

    const rows = [];
    for (const name of order) (rows[rank.get(name)] ||= []).push(boxes.get(name));
    const rowWidth = row => row.reduce((sum, b) => sum + b.w, 0) + gap.x * (row.length - 1);
    const width = Math.max(...rows.filter(Boolean).map(rowWidth)) + 2 * gap.x;
    let y = 8;
    for (const row of rows.filter(Boolean)) {
      let x = (width - rowWidth(row)) / 2;
      const height = Math.max(...row.map(b => b.h));
      for (const box of row) {
        box.x = x;
        box.y = y;
        x += box.w + gap.x;
      }
      y += height + gap.y;
    }

    const edges = [];
    for (const name of order) {
      for (const t of transitions(graph.States[name])) {
        if (boxes.has(t.to)) edges.push({ from: boxes.get(name), to: boxes.get(t.to), caught: t.caught, back: back.has(name + '\u0000' + t.to) });
      }
    }

    return { boxes: [...boxes.values()], edges, width, height: y - gap.y + 8 };
  }

  function el(tag, attributes, ...children) {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c);
    return e;
  }

  function label(text, max) {
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }

  function draw(laidOut, statuses, maps, parent, dx, dy) {
    for (const edge of laidOut.edges) {
      const a = edge.from;
      const b = edge.to;
      let d;
      if (edge.back) {
        // A loop goes up the left side of both states.
        const sx = dx + a.x;
        const sy = dy + a.y + a.h / 2;
        const tx = dx + b.x;
        const ty = dy + b.y + b.h / 2;
        const out = Math.min(sx, tx) - 24;
        d = `M${sx},${sy} C${out},${sy} ${out},${ty} ${tx},${ty}`;
      } else {
        const sx = dx + a.x + a.w / 2;
        const sy = dy + a.y + a.h;
        const tx = dx + b.x + b.w / 2;
        const ty = dy + b.y;
        const bend = Math.max(12, (ty - sy) / 2);
        d = `M${sx},${sy} C${sx},${sy + bend} ${tx},${ty - bend} ${tx},${ty}`;
      }
      parent.append(el('path', { d, class: 'edge' + (edge.caught ? ' caught' : '') + (edge.back ? ' back' : ''), 'marker-end': 'url(#wb-arrow)' }));
    }

    for (const box of laidOut.boxes) {
      const status = statuses.get(box.name) || 'not-reached';
      const g = el('g', { class: `state ${status}${box.inner ? ' map' : ''}`, 'data-state': box.name, 'data-status': status });
      const title = el('title');
      title.textContent = `${box.name}: ${status.replace('-', ' ')}`;
      g.append(title);
      g.append(el('rect', { x: dx + box.x, y: dy + box.y, width: box.w, height: box.h, rx: 6 }));
      const text = el('text', { x: dx + box.x + box.w / 2, y: dy + box.y + (box.inner ? 20 : box.h / 2 + 4), 'text-anchor': 'middle' });
      const progress = maps.get(box.name);
      text.textContent = label(box.name, 26) + (box.inner && progress ? `  ${progress.succeeded}/${progress.total}` : '');
      g.append(text);
      parent.append(g);
      if (box.inner) draw(box.inner, statuses, maps, parent, dx + box.x + mapPad.x, dy + box.y + mapPad.top);
    }
  }

  /** The definition drawn as an SVG element, each state coloured by its status (a Map of name → status). */
  function render(definition, statuses, maps) {
    const laidOut = layout(definition);
    const svg = el('svg', { class: 'graph', viewBox: `0 0 ${laidOut.width} ${laidOut.height}`, width: laidOut.width, role: 'img', 'aria-label': 'State machine graph' });
    const marker = el('marker', { id: 'wb-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }));
    svg.append(el('defs', {}, marker));
    draw(laidOut, statuses, maps, svg, 0, 0);
    return svg;
  }

  const taskResult = /^(LambdaFunction|Task|Map|Parallel)(Succeeded|Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;

  /**
   * What happened to each state, from the history: succeeded, caught (it failed and a Catch took over), failed,
   * running, cancelled (a Map stopped it when another iteration failed) or not-reached. Events of concurrent Map
   * iterations interleave; each event's previousEventId names the event before it in the same iteration, which tells
   * which state instance an event belongs to. After a redrive, what failed before and was not run again is history,
   * not the state's status.
   */
  function analyse(events, executionStatus) {
    const context = new Map();
    const instances = [];
    const maps = new Map();
    let epoch = 0;
    const close = final => { for (const i of instances) if (!i.exited && !i.final) i.final = final; };
    for (const e of events) {
      const prior = context.get(e.previousEventId) || { instance: null, map: null };
      let here = prior;
      const type = e.type;
      if (type.endsWith('StateEntered')) {
        const instance = { name: e.stateEnteredEventDetails.name, epoch, map: prior.map, exited: false, result: null, final: null };
        instances.push(instance);
        here = { instance, map: prior.map };
      } else if (type.endsWith('StateExited')) {
        if (prior.instance) prior.instance.exited = true;
        here = { instance: null, map: prior.map };
      } else if (taskResult.test(type)) {
        const [, kind, outcome] = taskResult.exec(type);
        if (prior.instance) prior.instance.result = outcome === 'Succeeded' ? 'ok' : 'error';
        if (kind === 'Map' && prior.instance) cancelInside(instances, prior.instance.name);
      } else if (type === 'MapStateStarted' && prior.instance) {
        const progress = maps.get(prior.instance.name) || { total: 0, iterations: new Map() };
        progress.total = e.mapStateStartedEventDetails ? e.mapStateStartedEventDetails.length : 0;
        maps.set(prior.instance.name, progress);
      } else if (type.startsWith('MapIteration')) {
        const details = e[Object.keys(e).find(k => k.startsWith('mapIteration'))] || {};
        const progress = maps.get(details.name) || { total: 0, iterations: new Map() };
        progress.iterations.set(details.index, type.slice('MapIteration'.length).toLowerCase());
        maps.set(details.name, progress);
        if (type === 'MapIterationStarted') here = { instance: null, map: details.name };
        if (type === 'MapIterationFailed' && prior.instance && !prior.instance.exited) prior.instance.final = 'failed';
      } else if (type === 'ExecutionRedriven') {
        epoch += 1;
      } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut') {
        close('failed');
      } else if (type === 'ExecutionAborted') {
        close('cancelled');
      }
      context.set(e.id, here);
    }

    const rank = { running: 5, failed: 4, caught: 3, cancelled: 2, succeeded: 1 };
    const statuses = new Map();
    for (const i of instances) {
      const status = i.exited ? (i.result === 'error' ? 'caught' : 'succeeded') : (i.final || (executionStatus === 'RUNNING' ? 'running' : 'failed'));
      if ((status === 'failed' || status === 'cancelled') && i.epoch < epoch) continue;
      const current = statuses.get(i.name);
      if (!current || i.epoch > current.epoch || (i.epoch === current.epoch && rank[status] > rank[current.status])) {
        statuses.set(i.name, { status, epoch: i.epoch });
      }
    }

    const progress = new Map();
    for (const [name, p] of maps) {
      const states = [...p.iterations.values()];
      const count = s => states.filter(x => x === s).length;
      progress.set(name, {
        total: p.total,
        succeeded: count('succeeded'),
        failed: count('failed'),
        running: executionStatus === 'RUNNING' ? count('started') : 0,
        unfinished: executionStatus === 'RUNNING' ? 0 : count('started') + count('aborted'),
      });
    }

    return { statuses: new Map([...statuses].map(([n, s]) => [n, s.status])), maps: progress };
  }

  /** A Map that ended stopped the iterations still in it: those are cancelled, not failed. */
  function cancelInside(instances, mapName) {
    for (const i of instances) if (i.map === mapName && !i.exited && !i.final) i.final = 'cancelled';
  }

  return { render, analyse };
})();
