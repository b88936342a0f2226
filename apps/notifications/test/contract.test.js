// notifications against the one contract in apps/contracts: the schema, checked with
// ajv (draft 2020-12), and the shared test vectors every language uses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { MESSAGES } from '../src/feed.js';
import { SCHEMA_URL, loadContract } from '../src/contract.js';
import { cloudEvent, startApp } from './helpers.js';

const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8'));
const examples = JSON.parse(readFileSync(new URL('examples.json', SCHEMA_URL), 'utf8'));
const contract = loadContract();
// Every type but order.requested, the orders app's command to itself on a topic
// notifications does not hear (components/pubsub.yaml).
const facts = contract.eventTypes.filter((type) => type !== 'order.requested');

test('the contract is valid JSON Schema 2020-12', () => {
  const ajv = new Ajv2020();
  assert.equal(ajv.validateSchema(schema), true, ajv.errorsText());
});

test('notifications has a message for every fact of the contract, and no other', () => {
  assert.deepEqual(Object.keys(MESSAGES).sort(), [...facts].sort());
  assert.deepEqual(Object.keys(examples.valid).sort(), [...contract.eventTypes].sort());
});

for (const [type, cases] of Object.entries(examples.valid).filter(([type]) => facts.includes(type))) {
  test(`every valid ${type} example is accepted and shown`, async (t) => {
    const app = await startApp(t);
    for (const data of cases) {
      assert.equal(contract.problemWith(type, data), null);
      assert.equal(await app.deliver(cloudEvent(type, data)), 'SUCCESS');
    }
    const { notifications } = (await app.feed(cases[0].customer_id)).body;
    assert.equal(notifications.length, cases.length);
    for (const n of notifications) assert.match(n.message, /^[A-Z].*\.$/);
  });
}

for (const [type, cases] of Object.entries(examples.invalid)) {
  test(`every invalid ${type} example is dead-lettered`, async (t) => {
    const app = await startApp(t);
    for (const data of cases) {
      assert.notEqual(contract.problemWith(type, data), null, JSON.stringify(data));
      assert.equal(await app.deliver(cloudEvent(type, data)), 'DROP', JSON.stringify(data));
    }
    assert.equal(app.store.feeds.size, 0);
  });
}
