/**
 * Web pages and the REST paths: a browser sends a page's text/plain or form POST to any address
 * without asking first, so a state-changing request that names a foreign page in Origin is
 * refused; the service's own origin and RS3GW_ALLOWED_ORIGINS are served, and clients that send
 * no Origin (curl, SDKs) are not touched. Requests are made as a browser would make them: the
 * headers it sends, over plain fetch.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningServer } from '../support/server.js';
import { get } from 'node:http';
import { API, Rest, assertError, assertOk, replyOf, startRestServer, type Reply } from './support/rest-http.js';

const DASHBOARD = 'https://dash.example:3000';
const EVIL = 'https://evil.example';

let server: RunningServer;
let rest: Rest;

test.before(async () => {
  // Written as a user might (upper case, a default port): compared as browsers send it.
  server = await startRestServer({ RS3GW_ALLOWED_ORIGINS: ` ${DASHBOARD}, HTTPS://Other.Example:443 ` });
  rest = new Rest(server.url);
});

test.after(async () => {
  await server.stop();
});

/** A POST as a page's fetch sends a string body: text/plain, no preflight. */
function pagePost(path: string, body: unknown, headers: Record<string, string>) {
  return rest.post(path, JSON.stringify(body), { 'content-type': 'text/plain;charset=UTF-8', ...headers });
}

async function seed(metric: string): Promise<void> {
  await rest.postOk(`${API}/anomalies/samples`, { metric, value: 1 });
}

/**
 * A GET with exactly these headers: fetch (undici) sets sec-fetch-mode itself, so a browser's
 * navigation or <img> request is written with node:http.
 */
function browserGet(path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get(server.url + path, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const replyHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') replyHeaders.set(name, value);
        resolve(replyOf(res.statusCode ?? 0, replyHeaders, text));
      });
    }).on('error', reject);
  });
}

const stillThere = async (metric: string) => (await rest.get(`${API}/anomalies/statistics?metric=${metric}`)).status === 200;

