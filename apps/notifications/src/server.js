// The HTTP surface of notifications: the event endpoint the Subscription YAML names
// (components/subscriptions.yaml), the customer's feed, and the health check.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { ERROR, EventMetrics } from './metrics.js';
import { DROP, RETRY } from './service.js';
import { activeTraceId, inSpanOf } from './tracing.js';

export const EVENTS_PATH = '/events';
const FEED_PATH = /^\/customers\/([^/]+)\/notifications$/;
// Every request body is bounded; the sidecar takes at most 1 MiB (dapr.yaml:
// maxBodySize), so every event it delivers fits, CloudEvent envelope and all.
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

class BodyTooLarge extends Error {}

// `appApiToken`, when set, is required (in the dapr-api-token header the sidecar sends)
// from every caller but the health check: only the sidecar may call the app.
export function createApp({ service, log, appApiToken = null }) {
  const metrics = new EventMetrics(service.contract.eventTypes);
  // Every route, described; test/openapi.test.js checks that it and the routes agree.
  const openApi = readFileSync(new URL('./openapi.json', import.meta.url));
  return createServer(async (request, response) => {
    try {
      const { pathname } = new URL(request.url, 'http://app');
      const feedMatch = FEED_PATH.exec(pathname);
      if (pathname !== '/healthz' && !fromTheSidecar(request, appApiToken)) {
        send(response, 401, { detail: 'only the sidecar may call this app' });
      } else if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        throw new BodyTooLarge();
      } else if (request.method === 'GET' && pathname === '/openapi.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(openApi);
      } else if (request.method === 'POST' && pathname === EVENTS_PATH) {
        const deliverInSpan = (span) => deliver(request, span, service, log, metrics);
        send(response, 200, { status: await inSpanOf(`POST ${EVENTS_PATH}`, request.headers, deliverInSpan) });
      } else if (request.method === 'GET' && pathname === '/metrics') {
        const { contentType, body } = await metrics.exposition();
        response.writeHead(200, { 'content-type': contentType });
        response.end(body);
      } else if (request.method === 'GET' && feedMatch) {
        const customerId = decodePathSegment(feedMatch[1]);
        if (customerId === null) {
          send(response, 400, { detail: 'customer_id: not valid percent-encoding' });
        } else {
          send(response, 200, await service.feed(customerId));
        }
      } else if (request.method === 'GET' && pathname === '/healthz') {
        send(response, 200, { status: 'ok' });
      } else {
        send(response, 404, { detail: `no route ${request.method} ${pathname}` });
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(response, 413, { detail: 'the request body is over 2 MiB' });
        return;
      }
      log.error('request failed', { reason: error.message });
      send(response, 503, { detail: 'the state store is unavailable; try again' });
    }
  });
}

function fromTheSidecar(request, token) {
  if (token === null) return true;
  const given = Buffer.from(request.headers['dapr-api-token'] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

// A thin subscription endpoint: parse the CloudEvent, hand it to the service with a
// logger that names it (and the trace of its span), count the answer. A body that is
// no CloudEvent is poison: dead-letter it.
async function deliver(request, span, service, baseLog, metrics) {
  const started = performance.now();
  const log = baseLog.with({ trace_id: activeTraceId() });
  const answer = (outcome, event = {}) => {
    metrics.count(event.type, event.id, outcome, started);
    return outcome;
  };
  let body;
  try {
    body = await readBody(request);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw error;
    return answer(RETRY); // the connection broke: Dapr delivers again
  }
  let event;
  try {
    event = JSON.parse(body);
  } catch {
    log.warn('dropping an unparseable event to the dead letters');
    return answer(DROP);
  }
  if (!isCloudEvent(event)) {
    log.warn('dropping a body that is no CloudEvent to the dead letters');
    return answer(DROP, event ?? {});
  }
  span.updateName(`handle ${event.type}`);
  span.setAttributes({ 'cloudevents.event_id': event.id, 'cloudevents.event_type': event.type });
  // Zipkin finds an order's trace by it.
  if (typeof event.data?.order_id === 'string') span.setAttribute('order_id', event.data.order_id);
  const eventLog = log.with({ event_id: event.id, event_type: event.type });
  try {
    return answer(await service.receive(event, eventLog), event);
  } catch (error) {
    answer(ERROR, event);
    throw error;
  }
}

function decodePathSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function isCloudEvent(event) {
  const present = (name) => typeof event?.[name] === 'string' && event[name] !== '';
  return ['id', 'source', 'type', 'specversion'].every(present);
}

async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
