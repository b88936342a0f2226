// The smallest notifications app a test needs: the real server and service on an
// in-memory store, listening on a free loopback port.
import { loadContract } from '../src/contract.js';
import { createLogger } from '../src/logs.js';
import { EVENTS_PATH, createApp } from '../src/server.js';
import { NotificationsService } from '../src/service.js';
import { MemoryFeedStore } from './memory-store.js';

const contract = loadContract();
const quiet = createLogger('notifications', {}, () => {});

export async function startApp(t, { appApiToken = null } = {}) {
  const store = new MemoryFeedStore();
  const server = createApp({ service: new NotificationsService({ store, contract }), log: quiet, appApiToken });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    store,
    url,
    /** POST a body as the sidecar would; the delivery status the app answered. */
    async deliver(body) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const response = await fetch(url + EVENTS_PATH, { method: 'POST', body: text });
      return (await response.json()).status;
    },
    async feed(customerId) {
      const response = await fetch(`${url}/customers/${encodeURIComponent(customerId)}/notifications`);
      return { status: response.status, body: await response.json() };
    },
    get: (path) => fetch(url + path),
  };
}

let sequence = 0;

/** A CloudEvent as Dapr delivers it. */
export function cloudEvent(type, data, overrides = {}) {
  sequence += 1;
  return {
    id: `e-${sequence}`,
    source: 'test',
    type,
    specversion: '1.0',
    datacontenttype: 'application/json',
    time: `2026-11-26T12:00:${String(sequence % 60).padStart(2, '0')}Z`,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    data,
    ...overrides,
  };
}
