// Settings come from the environment; `dapr run` and the test fixtures set the ports.
export function settingsFromEnv(env = process.env) {
  return {
    appPort: port(env, 'APP_PORT', 8005), // where the sidecar reaches this app
    daprHttpPort: port(env, 'DAPR_HTTP_PORT', 3500), // where this app reaches its sidecar
    daprApiToken: env.DAPR_API_TOKEN || null, // sent to the sidecar when set
    appApiToken: env.APP_API_TOKEN || null, // required from every caller but the health check, when set
    zipkinEndpoint: env.OTEL_EXPORTER_ZIPKIN_ENDPOINT || null, // where the app's own spans go, when set
  };
}

function port(env, name, fallback) {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 65535) {
    throw new Error(`${name}=${JSON.stringify(value)} is not a port number (1-65535)`);
  }
  return number;
}
