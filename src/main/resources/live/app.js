// The live feed's dashboard: one WebSocket to the gateway, reconnecting with backoff. Filters are MQTT topic filters
// sent as subscribe/unsubscribe requests, so the gateway only sends what is shown; {"status":true} has the gateway tell
// the page its broker connection's state and the frames it dropped for this page.
// Messages are taken as they come and drawn at most every RENDER_MS; every store is bounded and says what it dropped.
(() => {
  const LIST_LIMIT = 2000;      // messages kept in the list
  const PAUSE_LIMIT = 5000;     // messages kept while paused, shown on resume
  const TOPIC_LIMIT = 10000;    // topics in the tree
  const CHART_POINTS = 600;     // values kept per chart series
  const CHART_SERIES = 4;
  const RENDER_MS = 250;
  const PREVIEW_CHARS = 200;

  const $ = id => document.getElementById(id);
  const page = new URLSearchParams(location.search);
  const ui = {
    state: $('state'), broker: $('broker'), rate: $('rate'), count: $('count'), dropped: $('dropped'),
    notice: $('notice'), filter: $('filter'), search: $('search'), pause: $('pause'),
    tokenForm: $('token-form'), token: $('token'),
    tree: $('tree'), topicCount: $('topic-count'),
    list: $('list'), spacer: $('list-spacer'), listInfo: $('list-info'),
    detail: $('detail'), detailTopic: $('detail-topic'), detailMeta: $('detail-meta'), detailViews: $('detail-views'),
    detailBody: $('detail-body'), detailChart: $('detail-chart'), copyResult: $('copy-result'),
    charts: $('charts'), chart: $('chart'), legend: $('legend'),
    publish: $('publish'), publishAllowed: $('publish-allowed'), publishTopic: $('publish-topic'),
    publishPayload: $('publish-payload'), publishQos: $('publish-qos'), publishRetain: $('publish-retain'),
    publishResult: $('publish-result'),
  };

  // ---- MQTT topic filters, checked as the gateway checks them (TopicFilter) ----

  /** Why an MQTT topic filter is not valid, or null; what only the gateway checks (noncharacters, say) it answers itself. */
  function filterProblem(filter) {
    if (filter.length === 0) return 'a filter is empty';
    if (/[\u0000-\u001f\u007f-\u009f]/.test(filter)) return `'${filter}' contains a control character`;
    if (new TextEncoder().encode(filter).length > 65535) return `'${filter}' is longer than 65535 bytes`;
    let levels = filter.split('/');
    if (filter.startsWith('$share/')) {
      if (levels.length < 3 || levels[1].length === 0 || /[+#]/.test(levels[1])) {
        return `'${filter}' is not a valid shared subscription ($share/<group>/<filter>)`;
      }
      levels = levels.slice(2);
    }
    for (let i = 0; i < levels.length; i++) {
      if (levels[i].includes('#') && (levels[i] !== '#' || i !== levels.length - 1)) {
        return `'${filter}': '#' must be a whole level and the last one`;
      }
      if (levels[i].includes('+') && levels[i] !== '+') return `'${filter}': '+' must be a whole level`;
    }
    return null;
  }

  function matches(filter, topic) {
    const f = filter.startsWith('$share/') ? filter.split('/').slice(2) : filter.split('/');
    const t = topic.split('/');
    if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return true;
      if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
    }
    return f.length === t.length;
  }

  const parseFilters = text => text.split(',').map(part => part.trim()).filter(part => part.length > 0);

  // ---- the connection ----

  let token = page.get('token') || sessionStorage.getItem('live-token');
  if (page.get('token')) sessionStorage.setItem('live-token', token);
  let socket = null;
  let retryDelay = 500;
  let retryTimer = null;
  let requestIds = 0;
  const pendingReplies = new Map();
  let lastGoodFilters = ['#'];
  let active = page.getAll('filter');
  let opened = false;

  {
    // a filter in the address that the gateway would refuse: the others stand, or # when none is left
    const refused = active.map(filterProblem).filter(Boolean);
    if (refused.length > 0) {
      active = active.filter(filter => !filterProblem(filter));
      showNotice(`Filter refused: ${refused.join('; ')}. Showing ${active.length ? active.join(', ') : '#'} instead.`);
    }
    if (active.length === 0) active = ['#'];
    if (refused.length > 0) writeFiltersToAddress(active);
    ui.filter.value = active.join(', ');
  }

  function feedUrl(scheme) {
    const url = new URL(document.querySelector('meta[name=feed-path]').content, location.href);
    url.protocol = scheme;
    active.forEach(filter => url.searchParams.append('filter', filter));
    if (token) url.searchParams.set('access_token', token);
    return url;
  }

  function setState(name, text) {
    ui.state.textContent = text || name;
    ui.state.className = 'badge ' + name;
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = !text;
  }

  function send(request, onReply) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    request.id = ++requestIds;
    if (onReply) pendingReplies.set(request.id, onReply);
    socket.send(JSON.stringify(request));
    return true;
  }

  function connect() {
    retryTimer = null;
    setState('connecting', 'connecting…');
    opened = false;
    socket = new WebSocket(feedUrl(location.protocol === 'https:' ? 'wss:' : 'ws:'));
    socket.onopen = () => {
      opened = true;
      retryDelay = 500;
      setState('open', 'live');
      ui.tokenForm.hidden = true;
      send({ status: true }, reply => {
        if (reply.status) lastGoodFilters = reply.status.filters;
        showStatus(reply.status);
      });
    };
    socket.onclose = event => closed(event);
    socket.onmessage = event => onFrame(JSON.parse(event.data));
  }

  async function closed(event) {
    pendingReplies.clear();
    ui.broker.textContent = 'broker ?';
    ui.broker.className = 'badge unknown';
    if (event.code === 1008 && event.reason.startsWith('invalid filter')) {
      // the address held a filter the gateway refuses: back to the last one it took
      showNotice(`Filter refused by the gateway: ${event.reason.replace(/^invalid filter: /, '')}. Kept: ${lastGoodFilters.join(', ')}`);
      active = lastGoodFilters.slice();
      ui.filter.value = active.join(', ');
      writeFiltersToAddress(active);
    } else if (event.reason) {
      showNotice('Disconnected: ' + event.reason);
    }
    let state = 'closed';
    if (!opened) {
      // the browser hides why a handshake failed: ask the same address over HTTP
      const why = await handshakeRefusal();
      if (why && why.status === 401) {
        setState('closed', 'token needed');
        showNotice(token ? 'The gateway refused the token: ' + why.text : 'This feed needs a bearer token: ' + why.text);
        ui.tokenForm.hidden = false;
        ui.token.focus();
        return; // no retry until a token is given
      }
      if (why && why.status === 403) {
        state = 'refused';
        showNotice('The gateway refused this page: ' + why.text);
      }
    }
    setState('closed', `${state}, retrying in ${Math.round(retryDelay / 1000)} s`);
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 10000);
  }

  /** The HTTP answer to the handshake's address: 401 or 403 with the reason, or null when it is not a refusal. */
  async function handshakeRefusal() {
    try {
      const answer = await fetch(feedUrl(location.protocol), { cache: 'no-store' });
      if (answer.status === 401 || answer.status === 403) return { status: answer.status, text: (await answer.text()).trim() };
    } catch (e) {
      // the gateway is not reachable at all: the retries say so
    }
    return null;
  }

  ui.tokenForm.addEventListener('submit', event => {
    event.preventDefault();
    token = ui.token.value.trim();
    sessionStorage.setItem('live-token', token);
    ui.tokenForm.hidden = true;
    showNotice('');
    if (retryTimer) clearTimeout(retryTimer);
    retryDelay = 500;
    connect();
  });

  function onFrame(message) {
    if (message.id !== undefined && pendingReplies.has(message.id)) {
      const onReply = pendingReplies.get(message.id);
      pendingReplies.delete(message.id);
      onReply(message);
      return;
    }
    if (message.status) { showStatus(message.status); return; }
    if (message.error) { showNotice(message.error); return; }
    if (message.topic === undefined) return; // a reply nobody waits for
    accept(message);
  }

  function showStatus(status) {
    if (!status) return;
    const broker = status.broker;
    if (!broker) {
      ui.broker.textContent = 'broker: not watched';
      ui.broker.className = 'badge unknown';
    } else if (broker.state === 'up') {
      ui.broker.textContent = 'broker up';
      ui.broker.className = 'badge open';
      ui.broker.title = 'The gateway is connected to the MQTT broker since ' + localTime(Date.parse(broker.since));
    } else {
      ui.broker.textContent = `broker down since ${localTime(Date.parse(broker.since))}: ${broker.reason}`;
      ui.broker.className = 'badge closed';
      ui.broker.title = ui.broker.textContent;
    }
    ui.dropped.hidden = !status.dropped;
    ui.dropped.textContent = `${status.dropped} dropped by the gateway: this page fell behind`;
    ui.publish.hidden = status.publishTopics.length === 0;
    allowedToPublish = status.publishTopics;
    maxRequestBytes = status.maxRequestBytes;
    ui.publishAllowed.textContent = allowedToPublish.join(', ');
  }

  // ---- messages ----

  let receivedCount = 0;
  let sequence = 0;
  let inLastSecond = 0;
  const list = [];            // newest last
  let droppedFromList = 0;
  let paused = false;
  const pausedQueue = [];
  let droppedWhilePaused = 0;
  let listChanged = true;

  /** A message of the feed as the page keeps it; its bytes are decoded when first needed (bytesOf). */
  function entry(message) {
    const binary = message.encoding === 'base64';
    return {
      topic: message.topic, data: message.data, binary, qos: message.qos, retained: message.retained,
      time: Date.parse(message.timestamp), seq: ++sequence,
    };
  }

  function accept(message) {
    const item = entry(message);
    receivedCount++;
    inLastSecond++;
    updateTopic(item);
    chartValue(item);
    if (paused) {
      pausedQueue.push(item);
      if (pausedQueue.length > PAUSE_LIMIT) { pausedQueue.shift(); droppedWhilePaused++; }
      return;
    }
    addToList(item);
  }

  function addToList(item) {
    list.push(item);
    // trimmed in batches: one splice per 256 messages rather than one per message
    if (list.length > LIST_LIMIT + 256) trimList();
    listChanged = true;
  }

  function trimList() {
    if (list.length > LIST_LIMIT) droppedFromList += list.splice(0, list.length - LIST_LIMIT).length;
  }

  function bytesOf(item) {
    if (item.bytes) return item.bytes;
    if (item.binary) {
      const raw = atob(item.data);
      item.bytes = Uint8Array.from(raw, c => c.charCodeAt(0));
    } else {
      item.bytes = new TextEncoder().encode(item.data);
    }
    return item.bytes;
  }

  function preview(item) {
    if (item.data.length === 0) return { text: '(empty)', kind: 'empty' };
    if (item.binary) {
      const bytes = bytesOf(item);
      return { text: `${bytes.length} bytes: ${hex(bytes.subarray(0, 32))}${bytes.length > 32 ? ' …' : ''}`, kind: 'binary' };
    }
    const text = item.data.length > PREVIEW_CHARS ? item.data.slice(0, PREVIEW_CHARS) + ' …' : item.data;
    return { text: text.replace(/\r?\n/g, ' ⏎ '), kind: 'text' };
  }

  const hex = bytes => Array.from(bytes, b => b.toString(16).padStart(2, '0')).join(' ');

  function localTime(millis, withDate) {
    const d = new Date(millis);
    const time = d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
    return withDate ? d.toLocaleDateString() + ' ' + time : time;
  }

  // ---- the list: only the rows in view are in the page ----

  let selected = null;
  let rowHeight = 0;
  let shown = [];             // what the list shows now, newest first

  function searchText() { return ui.search.value.trim().toLowerCase(); }

  function renderList() {
    trimList();
    const query = searchText();
    // the row at the top of the view stays there when newer ones come in above it
    const anchor = ui.list.scrollTop > 0 && rowHeight ? shown[Math.floor(ui.list.scrollTop / rowHeight)] : null;
    const anchorOffset = anchor ? ui.list.scrollTop - shown.indexOf(anchor) * rowHeight : 0;
    shown = [];
    for (let i = list.length - 1; i >= 0; i--) {
      const item = list[i];
      if (!query || item.topic.toLowerCase().includes(query) || (!item.binary && item.data.toLowerCase().includes(query))) {
        shown.push(item);
      }
    }
    rowHeight = rowHeight || parseFloat(getComputedStyle(ui.list).getPropertyValue('--row-height')) || 28;
    ui.spacer.style.height = shown.length * rowHeight + 'px';
    if (anchor) {
      const index = shown.indexOf(anchor);
      if (index >= 0) ui.list.scrollTop = index * rowHeight + anchorOffset;
    }
    drawRows();
    const parts = [query ? `${shown.length} of ${list.length} kept match “${ui.search.value.trim()}”`
      : `${list.length} newest kept (up to ${LIST_LIMIT})`];
    if (droppedFromList > 0) parts.push(`${droppedFromList} older removed`);
    if (paused) parts.push(`paused: ${pausedQueue.length} waiting` + (droppedWhilePaused ? `, ${droppedWhilePaused} dropped` : ''));
    ui.listInfo.textContent = list.length === 0 && !paused ? 'No messages yet' : parts.join(' · ');
  }

  function drawRows() {
    const first = Math.max(0, Math.floor(ui.list.scrollTop / rowHeight) - 5);
    const last = Math.min(shown.length, Math.ceil((ui.list.scrollTop + ui.list.clientHeight) / rowHeight) + 5);
    const rows = [];
    for (let i = first; i < last; i++) rows.push(row(shown[i], i));
    ui.list.replaceChildren(ui.spacer, ...rows);
  }

  function row(item, index) {
    const element = document.createElement('div');
    element.className = 'row message' + (item === selected ? ' selected' : '');
    element.style.top = index * rowHeight + 'px';
    element.setAttribute('role', 'option');
    element.setAttribute('aria-selected', String(item === selected));
    element.dataset.topic = item.topic;
    element.dataset.seq = item.seq;
    const p = preview(item);
    const cells = [
      [localTime(item.time), 'time'], [item.topic, 'topic'],
      [String(item.qos) + (item.retained ? ' R' : ''), 'qos'], [p.text, 'data ' + p.kind],
    ];
    for (const [text, name] of cells) {
      const cell = document.createElement('span');
      cell.className = name;
      if (name === 'topic') {
        // a long topic is cut at its start, where topics of one feed look alike; bdi keeps it in reading order
        cell.appendChild(document.createElement('bdi')).textContent = text;
      } else {
        cell.textContent = text;
      }
      element.appendChild(cell);
    }
    element.title = item.topic + (item.retained ? ' (retained)' : '');
    return element;
  }

  ui.list.addEventListener('scroll', () => drawRows());
  ui.list.addEventListener('click', event => {
    const element = event.target.closest('.row.message');
    if (element) select(shown.find(item => String(item.seq) === element.dataset.seq));
  });
  ui.list.addEventListener('keydown', event => {
    const at = selected ? shown.indexOf(selected) : -1;
    let next = null;
    if (event.key === 'ArrowDown') next = Math.min(shown.length - 1, at + 1);
    else if (event.key === 'ArrowUp') next = Math.max(0, at - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = shown.length - 1;
    else if (event.key === 'Enter' && selected) { ui.detailBody.focus(); event.preventDefault(); return; }
    if (next === null || shown.length === 0) return;
    event.preventDefault();
    select(shown[next]);
    const top = next * rowHeight;
    if (top < ui.list.scrollTop) ui.list.scrollTop = top;
    else if (top + rowHeight > ui.list.scrollTop + ui.list.clientHeight) ui.list.scrollTop = top + rowHeight - ui.list.clientHeight;
    drawRows();
  });

  // ---- the detail pane ----

  let detailView = null;

  function views(item) {
    const result = [];
    if (!item.binary) {
      try {
        const value = JSON.parse(item.data);
        if (typeof value === 'object' && value !== null) result.push(['JSON', () => JSON.stringify(value, null, 2)]);
      } catch (e) { /* not JSON */ }
      result.push(['Text', () => item.data]);
    }
    result.push(['Hex', () => hexDump(bytesOf(item))]);
    result.push(['Base64', () => item.binary ? item.data : base64(bytesOf(item))]);
    return result;
  }

  function base64(bytes) {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  function hexDump(bytes) {
    const lines = [];
    const shownBytes = Math.min(bytes.length, 64 * 1024);
    for (let offset = 0; offset < shownBytes; offset += 16) {
      const chunk = bytes.subarray(offset, Math.min(offset + 16, shownBytes));
      const ascii = Array.from(chunk, b => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      lines.push(offset.toString(16).padStart(8, '0') + '  ' + hex(chunk).padEnd(48) + ' ' + ascii);
    }
    if (shownBytes < bytes.length) lines.push(`… ${bytes.length - shownBytes} more bytes`);
    return lines.join('\n');
  }

  function select(item) {
    if (!item) return;
    selected = item;
    ui.detail.hidden = false;
    document.body.classList.add('with-detail');
    ui.detailTopic.textContent = item.topic;
    const meta = [
      ['Size', `${bytesOf(item).length} bytes${item.binary ? ' (binary)' : ''}`],
      ['QoS', String(item.qos)], ['Retained', item.retained ? 'yes' : 'no'],
      ['Received', localTime(item.time, true)], ['UTC', new Date(item.time).toISOString()],
    ];
    ui.detailMeta.replaceChildren(...meta.flatMap(([name, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }));
    const available = views(item);
    if (!available.some(([name]) => name === detailView)) detailView = available[0][0];
    ui.detailViews.replaceChildren(...available.map(([name, render]) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = name;
      button.setAttribute('aria-pressed', String(name === detailView));
      button.addEventListener('click', () => { detailView = name; select(item); });
      return button;
    }));
    ui.detailBody.textContent = available.find(([name]) => name === detailView)[1]();
    ui.copyResult.textContent = '';
    chartPicks(item);
    listChanged = true;
  }

  function closeDetail() {
    ui.detail.hidden = true;
    document.body.classList.remove('with-detail');
    selected = null;
    listChanged = true;
    ui.list.focus();
  }

  $('detail-close').addEventListener('click', closeDetail);
  document.addEventListener('keydown', event => { if (event.key === 'Escape' && !ui.detail.hidden) closeDetail(); });

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      // no clipboard API outside a secure context (http to another host): the old way
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    ui.copyResult.textContent = 'copied';
  }
  $('copy-payload').addEventListener('click', () => selected && copy(ui.detailBody.textContent));
  $('copy-topic').addEventListener('click', () => selected && copy(selected.topic));

  // ---- the topic tree: last value, count and rate per topic ----

  const topics = new Map();   // topic → {count, last, windowCount, rate, node}
  let topicsNotKept = 0;
  const root = { children: new Map(), element: ui.tree, path: '' };
  const dirtyTopics = new Set();

  function updateTopic(item) {
    let state = topics.get(item.topic);
    if (!state) {
      if (topics.size >= TOPIC_LIMIT) { topicsNotKept++; return; }
      state = { count: 0, windowCount: 0, rate: 0, last: null, node: null };
      topics.set(item.topic, state);
    }
    state.count++;
    state.windowCount++;
    state.last = item;
    dirtyTopics.add(item.topic);
  }

  function treeNode(topic) {
    let node = root;
    const levels = topic.split('/');
    levels.forEach((level, i) => {
      let child = node.children.get(level);
      if (!child) {
        child = { name: level, path: levels.slice(0, i + 1).join('/'), children: new Map(), parent: node };
        child.element = document.createElement('li');
        child.element.setAttribute('role', 'treeitem');
        child.line = document.createElement('div');
        child.line.className = 'node';
        child.toggle = document.createElement('button');
        child.toggle.type = 'button';
        child.toggle.className = 'toggle';
        child.toggle.setAttribute('aria-label', 'Show or hide the topics under ' + child.path);
        child.toggle.addEventListener('click', () => {
          const collapsed = child.element.classList.toggle('collapsed');
          child.toggle.setAttribute('aria-expanded', String(!collapsed));
        });
        child.label = document.createElement('button');
        child.label.type = 'button';
        child.label.className = 'level';
        child.label.textContent = level === '' ? '(empty)' : level;
        child.value = document.createElement('span');
        child.value.className = 'value';
        child.stats = document.createElement('span');
        child.stats.className = 'stats muted';
        child.line.append(child.toggle, child.label, child.value, child.stats);
        child.element.appendChild(child.line);
        child.list = document.createElement('ul');
        child.list.setAttribute('role', 'group');
        child.element.appendChild(child.list);
        child.label.addEventListener('click', () => {
          const state = topics.get(child.path);
          if (state && state.last) select(state.last);
          else child.toggle.click();
        });
        // siblings in name order
        const after = [...node.children.values()].find(sibling => sibling.name > level);
        (node.list || node.element).insertBefore(child.element, after ? after.element : null);
        node.children.set(level, child);
        if (node.toggle && !node.element.classList.contains('branch')) {
          node.element.classList.add('branch');
          node.toggle.setAttribute('aria-expanded', 'true');
        }
      }
      node = child;
    });
    return node;
  }

  function renderTree() {
    for (const topic of dirtyTopics) {
      const state = topics.get(topic);
      if (!state) continue;
      if (!state.node) state.node = treeNode(topic);
      const node = state.node;
      const p = preview(state.last);
      node.value.textContent = p.text.length > 60 ? p.text.slice(0, 60) + ' …' : p.text;
      node.value.className = 'value ' + p.kind + (state.last.retained ? ' retained' : '');
      node.value.title = state.last.retained ? 'retained value' : '';
      node.stats.textContent = `${state.count} · ${state.rate.toFixed(state.rate < 10 ? 1 : 0)}/s`;
    }
    dirtyTopics.clear();
    ui.topicCount.textContent = topics.size + (topicsNotKept ? ` (+${topicsNotKept} messages of topics past ${TOPIC_LIMIT} not kept)` : '');
  }

  let lastRateAt = performance.now();
  function updateRates() {
    const now = performance.now();
    const seconds = (now - lastRateAt) / 1000;
    lastRateAt = now;
    for (const [topic, state] of topics) {
      const rate = state.windowCount / seconds;
      if (rate !== state.rate) { state.rate = rate; dirtyTopics.add(topic); }
      state.windowCount = 0;
    }
  }

  // ---- charts of numeric values ----

  const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700'];
  const series = [];
  let chartChanged = false;

  /** The numbers of a message: the payload itself, or the numeric fields of its JSON ("a.b" paths), at most 20. */
  function numbers(item) {
    if (item.binary) return [];
    const text = item.data.trim();
    if (text !== '' && !isNaN(Number(text))) return [['', Number(text)]];
    let value;
    try { value = JSON.parse(text); } catch (e) { return []; }
    const found = [];
    (function walk(node, path, depth) {
      if (found.length >= 20 || depth > 4) return;
      if (typeof node === 'number') found.push([path, node]);
      else if (typeof node === 'string' && node.trim() !== '' && !isNaN(Number(node))) found.push([path, Number(node)]);
      else if (node && typeof node === 'object') {
        for (const key of Object.keys(node)) walk(node[key], path ? path + '.' + key : key, depth + 1);
      }
    })(value, '', 0);
    return found;
  }

  function chartPicks(item) {
    const fields = numbers(item);
    ui.detailChart.replaceChildren(...fields.map(([path]) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Chart ' + (path || 'the value');
      button.addEventListener('click', () => addSeries(item.topic, path));
      return button;
    }));
  }

  function addSeries(topic, path) {
    if (series.some(s => s.topic === topic && s.path === path)) return;
    if (series.length >= CHART_SERIES) series.shift();
    const used = new Set(series.map(s => s.color));
    const s = { topic, path, color: COLORS.find(c => !used.has(c)), points: [] };
    // start with what the list still holds
    for (const item of list) if (item.topic === topic) addPoint(s, item);
    series.push(s);
    ui.charts.hidden = false;
    chartChanged = true;
    renderLegend();
  }

  function addPoint(s, item) {
    const value = numbers(item).find(([path]) => path === s.path);
    if (!value) return;
    s.points.push([item.time, value[1]]);
    if (s.points.length > CHART_POINTS) s.points.shift();
    chartChanged = true;
  }

  function chartValue(item) {
    for (const s of series) if (s.topic === item.topic) addPoint(s, item);
  }

  function renderLegend() {
    ui.legend.replaceChildren(...series.map(s => {
      const li = document.createElement('li');
      li.style.setProperty('--series', s.color);
      const name = document.createElement('span');
      name.className = 'series-name';
      const last = s.points.length ? s.points[s.points.length - 1][1] : '–';
      name.textContent = `${s.topic}${s.path ? ' → ' + s.path : ''}: ${last}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '✕';
      remove.setAttribute('aria-label', 'Remove ' + name.textContent);
      remove.addEventListener('click', () => {
        series.splice(series.indexOf(s), 1);
        ui.charts.hidden = series.length === 0;
        chartChanged = true;
        renderLegend();
      });
      li.append(name, remove);
      return li;
    }));
  }

  function renderChart() {
    if (!chartChanged || ui.charts.hidden) return;
    chartChanged = false;
    renderLegend();
    const canvas = ui.chart;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) { canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio); }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    const all = series.flatMap(s => s.points);
    if (all.length === 0) return;
    let [t0, t1, v0, v1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const [t, v] of all) { t0 = Math.min(t0, t); t1 = Math.max(t1, t); v0 = Math.min(v0, v); v1 = Math.max(v1, v); }
    if (t1 === t0) t1 = t0 + 1000;
    if (v1 === v0) { v0 -= 1; v1 += 1; }
    const style = getComputedStyle(document.body);
    const [left, right, top, bottom] = [56, 8, 8, 22];
    const x = t => left + (t - t0) / (t1 - t0) * (width - left - right);
    const y = v => top + (v1 - v) / (v1 - v0) * (height - top - bottom);
    g.strokeStyle = style.getPropertyValue('--line');
    g.fillStyle = style.getPropertyValue('--muted');
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (const v of [v0, (v0 + v1) / 2, v1]) {
      g.beginPath(); g.moveTo(left, y(v)); g.lineTo(width - right, y(v)); g.stroke();
      g.fillText(Number(v.toPrecision(6)).toString(), 2, y(v) + 4);
    }
    g.fillText(localTime(t0), left, height - 6);
    const endLabel = localTime(t1);
    g.fillText(endLabel, width - right - g.measureText(endLabel).width, height - 6);
    g.lineWidth = 2;
    for (const s of series) {
      g.strokeStyle = s.color;
      g.beginPath();
      s.points.forEach(([t, v], i) => (i === 0 ? g.moveTo(x(t), y(v)) : g.lineTo(x(t), y(v))));
      g.stroke();
    }
  }

  // ---- publishing ----

  let allowedToPublish = [];
  let maxRequestBytes = Infinity;

  $('publish-form').addEventListener('submit', event => {
    event.preventDefault();
    const topic = ui.publishTopic.value;
    const result = ui.publishResult;
    result.className = 'error';
    if (/[+#]/.test(topic) || topic === '') { result.textContent = 'A topic to publish to has no wildcards and is not empty'; return; }
    if (!allowedToPublish.some(filter => matches(filter, topic))) {
      result.textContent = `'${topic}' is not in the allowed topics: ${allowedToPublish.join(', ')}`;
      return;
    }
    const request = { publish: { topic, payload: ui.publishPayload.value, qos: Number(ui.publishQos.value), retain: ui.publishRetain.checked } };
    result.className = 'muted';
    result.textContent = 'sending…';
    const sent = send(request, reply => {
      result.className = reply.error ? 'error' : 'ok';
      result.textContent = reply.error ? 'Refused: ' + reply.error : `Published to ${reply.published} at ${localTime(Date.now())}`;
    });
    if (!sent) { result.className = 'error'; result.textContent = 'Not connected to the gateway'; }
  });

  // ---- filters, pause, clear, search ----

  function writeFiltersToAddress(filters) {
    const url = new URL(location.href);
    url.searchParams.delete('filter');
    url.searchParams.delete('token');
    filters.forEach(filter => url.searchParams.append('filter', filter));
    history.replaceState(null, '', url);
  }

  function applyFilters(wanted) {
    active = wanted;
    lastGoodFilters = wanted.slice();
    ui.filter.value = wanted.join(', ');
    ui.filter.removeAttribute('aria-invalid');
    writeFiltersToAddress(wanted);
    // what the new filters do not cover goes from the list and the tree
    const kept = list.filter(item => wanted.some(filter => matches(filter, item.topic)));
    list.length = 0;
    list.push(...kept);
    for (const [topic, state] of topics) {
      if (!wanted.some(filter => matches(filter, topic))) {
        topics.delete(topic);
        dirtyTopics.delete(topic);
        if (state.node) { state.node.value.textContent = ''; state.node.stats.textContent = ''; removeFromTree(state.node); }
      }
    }
    listChanged = true;
  }

  /** Takes a topic's node out, and the branches above it that have nothing left. */
  function removeFromTree(node) {
    while (node !== root && node.children.size === 0 && !topics.has(node.path)) {
      node.element.remove();
      node.parent.children.delete(node.name);
      if (node.parent.children.size === 0 && node.parent !== root) node.parent.element.classList.remove('branch');
      node = node.parent;
    }
  }

  $('filter-form').addEventListener('submit', event => {
    event.preventDefault();
    const wanted = parseFilters(ui.filter.value);
    const problems = wanted.map(filterProblem).filter(Boolean);
    if (wanted.length === 0) problems.push('enter at least one topic filter, # for everything');
    const size = new TextEncoder().encode(JSON.stringify({ subscribe: wanted, id: requestIds + 1 })).length;
    if (size > maxRequestBytes) problems.push(`the filters make a request of ${size} bytes, over the gateway's limit of ${maxRequestBytes} (live.max-request-bytes)`);
    if (problems.length > 0) {
      ui.filter.setAttribute('aria-invalid', 'true');
      showNotice(`Filter not applied: ${problems.join('; ')}. Still showing ${active.join(', ')}`);
      return;
    }
    showNotice('');
    const previous = active.slice();
    const sent = send({ subscribe: wanted }, reply => {
      if (reply.error) {
        ui.filter.setAttribute('aria-invalid', 'true');
        showNotice(`Filter refused by the gateway: ${reply.error}. Still showing ${previous.join(', ')}`);
        return;
      }
      const gone = previous.filter(filter => !wanted.includes(filter));
      if (gone.length > 0) send({ unsubscribe: gone });
      applyFilters(wanted);
    });
    if (!sent) applyFilters(wanted); // taken at the next connect
  });

  ui.pause.addEventListener('click', () => {
    paused = !paused;
    ui.pause.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      for (const item of pausedQueue) addToList(item);
      pausedQueue.length = 0;
      droppedWhilePaused = 0;
    }
    ui.pause.textContent = paused ? 'Resume' : 'Pause';
    listChanged = true;
  });

  $('clear').addEventListener('click', () => {
    list.length = 0;
    droppedFromList = 0;
    pausedQueue.length = 0;
    droppedWhilePaused = 0;
    listChanged = true;
  });

  ui.search.addEventListener('input', () => { listChanged = true; ui.list.scrollTop = 0; });
  window.addEventListener('resize', () => { rowHeight = 0; listChanged = true; chartChanged = true; });

  // ---- drawing: at most every RENDER_MS, never in a hidden tab ----

  let renderScheduled = false;
  function render() {
    renderScheduled = false;
    if (listChanged) {
      listChanged = false;
      renderList();
    }
    renderTree();
    renderChart();
    ui.count.textContent = String(receivedCount);
  }

  setInterval(() => {
    if (!renderScheduled && !document.hidden) {
      renderScheduled = true;
      requestAnimationFrame(render);
    }
  }, RENDER_MS);

  setInterval(() => {
    ui.rate.textContent = String(inLastSecond);
    inLastSecond = 0;
    updateRates();
    if (paused) listChanged = true; // the waiting count
  }, 1000);

  connect();
})();
