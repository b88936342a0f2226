// What the app did with the events delivered to it, under the names every eda-shop app
// serves on GET /metrics (apps/common/metrics.py says what each means).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// The failed event ids remembered to tell a redelivery; the oldest are forgotten first.
const REMEMBERED_FAILURES = 10_000;
// A label must not take whatever value a sender makes up.
export const UNKNOWN_TYPE = 'unknown';
// The answer counted when the handler threw (the app answers 503; Dapr delivers again).
export const ERROR = 'ERROR';
const FAILED = new Set(['RETRY', ERROR]);

export class EventMetrics {
  /** `eventTypes`: the types the contract names, the only ones a label may take. */
  constructor(eventTypes) {
    this.eventTypes = new Set(eventTypes);
    // A registry per app, so that each app a test builds counts for itself.
    this.registry = new Registry();
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.handled = new Counter({
      name: 'eda_events_handled_total', help: 'Event deliveries answered, by event type and answer',
      labelNames: ['type', 'outcome'], registers,
    });
    this.failed = new Counter({
      name: 'eda_events_failed_total', help: 'Deliveries not applied this time (retry or error): Dapr delivers them again',
      labelNames: ['type'], registers,
    });
    this.retried = new Counter({
      name: 'eda_events_retried_total', help: 'Redeliveries: deliveries of an event this app had failed before',
      labelNames: ['type'], registers,
    });
    this.deadLettered = new Counter({
      name: 'eda_events_dead_lettered_total', help: 'Deliveries answered drop: Dapr moves them to the dead-letter topic',
      labelNames: ['type'], registers,
    });
    this.seconds = new Histogram({
      name: 'eda_event_handler_seconds', help: "Time from a delivery's arrival to the app's answer",
      labelNames: ['type'], registers,
    });
    this.failures = new Set(); // insertion-ordered: the oldest first
  }

  /** Count one delivery: its CloudEvent type and id (undefined when the body had none),
   * the answer given (SUCCESS, RETRY, DROP, or ERROR) and when it arrived (performance.now()). */
  count(eventType, eventId, outcome, started) {
    const type = this.eventTypes.has(eventType) ? eventType : UNKNOWN_TYPE;
    this.seconds.observe({ type }, (performance.now() - started) / 1000);
    this.handled.inc({ type, outcome: outcome.toLowerCase() });
    if (typeof eventId === 'string' && this.failures.delete(eventId)) this.retried.inc({ type });
    if (FAILED.has(outcome)) {
      this.failed.inc({ type });
      if (typeof eventId === 'string') this.remember(eventId);
    } else if (outcome === 'DROP') {
      this.deadLettered.inc({ type });
    }
  }

  remember(eventId) {
    this.failures.add(eventId);
    if (this.failures.size > REMEMBERED_FAILURES) {
      this.failures.delete(this.failures.values().next().value);
    }
  }

  /** The text format's content type and body. */
  async exposition() {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
