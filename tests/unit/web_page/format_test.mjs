// How the management page writes durations, times, values and bytes fields
// (lattice-web/page/src/format.js), under node's test runner: no browser needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ago, base64ToText, duration, hlcText, modesText, shortId, textToBase64, valueText,
} from '../../../lattice-web/page/src/format.js';

test('a duration shows its two largest units', () => {
  assert.equal(duration(0), '0s');
  assert.equal(duration(59_999), '59s');
  assert.equal(duration(61_000), '1m 1s');
  assert.equal(duration(3_600_000 + 120_000 + 5_000), '1h 2m');
  assert.equal(duration(2 * 86_400_000 + 3_600_000), '2d 1h');
  assert.equal(duration('93000000'), '1d 1h', 'uint64 arrives as a string');
});

test('a time in the past reads as an age; zero is never', () => {
  const now = 1_800_000_000_000;
  assert.equal(ago('0', now), 'never');
  assert.equal(ago(String(now - 500), now), 'just now');
  assert.equal(ago(String(now - 90_000), now), '1m 30s ago');
});

test('a value shows its text, a byte count for binary, or that it was deleted', () => {
  assert.equal(valueText({ value: 'hello' }), 'hello');
  assert.equal(valueText({ value: '' }), '');
  assert.equal(valueText({ value_base64: '/wAB' }), '(3 bytes of binary)');
  assert.equal(valueText({ value_base64: '/w==' }), '(1 bytes of binary)');
  assert.equal(valueText({ deleted: true, value: 'x' }), '(deleted)');
});

test('bytes fields go to base64 and back as UTF-8', () => {
  for (const text of ['', '/users/', 'clé/ü/日本']) {
    assert.equal(base64ToText(textToBase64(text)), text);
  }
  assert.equal(textToBase64('/a'), 'L2E=');
  assert.equal(base64ToText('%%%'), '(not base64)');
});

test('ids and clocks are shortened for tables', () => {
  assert.equal(shortId('0123456789abcdef', 8), '01234567…');
  assert.equal(shortId('0123', 8), '0123');
  assert.equal(shortId(undefined), '');
  assert.equal(hlcText({ wall_ms: '0', counter: 2 }), '0 #2');
  assert.equal(hlcText({ wall_ms: '1000', counter: 0 }), '1970-01-01T00:00:01.000Z #0');
});

test('a chat entry of mode changes reads as IRC writes them', () => {
  assert.equal(modesText([{ mode: 't', on: true }, { mode: 'k', on: true, arg: 'sesame' }]),
    '+tk sesame');
  assert.equal(modesText([{ mode: 'i', on: true }, { mode: 'm', on: false },
    { mode: 'l', on: false }]), '+i-ml');
  assert.equal(modesText([{ mode: 'l', on: true, arg: '3' }]), '+l 3');
  assert.equal(modesText([]), '');
  assert.equal(modesText(undefined), '');
});
