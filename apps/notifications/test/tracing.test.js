// A delivery's span continues the sidecar's trace; the calls it makes to the sidecar and
// its log lines carry that trace on. (Spans reaching Zipkin, in one trace with the other
// five apps: tests/integration/test_tracing.py.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { loadContract } from '../src/contract.js';
import { createLogger } from '../src/logs.js';
import { EVENTS_PATH, createApp } from '../src/server.js';
import { NotificationsService } from '../src/service.js';
import { DaprFeedStore } from '../src/store.js';
import { startTracing } from '../src/tracing.js';
import { cloudEvent } from './helpers.js';

const SIDECAR_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SIDECAR_SPAN = '00f067aa0ba902b7';
const spans = new InMemorySpanExporter();
startTracing('notifications', { processors: [new SimpleSpanProcessor(spans)] });

async function listen(t, server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return server.address().port;
}

// A sidecar whose state store has no feeds: it answers reads and writes and keeps the
// traceparent header of every call.
async function fakeSidecar(t) {
  const traceparents = [];
  const server = createServer((request, response) => {
    traceparents.push(request.headers.traceparent);
    request.resume().on('end', () => {
      if (request.url.endsWith('/bulk')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('[{"key": "feed/c-1"}]');
      } else {
        response.writeHead(204).end();
      }
    });
  });
  return { port: await listen(t, server), traceparents };
}

test('a delivery continues the sidecar trace into its calls to the sidecar and its logs', async (t) => {
  const sidecar = await fakeSidecar(t);
  const lines = [];
  const log = createLogger('notifications', {}, (line) => lines.push(JSON.parse(line)));
  const store = new DaprFeedStore({ daprHttpPort: sidecar.port, daprApiToken: null });
  const app = createApp({ service: new NotificationsService({ store, contract: loadContract() }), log });
  const port = await listen(t, app);
  const placed = { order_id: 'o-1', customer_id: 'c-1', items: [{ sku: 'tea', quantity: 1 }] };
  const event = cloudEvent('order.placed', placed);

  const response = await fetch(`http://127.0.0.1:${port}${EVENTS_PATH}`, {
    method: 'POST',
    body: JSON.stringify(event),
    headers: { traceparent: `00-${SIDECAR_TRACE}-${SIDECAR_SPAN}-01` },
  });
  assert.deepEqual(await response.json(), { status: 'SUCCESS' });

  const [span, ...others] = spans.getFinishedSpans();
  assert.equal(others.length, 0);
  assert.equal(span.name, 'handle order.placed');
  assert.equal(span.spanContext().traceId, SIDECAR_TRACE);
  assert.equal(span.parentSpanContext.spanId, SIDECAR_SPAN);
  const handlerContext = `00-${SIDECAR_TRACE}-${span.spanContext().spanId}-01`;
  assert.deepEqual(sidecar.traceparents, [handlerContext, handlerContext]); // the read, the write
  assert.ok(lines.length > 0);
  const ofTheEvent = (line) => line.trace_id === SIDECAR_TRACE && line.event_id === event.id;
  assert.ok(lines.every(ofTheEvent), JSON.stringify(lines));
});
