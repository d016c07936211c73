// The wsgate demo page: one client, several channels, each pausable. By default every tab of the
// demo shares one WebSocket through a SharedWorker (?shared=0: this tab's own) and keeps its session
// across reloads of the tab (the SDK's opt-in `reload`, on here; ?reload=0 turns it off). Everything the page received is also kept on `window.demo` so tests (and
// curious people) can inspect it.
import { createClient } from './wsgate-client.js';

const params = new URLSearchParams(location.search);
const channels = (params.get('channels') || 'logs:api,logs:auth,logs:billing,logs:worker').split(',').filter(Boolean);
const autoPause = params.get('pauseWhenHidden') !== '0';
const $ = (id) => document.getElementById(id);
const MAX_LINES = 200;

const client = createClient({
  pauseWhenHidden: autoPause,
  profile: { name: params.get('name') || 'demo page' },
  shared: params.get('shared') !== '0',
  reload: params.get('reload') !== '0',
});
const demo = (window.demo = { client, received: {}, events: [], subscriptions: {} });
demo.events.push(`page ${document.visibilityState}`);
document.addEventListener('visibilitychange', () => demo.events.push(`page ${document.visibilityState}`));

function logEvent(text) {
  demo.events.push(text);
  const line = document.createElement('div');
  line.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('events').prepend(line);
  while ($('events').childNodes.length > 50) $('events').lastChild.remove();
}

function renderStatus() {
  const s = client.stats;
  $('state').textContent = client.state;
  $('state').className = `badge ${client.state}`;
  $('session').textContent = client.sessionId || '–';
  const over = client.transport === 'sse' ? ' · SSE (WebSocket blocked)' : ' · WebSocket';
  $('mode').textContent = (client.mode === 'shared' ? 'one for all tabs' : 'this tab') + over;
  $('mode').title = client.mode === 'shared'
    ? 'The connection lives in a SharedWorker (Chrome: chrome://inspect/#workers), shared by every tab of this page'
    : "This tab's own connection (?shared=0, or no SharedWorker in this browser)";
  $('seq').textContent = String(client.seq);
  $('hb-in').textContent = String(s.heartbeatsReceived);
  $('hb-out').textContent = String(s.heartbeatsSent);
  $('reconnects').textContent = String(s.reconnects);
  $('resumes').textContent = String(s.resumes);
  $('dups').textContent = String(s.duplicatesDropped);
  if (client.init) {
    $('hb-interval').textContent = String(client.init.heartbeat_interval);
    $('ping').textContent = String(client.init.ping_interval);
  }
}

function formatData(data) {
  if (data && typeof data === 'object' && 'text' in data) return { level: data.level || 'INFO', text: data.text };
  return { level: 'INFO', text: JSON.stringify(data) };
}

function mountChannel(name) {
  const box = document.createElement('section');
  box.className = 'channel';
  box.dataset.channel = name;
  box.innerHTML = '<div class="head"><span class="name"></span><span class="sstate"></span><button class="toggle">pause</button><span class="info"></span></div><ol></ol>';
  box.querySelector('.name').textContent = name;
  $('channels').append(box);
  const list = box.querySelector('ol');
  const received = (demo.received[name] = []);
  const sub = client.subscribe(name, (m) => {
    received.push(m.offset);
    const { level, text } = formatData(m.data);
    const li = document.createElement('li');
    li.className = level;
    li.dataset.offset = String(m.offset);
    li.innerHTML = '<span class="off"></span><span class="lvl"></span> <span class="txt"></span>';
    li.querySelector('.off').textContent = `#${m.offset}`;
    li.querySelector('.lvl').textContent = level;
    li.querySelector('.txt').textContent = text;
    list.append(li);
    while (list.childElementCount > MAX_LINES) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
    box.querySelector('.info').textContent = `${received.length} received · offset ${m.offset}`;
  });
  demo.subscriptions[name] = sub;
  const note = (text) => {
    const li = document.createElement('li');
    li.className = 'note';
    li.textContent = text;
    list.append(li);
  };
  sub.on('state', (state) => {
    demo.events.push(`${name}: ${state}`);
    box.querySelector('.sstate').textContent = state;
    box.classList.toggle('paused', state === 'paused');
    box.querySelector('.toggle').textContent = sub.paused ? 'resume' : 'pause';
  });
  sub.on('subscribed', (e) => {
    demo.events.push(`${name}: subscribed at #${e.offset}${e.since ? ` since #${e.since.offset}` : ''}, recovered ${e.recovered}`);
    if (e.since && e.recovered) note(`— resumed from #${e.since.offset}: missed messages follow —`);
  });
  sub.on('missed', (e) => {
    note(`— could not recover ${e.missed ?? 'some'} messages after #${e.since.offset}; continuing at #${e.offset} —`);
    logEvent(`${name}: recovered:false (missed ${e.missed ?? '?'})`);
  });
  sub.on('error', (err) => note(`subscription failed: ${err.code} ${err.message}`));
  box.querySelector('.toggle').addEventListener('click', () => (sub.paused ? sub.resume() : sub.pause()));
  box.querySelector('.sstate').textContent = sub.state;
}

client.on('state', ({ state, previous }) => {
  logEvent(`state ${previous} → ${state}`);
  renderStatus();
});
client.on('connected', (e) => logEvent(e.resumed ? `resumed session ${e.sessionId} (${e.replayed} replayed)` : `new session ${e.sessionId}${e.resumeError ? ` (resume failed: ${e.resumeError})` : ''}`));
client.on('disconnected', (e) => logEvent(`disconnected ${e.code} ${e.reason || '(abnormal: no close frame)'}${e.willReconnect ? `, retry in ${e.delay} ms` : ''}`));
client.on('failed', (e) => logEvent(`stopped: ${e.code} ${e.reason}`));
client.on('heartbeat', renderStatus);
client.on('error', (err) => logEvent(`error ${err.code}: ${err.message}`));

// The client reads pauseWhenHidden once, when it is created: changing it reloads the page with the
// new setting in the URL (the note beside the box says so, instead of a greyed box with a tooltip).
$('auto-pause').checked = autoPause;
$('auto-pause').addEventListener('change', () => {
  params.set('pauseWhenHidden', $('auto-pause').checked ? '1' : '0');
  location.search = params.toString();
});
$('drop').addEventListener('click', () => {
  if (client.sessionId) fetch(`drop?session=${encodeURIComponent(client.sessionId)}`, { method: 'POST' });
});
for (const name of channels) mountChannel(name);
setInterval(renderStatus, 500);
renderStatus();
