// notifications keeps a feed per customer of every business event eda-shop publishes.
// Subscription YAML (components/subscriptions.yaml) brings it every topic; it talks to
// its Dapr sidecar over plain HTTP, with no framework.
import { loadContract } from './contract.js';
import { createLogger } from './logs.js';
import { createApp } from './server.js';
import { NotificationsService } from './service.js';
import { settingsFromEnv } from './settings.js';
import { DaprFeedStore } from './store.js';
import { startTracing } from './tracing.js';

const SHUTDOWN_GRACE_MS = 10_000;

const log = createLogger('notifications');
let settings;
try {
  settings = settingsFromEnv();
} catch (error) {
  log.error('bad settings', { reason: error.message });
  process.exit(2);
}
const tracing = startTracing('notifications', { zipkinEndpoint: settings.zipkinEndpoint });
const service = new NotificationsService({ store: new DaprFeedStore(settings), contract: loadContract() });
const server = createApp({ service, log, appApiToken: settings.appApiToken });

// Idle connections stay open longer than the sidecar keeps them (Go's 90 s), so that the
// sidecar, not the app, closes them: an app closing one just as the sidecar sends a
// delivery on it resets that delivery (dapr.yaml).
server.keepAliveTimeout = 120_000;
// Loopback only: the sidecar runs beside the app and is its only caller.
server.listen(settings.appPort, '127.0.0.1', () => {
  log.info('listening', { address: `127.0.0.1:${settings.appPort}` });
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    // Let open deliveries finish; any cut off past the grace period are redelivered.
    // Then send the spans still waiting for their batch.
    server.close(() => tracing.shutdown().finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
  });
}
