// The storefront page: products with live stock, an order form, the saga of each order
// this browser placed as a live timeline (server-sent events), and the operator console:
// the dead letters and their replay, for whoever gives the operator token.
'use strict';

// What each fact does to an order's status on the page (the orders service's own rule).
const STATUS_AFTER = {
  'order.placed': 'pending',
  'stock.reserved': 'reserved',
  'payment.succeeded': 'paid',
  'shipment.scheduled': 'shipped',
  'order.cancelled': 'cancelled',
};
const PRODUCTS_RETRY_MS = 2000;
const STOCK_EVENTS = new Set(['stock.reserved', 'stock.released', 'shipment.scheduled']);
// order_id -> {element, seen: Set of fact types}. Each fact happens at most once an order
// (the contract), and its id in the order's history need not be the one on the stream.
const orders = new Map();
// This browser's orders: only their ids open their sagas to it (a reload keeps them).
const PLACED_KEY = 'eda-shop.placed-orders';
// The operator token lives in this tab alone, never in a URL.
const OPERATOR_KEY = 'eda-shop.operator-token';
let saga = null;
const WATCHED_LIMIT = 50; // the newest orders one stream follows (the storefront's limit)

const $ = (selector) => document.querySelector(selector);
// Dead letters carry whatever a producer sent: never put it into the page as markup.
const text = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function money(cents) {
  return (cents / 100).toFixed(2);
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { 'content-type': 'application/json', ...options.headers },
  });
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  return { ok: response.ok, status: response.status, body };
}