test('a foreign page cannot change state: 403 naming origin and RS3GW_ALLOWED_ORIGINS, and the metric is not deleted', async () => {
  await seed('victim');
  const r = await pagePost(`${API}/anomalies/reset`, { metric: 'victim', delete: true }, { origin: EVIL });
  assertError(r, 403, 'permission_denied', /^origin: a page of 'https:\/\/evil\.example' may not change this service's state/);
  assert.match(r.json.message, 'RS3GW_ALLOWED_ORIGINS');
  assert.match(r.json.message, `service's own origin (${server.url})`);
  assert.is(r.headers.get('access-control-allow-origin'), null);
  assert.ok(await stillThere('victim'), 'the metric is still there');
  for (const [path, body] of [
    [`${API}/anomalies/config`, { metric: 'victim', config: { min_samples: 4000000000 } }],
    [`${API}/business-metrics/storage`, { buckets: '1', objects: '1', total_bytes: '999999999999999' }],
    [`${API}/resources/acquire`, {}],
  ] as const) {
    assertError(await pagePost(path, body, { origin: EVIL }), 403, 'permission_denied', 'origin');
  }
  // The form and missing content types a page can send without a preflight are refused alike.
  const form = await fetch(`${server.url}${API}/anomalies/reset`, {
    method: 'POST',
    headers: { origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
    body: JSON.stringify({ metric: 'victim', delete: true }),
  });
  assert.is(form.status, 403);
  const bare = await fetch(`${server.url}${API}/anomalies/reset`, { method: 'POST', headers: { origin: EVIL }, body: JSON.stringify({ metric: 'victim', delete: true }) });
  assert.is(bare.status, 403);
  assert.ok(await stillThere('victim'), 'the metric is still there');
});

test("Origin: null (a sandboxed or file:// page), another port of the service's host, and a same-site page without Origin are foreign", async () => {
  await seed('victim2');
  assertError(await pagePost(`${API}/anomalies/reset`, { metric: 'victim2', delete: true }, { origin: 'null' }), 403, 'permission_denied', /^origin: a page of 'null' may not/);
  const otherPort = server.url.replace(/:(\d+)$/, (_, port: string) => `:${Number(port) + 1}`);
  assertError(await pagePost(`${API}/anomalies/reset`, { metric: 'victim2', delete: true }, { origin: otherPort }), 403, 'permission_denied', 'origin');
  assertError(await pagePost(`${API}/anomalies/reset`, { metric: 'victim2', delete: true }, { origin: server.url.replace('http:', 'https:') }), 403, 'permission_denied', 'origin');
  for (const site of ['cross-site', 'same-site']) {
    const r = await pagePost(`${API}/anomalies/reset`, { metric: 'victim2', delete: true }, { 'sec-fetch-site': site });
    assertError(r, 403, 'permission_denied', new RegExp(`^sec-fetch-site: a ${site} page may not make this service do work`));
  }
  assert.ok(await stillThere('victim2'), 'the metric is still there');
});

test('the service\'s own origin is served, and needs no CORS headers', async () => {
  await seed('own');
  const r = await pagePost(`${API}/anomalies/reset`, { metric: 'own', delete: true }, { origin: server.url, 'sec-fetch-site': 'same-origin' });
  assertOk(r, 'same-origin reset');
  assert.is(r.headers.get('access-control-allow-origin'), null);
  assert.not.ok(await stillThere('own'), 'deleted');
});

test('a listed origin is served, with Access-Control-Allow-Origin so its page can read the answer', async () => {
  await seed('dash');
  const r = await pagePost(`${API}/anomalies/reset`, { metric: 'dash' }, { origin: DASHBOARD, 'sec-fetch-site': 'cross-site' });
  assertOk(r, 'listed origin');
  assert.is(r.headers.get('access-control-allow-origin'), DASHBOARD);
  assert.is(r.headers.get('access-control-expose-headers'), 'retry-after', 'the page may read a refusal\'s Retry-After');
  assert.match(r.headers.get('vary') ?? '', /origin/i);
  // Listed as HTTPS://Other.Example:443: the browser sends it as https://other.example.
  assertOk(await pagePost(`${API}/anomalies/reset`, { metric: 'dash' }, { origin: 'https://other.example' }), 'listed in another spelling');
  // A refusal is readable too: the page learns why.
  const refused = await pagePost(`${API}/anomalies/reset`, { metric: 'never_seen' }, { origin: DASHBOARD });
  assertError(refused, 404, 'not_found', 'metric');
  assert.is(refused.headers.get('access-control-allow-origin'), DASHBOARD);
  const read = await rest.get(`${API}/anomalies/statistics?metric=dash`, { origin: DASHBOARD });
  assertOk(read, 'GET from the dashboard');
  assert.is(read.headers.get('access-control-allow-origin'), DASHBOARD);
  // /metrics varies by Accept as well: both are said.
  const scrape = await fetch(`${server.url}/metrics`, { headers: { origin: DASHBOARD } });
  assert.is(scrape.status, 200);
  assert.is(scrape.headers.get('access-control-allow-origin'), DASHBOARD);
  assert.match(scrape.headers.get('vary') ?? '', /origin.*accept/i);
});

test('requests without Origin (curl, SDKs), GET or HEAD naming a foreign page without Fetch Metadata, and links a user follows are served', async () => {
  await seed('plain');
  const plain = await rest.post(`${API}/anomalies/reset`, { metric: 'plain' });
  assertOk(plain, 'no Origin');
  assert.match(plain.headers.get('vary') ?? '', /origin/i, 'with origins listed, every answer varies by Origin');
  const followed = await browserGet(`${API}/anomalies/statistics?metric=plain`, {
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    'sec-fetch-user': '?1',
  });
  assertOk(followed, 'a link from another site');
  assert.is(followed.headers.get('access-control-allow-origin'), null);
  const read = await rest.get(`${API}/anomalies/statistics?metric=plain`, { origin: EVIL });
  assertOk(read, 'GET naming a foreign page, from a browser without Fetch Metadata');
  assert.is(read.headers.get('access-control-allow-origin'), null, 'but the page may not read it');
  const metrics = await fetch(`${server.url}/metrics`, { headers: { origin: EVIL } });
  assert.is(metrics.status, 200);
  const head = await fetch(`${server.url}${API}/health`, { method: 'HEAD', headers: { origin: EVIL } });
  assert.is(head.status, 200);
});

test("a foreign page's GET is refused too, but for a followed link: an <img> cannot start a CPU profile", async () => {
  const image = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
  const refused = await browserGet('/debug/pprof/profile?seconds=1', image);
  assertError(refused, 403, 'permission_denied', 'sec-fetch-site');
  assert.match(refused.json.message, /RS3GW_ALLOWED_ORIGINS/);
  // A page's fetch, which names it in Origin; another port of the host is same-site, and foreign.
  assertError(await browserGet(`${API}/health`, { origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }), 403, 'permission_denied', 'sec-fetch-site');
  assertError(await browserGet('/metrics', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }), 403, 'permission_denied', 'sec-fetch-site');
  // An iframe is no followed link either, nor a navigation the page made itself (location = ...).
  assertError(await browserGet(`${API}/health`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }), 403, 'permission_denied', 'sec-fetch-site');
  assertError(await browserGet(`${API}/health`, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }), 403, 'permission_denied', 'sec-fetch-site');
  // The Connect GET of a method without side effects is one an <img> can make too.
  const connectGet = '/rs3gw.observability.v1.ProfilingService/CaptureProfile?encoding=json&message=%7B%22duration%22%3A%221s%22%7D';
  assertError(await browserGet(connectGet, image), 403, 'permission_denied', 'sec-fetch-site');
  // The listed dashboard's fetch, and the service's own pages, are served.
  assertOk(await browserGet(`${API}/health`, { origin: DASHBOARD, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }), 'listed');
  assertOk(await browserGet(`${API}/health`, { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }), 'same origin');
});

test("the Connect paths' POSTs need no check: a body a page can send without a preflight is 415 there already", async () => {
  await seed('connect_victim');
  for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await fetch(`${server.url}/rs3gw.observability.v1.AnomalyService/ResetMetric`, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': type },
      body: JSON.stringify({ metric: 'connect_victim', delete: true }),
    });
    assert.is(r.status, 415, type);
  }
  assert.ok(await stillThere('connect_victim'), 'the metric is still there');
});

test('RS3GW_ALLOWED_ORIGINS=* lets any page change state, and read the answer', async () => {
  const open = await startRestServer({ RS3GW_ALLOWED_ORIGINS: '*' });
  try {
    const openRest = new Rest(open.url);
    await openRest.postOk(`${API}/anomalies/samples`, { metric: 'anyone', value: 1 });
    for (const origin of [EVIL, 'null']) {
      const r = await openRest.post(`${API}/anomalies/reset`, JSON.stringify({ metric: 'anyone' }), { origin, 'content-type': 'text/plain' });
      assertOk(r, origin);
      assert.is(r.headers.get('access-control-allow-origin'), origin);
    }
  } finally {
    await open.stop();
  }
});

test.run();
