import { SCENARIOS, type ScenarioName } from './scenarios.js';

/** Parsed command line of `npm run load`. */
export interface LoadArgs {
  scenario: ScenarioName;
  /** Total clients. Default per scenario. */
  clients: number;
  /** Share of v2 clients, 0..1. Default per scenario. */
  v2Share: number;
  /** Seconds of the measured phase after every client is up. Default per scenario. */
  duration: number;
  via: 'nginx' | 'direct';
  /** Existing deployment, e.g. `wss://chat.example.com` (v3 at /api/ws, v2 at /ws). Empty: start our own. */
  target: string;
  json: string;
  /** Also write the HTML report with charts here ('' = no). */
  html: string;
  /** Client worker processes. 0: one per 2,500 clients. */
  workers: number;
  /** New connections per second, all workers together. */
  connectRate: number;
  /** v3 clients per room. */
  roomSize: number;
  /** chat: messages per second per client. */
  rate: number;
  /** reconnect-storm: share of clients dropped at once. */
  dropShare: number;
  /** reconnect-storm: channel messages published per second. */
  publishRate: number;
  /** Bearer key for POST /api/publish on a --target. */
  apiKey: string;
  /** v2 password (sent as the hello token). */
  password: string;
  /** The started gateway's --session-ttl, seconds (0: the scenario's, i.e. the default 120). */
  sessionTtl: number;
  /** fuzz: concurrent hostile lanes (60 % WebSocket, 40 % plain HTTP). */
  hostile: number;
  /** fuzz: stop the WebSocket lanes after this many hostile frames (0: at --duration). */
  fuzzFrames: number;
  /** fuzz: stop the HTTP lanes after this many hostile requests (0: at --duration). */
  fuzzRequests: number;
  /** Scale-out over Redis: '' none (in memory), 'start' a private redis-server, or the URL of an existing one. */
  redis: string;
  /** Gateway processes: 1, or N > 1 as `wsgate --workers N --redis URL` on one port (needs redis). */
  gatewayProcesses: number;
  /** Print a status line to stderr every S seconds (0: never; a TTY gets the progress bar anyway). */
  progress: number;
  /** Also write the report as Markdown (the table, with the command and the machine). */
  md: string;
  help: boolean;
}

/** The usage text of `npm run load -- --help`. */
export function usage(): string {
  const names = Object.values(SCENARIOS)
    .map((s) => `  ${s.name.padEnd(16)} ${s.summary}`)
    .join('\n');
  return `Usage: npm run load -- --scenario NAME [options]

Opens many v3 and v2 clients (several worker processes, source addresses 127.0.0.2…) against a wsgate gateway
it starts itself behind a real nginx at its default proxy_read_timeout (60 s), or against --target.

Scenarios:
${names}

Options:
  --scenario NAME      one of the scenarios above (required)
  --clients N          total clients (default per scenario)
  --v2-share F         share of v2 (legacy, /ws) clients, 0..1 (default per scenario)
  --duration S         seconds of the measured phase once every client is up (default per scenario)
  --via nginx|direct   put nginx in front of the gateway (default nginx; fuzz: direct)
  --target URL         use an existing deployment instead, e.g. wss://chat.example.com (v3 /api/ws, v2 /ws)
  --json FILE          also write the report as JSON
  --html FILE          also write an HTML report with charts over time (works offline: the chart library is inlined)
  --workers N          client worker processes (default: one per 2,500 clients)
  --connect-rate R     new connections per second (default 1000)
  --room-size N        v3 clients per room (default 10; control: 1)
  --rate R             chat: messages per second per client (default 0.5)
  --drop-share F       reconnect-storm: share of clients dropped at once (default 0.5)
  --publish-rate R     reconnect-storm: channel messages per second (default 10)
  --api-key KEY        bearer key for POST /api/publish on a --target
  --password P         v2 password / v3 hello token (default empty)
  --session-ttl S      --session-ttl of the gateway the driver starts (default: the gateway's, 120 s)
  --hostile N          fuzz: concurrent hostile lanes, 60 % WebSocket (v3 and v2), 40 % HTTP (default 40)
  --fuzz-frames N      fuzz: end the attack once N hostile frames were sent (default 0: after --duration)
  --fuzz-requests N    fuzz: … and N hostile HTTP requests (default 0: after --duration)
  --redis [URL]        scale out over Redis: start a private redis-server (no persistence, temp dir), or use URL;
                       the report adds every gateway process's RSS/CPU/open files, Redis memory and load average
  --gateway-processes N  run the gateway as \`wsgate --workers N --redis URL\` on one port (needs --redis; default 1)
  --progress S         print a status line to stderr every S seconds (for logs; default 0: only a TTY's bar)
  --md FILE            also write the report as Markdown
  --help               this text

Exit code: 0 when the scenario's expectation holds, 1 when it does not, 2 on bad usage.`;
}

/** A usage error: the message names the option. */
export class UsageError extends Error {}

