// The notifications service: checks each event against the contract, adds it to its
// customer's feed with an ETag-guarded read-modify-write, and tells Dapr the outcome.
import { addToFeed, emptyFeed, notificationFor } from './feed.js';
import { ConcurrencyError } from './store.js';

// Dapr reads the app's answer from the body's status: SUCCESS acknowledges, RETRY
// redelivers under the resiliency policy, DROP dead-letters at once.
export const SUCCESS = 'SUCCESS';
export const RETRY = 'RETRY';
export const DROP = 'DROP';

// Attempts at a read-modify-write before the event goes back to Dapr for a retry.
export const MAX_ATTEMPTS = 5;

export class NotificationsService {
  constructor({ store, contract }) {
    this.store = store;
    this.contract = contract;
  }

  /** Add a CloudEvent to its customer's feed; the outcome to tell Dapr. */
  async receive(event, eventLog) {
    const problem = this.contract.problemWith(event.type, event.data);
    if (problem) {
      eventLog.warn('dropping an event outside the contract to the dead letters', { reason: problem });
      return DROP;
    }
    const log = eventLog.with({ order_id: event.data.order_id });
    const entry = notificationFor(event);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const stored = await this.store.read(event.data.customer_id);
        const feed = addToFeed(stored?.feed ?? emptyFeed(event.data.customer_id), entry);
        if (feed === null) {
          log.info('ignoring a redelivered event');
          return SUCCESS;
        }
        try {
          await this.store.write(feed, stored?.etag ?? null);
        } catch (error) {
          if (error instanceof ConcurrencyError) {
            log.info('the feed changed since it was read; reading it again');
            continue;
          }
          throw error;
        }
        log.info('notification added');
        return SUCCESS;
      }
      log.warn('the feed kept changing under us; Dapr will retry');
    } catch (error) {
      log.error('could not update the feed; Dapr will retry', { reason: error.message });
    }
    return RETRY;
  }

  async feed(customerId) {
    const stored = await this.store.read(customerId);
    return stored?.feed ?? emptyFeed(customerId);
  }
}
