// Structured logs: one JSON object a line, in the shape every eda-shop app uses (time,
// level, app, message, and the event's ids while one is being handled).
export function createLogger(app, fields = {}, write = (line) => process.stdout.write(line)) {
  const emit = (level) => (message, extra = {}) => {
    const line = { time: new Date().toISOString(), level, app, message, ...fields, ...extra };
    write(`${JSON.stringify(line)}\n`);
  };
  return {
    info: emit('info'),
    warn: emit('warning'),
    error: emit('error'),
    /** A logger whose every line also carries `more`. */
    with: (more) => createLogger(app, { ...fields, ...more }, write),
  };
}
