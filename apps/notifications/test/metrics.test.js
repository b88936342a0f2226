import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloudEvent, startApp } from './helpers.js';

const placed = { order_id: 'o-1', customer_id: 'c-1', items: [{ sku: 'tea-sencha', quantity: 2 }] };

/** One series of the app's /metrics, written as the text format writes it; 0 if absent. */
async function sample(app, series, headers = {}) {
  const text = await (await fetch(`${app.url}/metrics`, { headers })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test('a failed delivery and its redelivery are counted and timed', async (t) => {
  const app = await startApp(t);
  const event = cloudEvent('order.placed', placed);

  app.store.down = true;
  assert.equal(await app.deliver(event), 'RETRY');
  app.store.down = false;
  assert.equal(await app.deliver(event), 'SUCCESS');

  assert.equal(await sample(app, 'eda_events_handled_total{type="order.placed",outcome="retry"}'), 1);
  assert.equal(await sample(app, 'eda_events_handled_total{type="order.placed",outcome="success"}'), 1);
  assert.equal(await sample(app, 'eda_events_failed_total{type="order.placed"}'), 1);
  assert.equal(await sample(app, 'eda_events_retried_total{type="order.placed"}'), 1);
  assert.equal(await sample(app, 'eda_event_handler_seconds_count{type="order.placed"}'), 2);
});

test('poison is counted as dead-lettered under its type, or as unknown', async (t) => {
  const app = await startApp(t);

  await app.deliver(cloudEvent('order.placed', { order_id: 42 }));
  await app.deliver('{"id": ');
  await app.deliver(cloudEvent('made.up.by-anyone', placed));

  assert.equal(await sample(app, 'eda_events_dead_lettered_total{type="order.placed"}'), 1);
  assert.equal(await sample(app, 'eda_events_dead_lettered_total{type="unknown"}'), 2);
  assert.equal(await sample(app, 'eda_events_retried_total{type="order.placed"}'), 0);
});

test('metrics need the app API token', async (t) => {
  const app = await startApp(t, { appApiToken: 's3cret' });

  assert.equal((await fetch(`${app.url}/metrics`)).status, 401);
  const answer = await fetch(`${app.url}/metrics`, { headers: { 'dapr-api-token': 's3cret' } });
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type'), /^text\/plain/);
  assert.match(await answer.text(), /process_resident_memory_bytes/);
});
