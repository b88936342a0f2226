// The feeds repository over the Dapr state API of the app's own sidecar (plain HTTP).
// Every write is first-write-wins: it carries the ETag it read, or creates a key that
// must not exist yet, and fails with ConcurrencyError when someone wrote in between.

import { request } from 'node:http';
import { text } from 'node:stream/consumers';
import { traceHeaders } from './tracing.js';

export const STORE = 'notifications-store';
const SIDECAR_TIMEOUT_MS = 5000;

export class ConcurrencyError extends Error {}

// Dapr refuses a key that holds "||" (its separator between app-id and key), and a
// customer id is any string: "|" is stored percent-encoded, and so "%" too, which keeps
// the stored keys one-to-one with the customer ids (as apps/common/state.py does).
export const feedKey = (customerId) => `feed/${customerId.replaceAll('%', '%25').replaceAll('|', '%7C')}`;
const FIRST_WRITE = { concurrency: 'first-write', consistency: 'strong' };

export class DaprFeedStore {
  constructor({ daprHttpPort, daprApiToken }) {
    this.url = `http://127.0.0.1:${daprHttpPort}/v1.0/state/${STORE}`;
    this.headers = { 'content-type': 'application/json' };
    if (daprApiToken) this.headers['dapr-api-token'] = daprApiToken;
  }

  /** The customer's feed and its ETag, or null when the customer has none. */
  async read(customerId) {
    // The bulk read takes keys in the body: a key with a "/" cannot be put in the URL.
    const [found] = JSON.parse(await this.#post('/bulk', { keys: [feedKey(customerId)] }));
    if (found.error) throw new Error(`reading a feed: ${found.error}`);
    return found.data ? { feed: found.data, etag: found.etag } : null;
  }

  /** Store `feed`: over the version with `etag`, or as a new key when etag is null. */
  async write(feed, etag) {
    const item = { key: feedKey(feed.customer_id), value: feed, options: FIRST_WRITE };
    if (etag !== null) item.etag = etag;
    try {
      await this.#post('', [item]);
    } catch (error) {
      // An ETag mismatch is a 409; a key that exists when creating is an unspecific
      // error on Redis, so look before judging.
      if (error.status === 409 || (etag === null && (await this.read(feed.customer_id)))) {
        throw new ConcurrencyError(feed.customer_id);
      }
      throw error;
    }
  }

  // node:http, not fetch: with fetch, two calls an event were most of the app's CPU (a
  // profile under the bench's load); node:http's call costs a fifth of fetch's. Its
  // global agent keeps the connections to the sidecar open.
  async #post(path, body) {
    const response = await new Promise((resolve, reject) => {
      // With the trace context, the sidecar's spans join the delivery's trace.
      const headers = { ...this.headers, ...traceHeaders() };
      const signal = AbortSignal.timeout(SIDECAR_TIMEOUT_MS);
      request(this.url + path, { method: 'POST', headers, signal }, resolve)
        .on('error', reject)
        .end(JSON.stringify(body));
    });
    const answer = await text(response);
    if (response.statusCode >= 300) {
      const error = new Error(`sidecar answered ${response.statusCode} to ${path || 'save'}: ${answer}`);
      error.status = response.statusCode;
      throw error;
    }
    return answer;
  }
}
