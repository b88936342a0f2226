import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FEED_LIMIT, addToFeed, emptyFeed, notificationFor } from '../src/feed.js';

const entry = (n) => ({ event_id: `e-${n}`, type: 'order.placed', order_id: 'o-1', message: '', time: '' });

test('a feed keeps its newest entries only', () => {
  let feed = emptyFeed('c-1');
  for (let n = 0; n < FEED_LIMIT + 5; n += 1) feed = addToFeed(feed, entry(n));
  assert.equal(feed.notifications.length, FEED_LIMIT);
  assert.equal(feed.notifications.at(0).event_id, 'e-5');
  assert.equal(feed.notifications.at(-1).event_id, `e-${FEED_LIMIT + 4}`);
});

test('an entry already in the feed is not added again', () => {
  const feed = addToFeed(emptyFeed('c-1'), entry(1));
  assert.equal(addToFeed(feed, entry(1)), null);
});

test('messages speak of money in units and of reasons in words', () => {
  const event = (type, data) => ({ id: 'e', type, time: 't', data: { order_id: 'o-1', customer_id: 'c-1', ...data } });
  assert.equal(notificationFor(event('payment.succeeded', { amount_cents: 2400 })).message, 'Payment of 24.00 received.');
  assert.equal(
    notificationFor(event('order.cancelled', { reason: 'out_of_stock' })).message,
    'Order cancelled: an item is out of stock.',
  );
  assert.equal(
    notificationFor(event('stock.rejected', { reason: 'unknown_sku', skus: ['caviar', 'truffle'] })).message,
    'We could not put aside caviar, truffle.',
  );
});
