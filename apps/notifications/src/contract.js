// The event contract, read from apps/contracts where it lives (one contract, never
// copied): every CloudEvent type eda-shop publishes and a validator for its data.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';

export const SCHEMA_URL = new URL('../../contracts/schemas/events.schema.json', import.meta.url);

export function loadContract(url = SCHEMA_URL) {
  const schema = JSON.parse(readFileSync(url, 'utf8'));
  const ajv = new Ajv2020();
  ajv.addSchema(schema);
  // Every other $defs entry (Id, OrderLine) is a building block, not an event.
  const eventTypes = Object.keys(schema.$defs).filter((name) => name.includes('.'));
  const validators = new Map(
    eventTypes.map((type) => [type, ajv.getSchema(`${schema.$id}#/$defs/${type}`)]),
  );
  return {
    eventTypes,
    /** Why `data` is not valid `type` data, or null when it is. */
    problemWith(type, data) {
      const validate = validators.get(type);
      if (!validate) return `no event type ${JSON.stringify(type)} in the contract`;
      return validate(data) ? null : ajv.errorsText(validate.errors, { dataVar: 'data' });
    },
  };
}
