import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ATTEMPTS } from '../src/service.js';
import { cloudEvent, startApp } from './helpers.js';

const placed = { order_id: 'o-1', customer_id: 'c-1', items: [{ sku: 'tea-sencha', quantity: 2 }] };
const shipped = { order_id: 'o-1', customer_id: 'c-1', shipment_id: 's-1', items: placed.items };

test('each event lands in its customer feed, newest last', async (t) => {
  const app = await startApp(t);
  const first = cloudEvent('order.placed', placed);
  const second = cloudEvent('shipment.scheduled', shipped);

  assert.equal(await app.deliver(first), 'SUCCESS');
  assert.equal(await app.deliver(second), 'SUCCESS');

  const { status, body } = await app.feed('c-1');
  assert.equal(status, 200);
  assert.equal(body.customer_id, 'c-1');
  assert.deepEqual(
    body.notifications.map(({ type, order_id, message, time }) => ({ type, order_id, message, time })),
    [
      { type: 'order.placed', order_id: 'o-1', message: 'Order placed: 1 line.', time: first.time },
      { type: 'shipment.scheduled', order_id: 'o-1', message: 'Shipment s-1 scheduled.', time: second.time },
    ],
  );
});

test('a redelivered event is shown once', async (t) => {
  const app = await startApp(t);
  const event = cloudEvent('order.placed', placed);

  assert.equal(await app.deliver(event), 'SUCCESS');
  assert.equal(await app.deliver(event), 'SUCCESS');

  assert.equal((await app.feed('c-1')).body.notifications.length, 1);
});

test('a customer without events has an empty feed', async (t) => {
  const app = await startApp(t);
  assert.deepEqual(await app.feed('c-nobody'), {
    status: 200,
    body: { customer_id: 'c-nobody', notifications: [] },
  });
});

test('poison is dropped to the dead letters and changes nothing', async (t) => {
  const app = await startApp(t);
  const poison = {
    'not JSON': '{"id": ',
    'no CloudEvent': { order_id: 'o-1' },
    'data outside the contract': cloudEvent('order.placed', { order_id: 42, items: 'many' }),
    'a type no contract names': cloudEvent('coupon.redeemed', { order_id: 'o-1', customer_id: 'c-1' }),
    'no data': cloudEvent('order.placed', undefined),
  };
  for (const [name, body] of Object.entries(poison)) {
    assert.equal(await app.deliver(body), 'DROP', name);
  }
  assert.equal(app.store.feeds.size, 0);
});

test('a lost race is retried at once, and handed back to Dapr when it keeps losing', async (t) => {
  const app = await startApp(t);

  app.store.conflicts = MAX_ATTEMPTS - 1;
  assert.equal(await app.deliver(cloudEvent('order.placed', placed)), 'SUCCESS');

  app.store.conflicts = MAX_ATTEMPTS;
  assert.equal(await app.deliver(cloudEvent('order.placed', placed)), 'RETRY');
  assert.equal((await app.feed('c-1')).body.notifications.length, 1);
});

test('a store that is down means RETRY for events and 503 for reads', async (t) => {
  const app = await startApp(t);
  app.store.down = true;

  assert.equal(await app.deliver(cloudEvent('order.placed', placed)), 'RETRY');
  assert.equal((await app.feed('c-1')).status, 503);
});

test('healthz answers; unknown paths are 404 and a garbled customer id is 400', async (t) => {
  const app = await startApp(t);
  assert.equal((await app.get('/healthz')).status, 200);
  assert.equal((await app.get('/nowhere')).status, 404);
  assert.equal((await app.get('/customers/%E0%A4%A/notifications')).status, 400);
});

test('with an app API token, only the sidecar gets past the health check', async (t) => {
  const app = await startApp(t, { appApiToken: 's3cret' });
  const get = (path, headers = {}) => fetch(app.url + path, { headers }).then((r) => r.status);

  assert.equal(await get('/healthz'), 200);
  assert.equal(await get('/customers/c-1/notifications'), 401);
  assert.equal(await get('/customers/c-1/notifications', { 'dapr-api-token': 'wrong!' }), 401);
  assert.equal(await get('/customers/c-1/notifications', { 'dapr-api-token': 's3cret' }), 200);
});