function num(flag: string, v: string | undefined, min: number, max = Infinity): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag} needs a number between ${min} and ${max}, got ${v ?? 'nothing'}`);
  }
  return n;
}

/** Parse argv (without `node cli.js`). Throws UsageError. */
export function parseArgs(argv: string[]): LoadArgs {
  const raw = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') help = true;
    // --redis alone starts a private redis-server; --redis URL uses that one.
    else if (a === '--redis' && !/^rediss?:\/\//.test(argv[i + 1] ?? '')) raw.set('redis', 'start');
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) raw.set(a.slice(2, eq), a.slice(eq + 1));
      else raw.set(a.slice(2), argv[++i] ?? '');
    } else throw new UsageError(`unexpected argument ${a}`);
  }
  const known = ['scenario', 'clients', 'v2-share', 'duration', 'via', 'target', 'json', 'html', 'workers', 'connect-rate',
    'room-size', 'rate', 'drop-share', 'publish-rate', 'api-key', 'password', 'session-ttl', 'hostile', 'fuzz-frames', 'fuzz-requests',
    'redis', 'gateway-processes', 'progress', 'md'];
  for (const k of raw.keys()) if (!known.includes(k)) throw new UsageError(`unknown option --${k}`);
  const name = raw.get('scenario') ?? '';
  if (help) return { ...defaultsFor('idle'), help: true };
  if (!(name in SCENARIOS)) throw new UsageError(`--scenario must be one of ${Object.keys(SCENARIOS).join(', ')}`);
  const d = defaultsFor(name as ScenarioName);
  const get = (k: string): string | undefined => raw.get(k);
  const via = get('via') ?? d.via;
  if (via !== 'nginx' && via !== 'direct') throw new UsageError('--via must be nginx or direct');
  const target = get('target') ?? '';
  if (target && !/^wss?:\/\//.test(target)) throw new UsageError('--target must start with ws:// or wss://');
  const redis = get('redis') ?? '';
  const gatewayProcesses = get('gateway-processes') !== undefined ? Math.round(num('--gateway-processes', get('gateway-processes'), 1, 64)) : 1;
  if (gatewayProcesses > 1 && !redis) throw new UsageError('--gateway-processes needs --redis (the processes share their sessions through Redis)');
  if (redis && target) throw new UsageError('--redis starts gateways of its own: not with --target');
  const fuzz = SCENARIOS[name as ScenarioName].mode === 'fuzz';
  // fuzz reads the gateway's memory and collects its garbage over IPC: a process it started, and only one.
  if (fuzz && target) throw new UsageError('--target: the fuzz scenario attacks a gateway it starts itself (it reads its memory)');
  if (fuzz && gatewayProcesses > 1) throw new UsageError('--gateway-processes: the fuzz scenario attacks one gateway process (with --redis: one process over Redis)');
  return {
    ...d,
    clients: get('clients') !== undefined ? Math.round(num('--clients', get('clients'), 1)) : d.clients,
    // v2 clients all land in one room (quadratic presence): a scale-out run is v3 unless asked.
    v2Share: get('v2-share') !== undefined ? num('--v2-share', get('v2-share'), 0, 1) : redis ? 0 : d.v2Share,
    duration: get('duration') !== undefined ? num('--duration', get('duration'), 0) : d.duration,
    via,
    target: target.replace(/\/+$/, ''),
    json: get('json') ?? '',
    html: get('html') ?? '',
    workers: get('workers') !== undefined ? Math.round(num('--workers', get('workers'), 1, 64)) : 0,
    connectRate: get('connect-rate') !== undefined ? num('--connect-rate', get('connect-rate'), 1) : d.connectRate,
    roomSize: get('room-size') !== undefined ? Math.round(num('--room-size', get('room-size'), 1)) : d.roomSize,
    rate: get('rate') !== undefined ? num('--rate', get('rate'), 0.01, 1000) : d.rate,
    dropShare: get('drop-share') !== undefined ? num('--drop-share', get('drop-share'), 0, 1) : d.dropShare,
    publishRate: get('publish-rate') !== undefined ? num('--publish-rate', get('publish-rate'), 0.1, 10_000) : d.publishRate,
    apiKey: get('api-key') ?? '',
    password: get('password') ?? '',
    sessionTtl: get('session-ttl') !== undefined ? num('--session-ttl', get('session-ttl'), 1) : 0,
    hostile: get('hostile') !== undefined ? Math.round(num('--hostile', get('hostile'), 1, 2000)) : d.hostile,
    fuzzFrames: get('fuzz-frames') !== undefined ? Math.round(num('--fuzz-frames', get('fuzz-frames'), 0)) : 0,
    fuzzRequests: get('fuzz-requests') !== undefined ? Math.round(num('--fuzz-requests', get('fuzz-requests'), 0)) : 0,
    redis,
    gatewayProcesses,
    progress: get('progress') !== undefined ? num('--progress', get('progress'), 0) : 0,
    md: get('md') ?? '',
  };
}

function defaultsFor(name: ScenarioName): LoadArgs {
  const s = SCENARIOS[name];
  return {
    scenario: name,
    clients: s.defaults.clients,
    v2Share: s.defaults.v2Share,
    duration: s.defaults.duration,
    via: s.defaults.via ?? 'nginx',
    target: '',
    json: '',
    html: '',
    workers: 0,
    connectRate: 1000,
    roomSize: s.defaults.roomSize,
    rate: 0.5,
    dropShare: 0.5,
    publishRate: 10,
    apiKey: '',
    password: '',
    sessionTtl: 0,
    hostile: 40,
    fuzzFrames: 0,
    fuzzRequests: 0,
    redis: '',
    gatewayProcesses: 1,
    progress: 0,
    md: '',
    help: false,
  };
}
