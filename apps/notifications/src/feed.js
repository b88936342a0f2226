// Pure decisions of the notifications service: an event in, a feed entry out.

// A feed keeps the newest entries only. The entries' event ids are also what makes a
// redelivery recognisable; redeliveries come within minutes, long before this many
// newer events for the same customer.
export const FEED_LIMIT = 200;

const money = (cents) => (cents / 100).toFixed(2);
const lines = (items) => `${items.length} ${items.length === 1 ? 'line' : 'lines'}`;

const CANCEL_REASONS = {
  out_of_stock: 'an item is out of stock',
  unknown_sku: 'an item is not in the catalogue',
  payment_declined: 'the payment was declined',
};

// A short message a customer can read, per event type of the contract.
export const MESSAGES = {
  'order.placed': (d) => `Order placed: ${lines(d.items)}.`,
  'order.confirmed': (d) => `Order confirmed: ${money(d.amount_cents)} charged.`,
  'order.cancelled': (d) => `Order cancelled: ${CANCEL_REASONS[d.reason]}.`,
  'stock.reserved': (d) => `Your items are put aside: ${lines(d.items)}.`,
  'stock.rejected': (d) => `We could not put aside ${d.skus.join(', ')}.`,
  'stock.released': () => 'The items put aside for your order are back on the shelf.',
  'payment.succeeded': (d) => `Payment of ${money(d.amount_cents)} received.`,
  'payment.failed': (d) => `Payment declined${d.detail ? `: ${d.detail}` : ''}.`,
  'shipment.scheduled': (d) => `Shipment ${d.shipment_id} scheduled.`,
};

/** The feed entry for a valid contract event. */
export function notificationFor(event) {
  return {
    event_id: event.id,
    type: event.type,
    order_id: event.data.order_id,
    message: MESSAGES[event.type](event.data),
    time: event.time ?? new Date().toISOString(),
  };
}

/** The feed with `entry` added last, or null when the feed already has its event. */
export function addToFeed(feed, entry) {
  if (feed.notifications.some((n) => n.event_id === entry.event_id)) return null;
  return { ...feed, notifications: [...feed.notifications, entry].slice(-FEED_LIMIT) };
}

export function emptyFeed(customerId) {
  return { customer_id: customerId, notifications: [] };
}