function problem(answer) {
  // FastAPI's 422 names the field at fault; say that, in words.
  const detail = answer.body?.detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${d.loc.filter((part) => part !== 'body').join('.')}: ${d.msg}`).join('; ');
  }
  return detail || `the shop answered ${answer.status}`;
}

async function loadProducts() {
  const answer = await api('/api/products');
  if (!answer.ok) {
    $('#products-error').textContent = `Could not load the products (${problem(answer)}); trying again shortly.`;
    setTimeout(loadProducts, PRODUCTS_RETRY_MS);
    return;
  }
  $('#products-error').textContent = '';
  const rows = answer.body.map((p) =>
    `<tr data-sku="${text(p.sku)}"><td>${text(p.sku)}</td><td>${money(p.price_cents)}</td>` +
    `<td class="available">${text(p.available)}</td><td class="reserved">${text(p.reserved)}</td></tr>`);
  $('#products tbody').innerHTML = rows.join('');
  const select = $('#order-form select[name=sku]');
  if (!select.options.length) {
    select.innerHTML = answer.body.map((p) => `<option value="${text(p.sku)}">${text(p.sku)}</option>`).join('');
  }
}

function addOrder(orderId) {
  const element = document.createElement('li');
  element.dataset.orderId = orderId;
  element.innerHTML =
    `<strong>Order ${text(orderId)}</strong> — <span class="status" data-status="pending">pending</span>` +
    ' <span class="reason"></span><ol class="timeline"></ol>';
  $('#orders').prepend(element);
  orders.set(orderId, { element, seen: new Set() });
}

function show(event) {
  const order = orders.get(event.order_id);
  if (!order || order.seen.has(event.type)) return;
  order.seen.add(event.type);
  const item = document.createElement('li');
  const time = event.time ? new Date(event.time).toLocaleTimeString() : '';
  item.textContent = `${event.type}${event.reason ? ` (${event.reason})` : ''} ${time}`;
  item.dataset.type = event.type;
  order.element.querySelector('.timeline').append(item);
  const next = STATUS_AFTER[event.type];
  const status = order.element.querySelector('.status');
  if (next && status.dataset.status !== 'cancelled' && status.dataset.status !== 'shipped') {
    status.dataset.status = next;
    status.textContent = next;
  }
  if (event.type === 'order.cancelled') order.element.querySelector('.reason').textContent = `because: ${event.reason}`;
}

async function catchUp(orderId) {
  // What happened while the stream was not there for this order: its history, from orders.
  const answer = await api(`/api/orders/${encodeURIComponent(orderId)}/events`);
  if (!answer.ok) return;
  for (const fact of answer.body) {
    show({ type: fact.type, time: fact.recorded_at, order_id: orderId, reason: fact.data.reason });
  }
}

function watchOrders() {
  // One stream for this browser's orders, opened again with each new order.
  saga?.close();
  const connection = $('#connection');
  const watched = [...orders.keys()].slice(-WATCHED_LIMIT);
  const query = watched.map((id) => `order=${encodeURIComponent(id)}`).join('&');
  saga = new EventSource(`/api/orders/live?${query}`); // reconnects by itself when the stream drops
  saga.onopen = () => {
    connection.dataset.state = 'live';
    connection.textContent = 'Live: events appear as they happen.';
    for (const orderId of watched) catchUp(orderId);
  };
  saga.onerror = () => {
    connection.dataset.state = 'reconnecting';
    connection.textContent = 'The live stream dropped; reconnecting…';
  };
  saga.addEventListener('saga', (message) => {
    const event = JSON.parse(message.data);
    show(event);
    if (STOCK_EVENTS.has(event.type)) loadProducts();
  });
}

async function placeOrder(submit) {
  submit.preventDefault();
  const form = new FormData(submit.target);
  const error = $('#order-error');
  error.textContent = '';
  const command = {
    customer_id: form.get('customer_id'),
    items: [{ sku: form.get('sku'), quantity: Number(form.get('quantity')) }],
  };
  const answer = await api('/api/orders', { method: 'POST', body: JSON.stringify(command) });
  if (answer.status !== 202) {
    error.textContent = `The order was not placed: ${problem(answer)}.`;
    return;
  }
  addOrder(answer.body.order_id);
  sessionStorage.setItem(PLACED_KEY, JSON.stringify([...orders.keys()]));
  watchOrders();
}

function asOperator() {
  return { authorization: `Bearer ${sessionStorage.getItem(OPERATOR_KEY) ?? ''}` };
}

async function openConsole(submit) {
  submit.preventDefault();
  sessionStorage.setItem(OPERATOR_KEY, new FormData(submit.target).get('token'));
  submit.target.reset();
  $('#dead-message').textContent = ''; // a new token: the last one's complaint is over
  await loadDeadLetters();
}

async function loadDeadLetters() {
  if (!sessionStorage.getItem(OPERATOR_KEY)) return;
  const answer = await api('/deadletters', { headers: asOperator() });
  $('#console').dataset.open = String(answer.ok);
  if (!answer.ok) {
    if (answer.status === 401 || answer.status === 403) sessionStorage.removeItem(OPERATOR_KEY);
    $('#dead-message').textContent = `Could not load the dead letters: ${problem(answer)}.`;
    return;
  }
  const rows = answer.body.map((d) => {
    const replayable = typeof d.message === 'object' && d.topic && d.type;
    const action = replayable
      ? `<button type="button" data-replay="${text(d.id)}">Replay ${text(d.type)}</button>` : 'not a CloudEvent';
    return `<tr data-id="${text(d.id)}"><td>${text(d.id)}</td><td>${text(d.topic ?? '—')}</td>` +
      `<td>${text(d.type ?? '—')}</td><td>${new Date(d.received_at).toLocaleTimeString()}</td>` +
      `<td class="replays">${text(d.replays)}</td><td>${action}</td></tr>`;
  });
  $('#dead-letters tbody').innerHTML = rows.join('');
}

async function replay(click) {
  const id = click.target.dataset.replay;
  if (!id) return;
  const answer = await api(`/deadletters/${encodeURIComponent(id)}/replay`, { method: 'POST', headers: asOperator() });
  $('#dead-message').textContent = answer.ok
    ? `Replayed ${id} to ${answer.body.topic}.`
    : `Replay of ${id} failed: ${problem(answer)}.`;
  await loadDeadLetters();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const orderId of JSON.parse(sessionStorage.getItem(PLACED_KEY) ?? '[]')) addOrder(orderId);
  watchOrders();
  loadProducts();
  loadDeadLetters();
  $('#order-form').addEventListener('submit', placeOrder);
  $('#operator-form').addEventListener('submit', openConsole);
  $('#refresh-dead').addEventListener('click', loadDeadLetters);
  $('#dead-letters').addEventListener('click', replay);
});
