// The report's viewer: tabs, lazily opened task sections, and the trajectory viewer over every episode.
// Episodes live in gzip-compressed JSON blocks inside the page (<script id="blob-N">); a block is decoded with the
// browser's DecompressionStream only when one of its episodes is shown or searched. The URL's hash holds the tab,
// the filters and the open episode, so that every view (and every episode) has a permalink.
(() => {
  'use strict';
  const META = JSON.parse(document.getElementById('report-meta').textContent);
  const PAGE = 100;
  const CLAMP = 4000; // characters of a message shown before "show all"
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const runIndex = new Map(META.runs.map((r, i) => [r.label, i]));
  const taskLabel = new Map(META.tasks.map((t) => [t.name, t.label]));

  // --- compressed blobs ---------------------------------------------------------------------------------------
  function b64bytes(text) {
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  async function unpack(id) {
    const el = document.getElementById('blob-' + id);
    const stream = new Blob([b64bytes(el.textContent.trim())]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }
  const cache = new Map(); // blob id -> promise of its content (a bounded number of blocks stays decoded)
  const CACHE_MAX = 48;
  function blob(id) {
    if (cache.has(id)) {
      const p = cache.get(id);
      cache.delete(id);
      cache.set(id, p);
      return p;
    }
    const p = unpack(id);
    cache.set(id, p);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value);
    return p;
  }

  // --- the episode index ----------------------------------------------------------------------------------------
  let EPISODES = null;
  let BYKEY = null;
  let indexPromise = null;
  const keyOf = (run, task, split, index, epoch) => [run, task, split, index, epoch].join('|');
  function loadIndex() {
    if (!indexPromise) {
      indexPromise = unpack(META.index_blob).then((groups) => {
        const eps = [];
        for (const g of groups) {
          const n = g.index.length;
          const col = (name, k) => (Array.isArray(g[name]) ? g[name][k] : g[name]);
          for (let k = 0; k < n; k++) {
            eps.push({
              run: g.run, task: g.task, split: col('split', k), index: g.index[k], epoch: col('epoch', k) || 0,
              status: META.statuses[g.status[k]], reward: g.reward[k], turns: g.turns[k], time: g.time[k],
              model: g.model[k], prompt: g.prompt[k], completion: g.completion[k], block: g.blocks[g.block[k]],
              pos: g.pos[k], strings: g.strings, title: g.title[k], error: g.error[k],
            });
          }
        }
        for (const e of eps) e.key = keyOf(META.runs[e.run].label, e.task, e.split, e.index, e.epoch);
        EPISODES = eps;
        BYKEY = new Map(eps.map((e) => [e.key, e]));
        if (!eps.some((e) => e.epoch > 0)) $('#episode-list').classList.add('no-epochs');
        return eps;
      });
    }
    return indexPromise;
  }
  async function detailOf(e) {
    const [block, strings] = await Promise.all([blob(e.block), blob(e.strings)]);
    return { d: block[e.pos], strings };
  }
  const text = (c, strings) => (typeof c === 'number' ? strings[c] : c);

  // --- state and the URL hash ---------------------------------------------------------------------------------------
  const state = { tab: 'overview', run: '', task: '', status: '', reward: '', q: '', page: 0, ep: '', vs: '', open: '' };
  function readHash() {
    const h = location.hash.slice(1);
    const [tab, query] = [h.split('?')[0], h.includes('?') ? h.slice(h.indexOf('?') + 1) : ''];
    const p = new URLSearchParams(query);
    Object.assign(state, { tab: tab || 'overview', run: p.get('run') || '', task: p.get('task') || '',
      status: p.get('status') || '', reward: p.get('reward') || '', q: p.get('q') || '',
      page: parseInt(p.get('page') || '0', 10) || 0, ep: p.get('ep') || '', vs: p.get('vs') || '',
      open: p.get('open') || '' });
  }
  function hashOf(s = state) {
    const p = new URLSearchParams();
    for (const k of ['run', 'task', 'status', 'reward', 'q', 'ep', 'vs']) if (s[k]) p.set(k, s[k]);
    if (s.page) p.set('page', String(s.page));
    const q = p.toString();
    return '#' + s.tab + (q ? '?' + q : '');
  }
  function writeHash() {
    const h = hashOf();
    if (location.hash !== h) history.replaceState(null, '', h);
  }

  // --- tabs ---------------------------------------------------------------------------------------------------------
  function showTab(tab) {
    if (!document.getElementById('tab-' + tab)) tab = 'overview';
    state.tab = tab;
    for (const s of $$('section.tab')) s.hidden = s.id !== 'tab-' + tab;
    for (const a of $$('#tabs a')) a.classList.toggle('active', a.dataset.tab === tab);
  }

  // --- task sections: their tables and plots are made when first opened ---------------------------------------------
  function fillSection(det) {
    const tpl = $('template', det);
    if (tpl) {
      det.appendChild(tpl.content.cloneNode(true));
      tpl.remove();
    }
  }
  for (const det of $$('details.task-section')) det.addEventListener('toggle', () => { if (det.open) fillSection(det); });

  // --- filters --------------------------------------------------------------------------------------------------------
  const REWARD = {
    '0': (r) => r <= 0, mid: (r) => r > 0 && r < 1, '1': (r) => r >= 1, pos: (r) => r > 0, lt1: (r) => r < 1,
  };
  function baseFilter() {
    const run = state.run ? runIndex.get(state.run) : null;
    const rf = REWARD[state.reward];
    return EPISODES.filter((e) => (run === null || run === undefined || e.run === run)
      && (!state.task || e.task === state.task) && (!state.status || e.status === state.status)
      && (!rf || (e.reward !== null && rf(e.reward))));
  }
  const searchCache = new Map(); // query -> Set of episode keys that matched so far, per block
  let searchGen = 0;
  async function searchFilter(list, q, gen) {
    const needle = q.toLowerCase();
    let known = searchCache.get(needle);
    if (!known) { known = { blocks: new Map() }; searchCache.set(needle, known); }
    const byBlock = new Map();
    for (const e of list) {
      if (!byBlock.has(e.block)) byBlock.set(e.block, []);
      byBlock.get(e.block).push(e);
    }
    const out = new Set();
    let done = 0;
    const lowered = new Map(); // strings blob id -> per-string match flags
    for (const [bid, eps] of byBlock) {
      if (gen !== searchGen) return null;
      let hits = known.blocks.get(bid);
      if (!hits) {
        const block = await blob(bid);
        const sid = eps[0].strings;
        if (!lowered.has(sid)) lowered.set(sid, (await blob(sid)).map((s) => s.toLowerCase().includes(needle)));
        const flags = lowered.get(sid);
        hits = new Set();
        block.forEach((d, pos) => {
          const inMsgs = d.m.some(([, c]) => (typeof c === 'number' ? flags[c] : c.toLowerCase().includes(needle)));
          if (inMsgs || (d.error && d.error.toLowerCase().includes(needle))
            || JSON.stringify(d.metrics).toLowerCase().includes(needle)) hits.add(pos);
        });
        known.blocks.set(bid, hits);
      }
      for (const e of eps) if (hits.has(e.pos) || (e.title && e.title.toLowerCase().includes(needle))) out.add(e);
      done += 1;
      if (done % 8 === 0) {
        $('#search-progress').textContent = `searching… ${done}/${byBlock.size} blocks`;
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    $('#search-progress').textContent = '';
    return list.filter((e) => out.has(e));
  }

  let current = [];
  async function refreshList() {
    await loadIndex();
    const gen = ++searchGen;
    let list = baseFilter();
    if (state.q) {
      $('#match-count').textContent = 'searching…';
      list = await searchFilter(list, state.q, gen);
      if (list === null) return; // a newer query replaced this one
    }
    current = list;
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    if (state.page >= pages) state.page = pages - 1;
    const mc = $('#match-count');
    mc.textContent = `${list.length.toLocaleString('en')} of ${EPISODES.length.toLocaleString('en')} episodes`;
    mc.dataset.count = String(list.length);
    renderPage();
    // what the list now shows (tests and scripts wait on it)
    mc.dataset.filters = hashOf({ ...state, tab: 'episodes', ep: '', vs: '', page: 0 });
  }

  function fmt(v, d) { return v === null || v === undefined ? '–' : Number(v).toFixed(d); }
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }
  function dot(run) { return el('span', { class: 'dot', style: `background:${META.runs[run].color}` }); }
  function statusBadge(s) { return el('span', { class: `status st-${s}` }, s); }

  function renderPage() {
    const tbody = $('#episode-list tbody');
    const start = state.page * PAGE;
    const rows = current.slice(start, start + PAGE).map((e) => {
      const tr = el('tr', { class: 'ep-row' + (e.key === state.ep ? ' selected' : ''), dataset: {
        key: e.key, status: e.status, reward: String(e.reward), task: e.task, run: META.runs[e.run].label } },
      el('td', {}, dot(e.run), META.runs[e.run].label), el('td', {}, taskLabel.get(e.task) || e.task),
      el('td', {}, e.split), el('td', { class: 'num' }, e.index), el('td', { class: 'num' }, e.epoch),
      el('td', {}, statusBadge(e.status)), el('td', { class: 'num' }, fmt(e.reward, 3)),
      el('td', { class: 'num' }, e.turns), el('td', { class: 'num' }, fmt(e.time, 2)),
      el('td', { class: 'num' }, (e.prompt + e.completion).toLocaleString('en')),
      el('td', { class: 'title' }, e.error ? el('span', { class: 'errtext' }, e.error) : e.title));
      tr.addEventListener('click', () => openEpisode(e.key, true));
      return tr;
    });
    tbody.replaceChildren(...rows);
    const pages = Math.max(1, Math.ceil(current.length / PAGE));
    $('#page-info').textContent = `page ${state.page + 1} of ${pages}`;
    $('#prev').disabled = state.page <= 0;
    $('#next').disabled = state.page >= pages - 1;
  }

  // --- one episode --------------------------------------------------------------------------------------------------
  function messageNode(role, content) {
    const body = el('pre', { class: 'content' });
    if (content === '') body.dataset.empty = role === 'assistant' ? '(empty reply)' : '(empty)';
    if (content.length > CLAMP) {
      body.textContent = content.slice(0, CLAMP);
      const more = el('button', { type: 'button', class: 'more' }, `show all ${content.length.toLocaleString('en')} characters`);
      more.addEventListener('click', () => { body.textContent = content; more.remove(); });
      return el('div', { class: `msg role-${role}`, dataset: { role } }, el('div', { class: 'role' }, role), body, more);
    }
    body.textContent = content;
    return el('div', { class: `msg role-${role}`, dataset: { role } }, el('div', { class: 'role' }, role), body);
  }
  function kv(obj) {
    const entries = Object.entries(obj || {});
    if (!entries.length) return '–';
    return entries.map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
  }
  async function episodeColumn(e) {
    const { d, strings } = await detailOf(e);
    const col = el('div', { class: 'side', dataset: { key: e.key, run: META.runs[e.run].label, index: String(e.index) } });
    const link = el('a', { href: hashOf({ ...state, tab: 'episodes', ep: e.key }), class: 'permalink' }, 'permalink');
    col.append(el('div', { class: 'ep-head' }, dot(e.run), el('b', {}, META.runs[e.run].label), ' · ',
      taskLabel.get(e.task) || e.task, ` · ${e.split} #${e.index}`, e.epoch ? ` epoch ${e.epoch}` : '', ' · ',
      statusBadge(e.status), ` reward ${fmt(e.reward, 3)} · ${e.turns} turns · ${fmt(e.time, 2)} s · `, link));
    const facts = el('table', { class: 'facts' });
    for (const [k, v] of [['metrics', d.metrics], ['facts', d.facts], ['timings (s)', d.timings], ['usage', d.usage],
      ['configuration', d.config_hash], ['harness', d.version]]) {
      facts.append(el('tr', {}, el('th', {}, k), el('td', {}, typeof v === 'object' && v !== null ? kv(v) : (v || '–'))));
    }
    col.append(facts);
    if (d.error) col.append(el('pre', { class: 'error' }, d.error));
    const conv = el('div', { class: 'conversation' });
    const fold = d.fold || 0;
    if (fold > 0) {
      const det = el('details', { class: 'opening' }, el('summary', {},
        `Opening shared with other episodes of this task: ${fold} message${fold > 1 ? 's' : ''} (instruction, examples)`));
      det.addEventListener('toggle', () => {
        if (det.open && det.childElementCount === 1) {
          for (const [role, c] of d.m.slice(0, fold)) det.append(messageNode(role, text(c, strings)));
        }
      }, { once: false });
      conv.append(det);
    }
    for (const [role, c] of d.m.slice(fold)) conv.append(messageNode(role, text(c, strings)));
    if (!d.m.length) conv.append(el('p', { class: 'muted' }, 'No conversation was recorded.'));
    col.append(conv);
    return col;
  }
  async function openEpisode(key, push) {
    await loadIndex();
    const e = BYKEY.get(key);
    const pane = $('#episode');
    if (!e) {
      pane.hidden = false;
      pane.replaceChildren(el('p', { class: 'error' }, `No episode ${key} in this report.`));
      return;
    }
    state.ep = key;
    if (push) writeHash();
    for (const tr of $$('#episode-list tr.ep-row')) tr.classList.toggle('selected', tr.dataset.key === key);
    const cols = [await episodeColumn(e)];
    if (state.vs && runIndex.has(state.vs) && runIndex.get(state.vs) !== e.run) {
      const other = BYKEY.get(keyOf(state.vs, e.task, e.split, e.index, e.epoch));
      cols.push(other ? await episodeColumn(other) : el('div', { class: 'side missing', dataset: { run: state.vs } },
        el('p', {}, `${state.vs} has no record of ${taskLabel.get(e.task) || e.task} ${e.split} #${e.index}.`)));
    }
    pane.hidden = false;
    pane.className = 'episode' + (cols.length > 1 ? ' pair' : '');
    pane.replaceChildren(...cols);
    if (push) pane.scrollIntoView({ block: 'start' });
  }

  // --- wiring -------------------------------------------------------------------------------------------------------
  const inputs = { run: '#f-run', task: '#f-task', status: '#f-status', reward: '#f-reward', vs: '#f-vs' };
  for (const [k, sel] of Object.entries(inputs)) {
    $(sel).addEventListener('change', () => {
      state[k] = $(sel).value;
      if (k === 'vs') {
        writeHash();
        if (state.ep) openEpisode(state.ep, false);
        return;
      }
      state.page = 0;
      writeHash();
      refreshList();
    });
  }
  let typing = null;
  $('#f-q').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = $('#f-q').value.trim(); state.page = 0; writeHash(); refreshList(); }, 250);
  });
  $('#prev').addEventListener('click', () => { state.page -= 1; writeHash(); renderPage(); });
  $('#next').addEventListener('click', () => { state.page += 1; writeHash(); renderPage(); });
  const pair = $('#pair');
  if (pair) pair.addEventListener('change', () => {
    for (const t of $$('table.compare')) t.hidden = t.dataset.pair !== pair.value;
  });

  function syncInputs() {
    for (const [k, sel] of Object.entries(inputs)) $(sel).value = state[k];
    $('#f-q').value = state.q;
  }
  async function route() {
    readHash();
    if (state.tab.startsWith('task-')) {
      state.open = state.tab.slice(5);
      state.tab = 'tasks';
    }
    showTab(state.tab);
    if (state.tab === 'tasks' && state.open) {
      const det = document.getElementById('task-' + state.open);
      if (det) { det.open = true; fillSection(det); det.scrollIntoView(); }
    }
    if (state.tab === 'episodes') {
      syncInputs();
      await refreshList();
      if (state.ep) await openEpisode(state.ep, false);
      else $('#episode').hidden = true;
    }
    document.body.dataset.ready = '1';
  }
  window.addEventListener('hashchange', () => { route(); });
  route();
  window.harnessReport = { loadIndex, state, count: () => current.length };
})();
