// The live feed's dashboard: one WebSocket to the gateway, reconnecting with backoff; filters are MQTT topic filters
// sent as subscribe/unsubscribe requests, so the gateway only sends what is shown.
(() => {
  const MAX_ROWS = 500;
  const page = new URLSearchParams(location.search);
  const token = page.get('token');
  const state = document.getElementById('state');
  const rate = document.getElementById('rate');
  const count = document.getElementById('count');
  const rows = document.getElementById('messages');
  const filterBox = document.getElementById('filter');
  const pauseButton = document.getElementById('pause');
  const notice = document.getElementById('notice');

  let socket = null;
  let retryDelay = 500;
  let paused = false;
  let received = 0;
  let inLastSecond = 0;
  let active = page.getAll('filter');
  if (active.length === 0) active = ['#'];
  filterBox.value = active.join(', ');

  function feedUrl() {
    const url = new URL(document.querySelector('meta[name=feed-path]').content, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    active.forEach(filter => url.searchParams.append('filter', filter));
    if (token) url.searchParams.set('access_token', token);
    return url;
  }

  function setState(name) {
    state.textContent = name;
    state.className = 'state ' + name;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function connect() {
    setState('connecting');
    socket = new WebSocket(feedUrl());
    socket.onopen = () => { setState('open'); retryDelay = 500; showNotice(''); };
    socket.onclose = event => {
      setState('closed');
      if (event.reason) showNotice('Disconnected: ' + event.reason);
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
    socket.onmessage = event => {
      const message = JSON.parse(event.data);
      if (message.error) { showNotice(message.error); return; }
      if (message.topic === undefined) return; // a reply to subscribe/unsubscribe
      received++;
      inLastSecond++;
      if (!paused) show(message);
    };
  }

  function show(message) {
    const row = document.createElement('tr');
    row.className = 'message';
    row.dataset.topic = message.topic;
    [message.timestamp, message.topic, String(message.qos), message.retained ? 'yes' : ''].forEach(text => {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.appendChild(cell);
    });
    const data = document.createElement('td');
    data.className = message.encoding === 'base64' ? 'data base64' : 'data';
    data.textContent = message.data.length > 300 ? message.data.slice(0, 300) + '…' : message.data;
    data.title = message.data.length > 2000 ? message.data.slice(0, 2000) + '…' : message.data;
    row.appendChild(data);
    rows.prepend(row);
    while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
  }

  document.getElementById('filter-form').addEventListener('submit', event => {
    event.preventDefault();
    const wanted = filterBox.value.split(',').map(text => text.trim()).filter(text => text.length > 0);
    if (wanted.length === 0) { showNotice('Enter at least one topic filter, # for everything'); return; }
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ unsubscribe: active }));
      socket.send(JSON.stringify({ subscribe: wanted }));
    }
    active = wanted;
    rows.replaceChildren();
    showNotice('');
    const url = new URL(location.href);
    url.searchParams.delete('filter');
    wanted.forEach(filter => url.searchParams.append('filter', filter));
    history.replaceState(null, '', url);
  });

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(paused));
  });
  document.getElementById('clear').addEventListener('click', () => rows.replaceChildren());

  setInterval(() => {
    rate.textContent = String(inLastSecond);
    count.textContent = String(received);
    inLastSecond = 0;
  }, 1000);

  connect();
})();
