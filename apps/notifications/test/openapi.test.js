import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { MAX_BODY_BYTES } from '../src/server.js';
import { feedKey } from '../src/store.js';
import { cloudEvent, startApp } from './helpers.js';

const spec = JSON.parse(readFileSync(new URL('../src/openapi.json', import.meta.url)));
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
// A path of the document with a value for each of its parameters.
const concrete = (path) => path.replace(/\{[^}]+\}/g, 'c-1');

test('the OpenAPI document lists exactly the routes, and the app serves it', async (t) => {
  const app = await startApp(t);
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const body = method === 'GET' ? undefined : JSON.stringify(cloudEvent('order.placed', {}));
      const response = await fetch(app.url + concrete(path), { method, body });
      await response.arrayBuffer();
      const listed = method.toLowerCase() in operations;
      assert.equal(response.status !== 404, listed, `${method} ${path} answered ${response.status}`);
    }
  }
  for (const path of ['/', '/customers', '/customers/c-1', '/events/order-placed', '/openapi.yaml']) {
    assert.equal((await app.get(path)).status, 404, path);
  }
  assert.deepEqual(await (await app.get('/openapi.json')).json(), spec);
});

// A body sent in chunks, without a Content-Length; the status the app answered.
function streamed(url, chunks) {
  return new Promise((resolve, reject) => {
    const sending = request(url, { method: 'POST' }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    sending.on('error', reject);
    for (const chunk of chunks) sending.write(chunk);
    sending.end();
  });
}

test('a body over the limit gets 413, with or without a length, and changes nothing', async (t) => {
  const app = await startApp(t);
  const huge = 'x'.repeat(MAX_BODY_BYTES + 1);

  assert.equal((await fetch(`${app.url}/events`, { method: 'POST', body: huge })).status, 413);
  const chunk = 'x'.repeat(64 * 1024);
  const chunks = Array.from({ length: MAX_BODY_BYTES / chunk.length + 1 }, () => chunk);
  assert.equal(await streamed(`${app.url}/events`, chunks), 413);
  assert.equal(app.store.feeds.size, 0);
});

test('stored feed keys hold no Dapr separator and stay one to one', () => {
  const ids = ['a||b', 'a%7C%7Cb', 'a|b', 'a%7Cb', '100%', 'plain'];
  const keys = ids.map(feedKey);
  assert.equal(new Set(keys).size, ids.length);
  for (const key of keys) assert.ok(!key.includes('||'), key);
});
