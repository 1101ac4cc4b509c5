// A store view's page of keys kept current by live changes
// (lattice-web/page/src/key_page.js), under node's test runner: no browser needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChange } from '../../../lattice-web/page/src/key_page.js';

const page = (keys, { next_cursor = null, first_page = true } = {}) => ({
  entries: keys.map((key) => ({ key, value: `v-${key}`, conflicted: false })),
  next_cursor,
  first_page,
});
const keysOf = (p) => p.entries.map((e) => e.key);

test('a change to a shown key updates it in place, keeping its conflict mark', () => {
  const before = page(['a', 'b', 'c']);
  before.entries[1].conflicted = true;
  const after = applyChange(before, { key: 'b', value: 'new' });
  assert.deepEqual(keysOf(after), ['a', 'b', 'c']);
  assert.equal(after.entries[1].value, 'new');
  assert.equal(after.entries[1].conflicted, true);
  assert.equal(after.entries[1].fresh, true);
  assert.equal(before.entries[1].value, 'v-b', 'the old page is not changed');
});

test('a deleted key leaves the page; deleting an unshown key changes nothing', () => {
  assert.deepEqual(keysOf(applyChange(page(['a', 'b']), { key: 'a', deleted: true })), ['b']);
  assert.deepEqual(keysOf(applyChange(page(['a', 'b']), { key: 'z', deleted: true })), ['a', 'b']);
});

test('a new key joins the only page in key order', () => {
  assert.deepEqual(keysOf(applyChange(page(['a', 'c']), { key: 'b', value: '1' })), ['a', 'b', 'c']);
  assert.deepEqual(keysOf(applyChange(page([]), { key: 'x', value: '1' })), ['x']);
});

test('a new key beyond a page with more after it waits for the next page', () => {
  const first = page(['a', 'c'], { next_cursor: 'c' });
  assert.deepEqual(keysOf(applyChange(first, { key: 'd', value: '1' })), ['a', 'c']);
  assert.deepEqual(keysOf(applyChange(first, { key: 'b', value: '1' })), ['a', 'b', 'c']);
});

test('a new key before a later page belongs to an earlier one', () => {
  const second = page(['m', 'p'], { first_page: false });
  assert.deepEqual(keysOf(applyChange(second, { key: 'b', value: '1' })), ['m', 'p']);
  assert.deepEqual(keysOf(applyChange(second, { key: 'n', value: '1' })), ['m', 'n', 'p']);
  assert.deepEqual(keysOf(applyChange(second, { key: 'z', value: '1' })), ['m', 'p', 'z']);
});

test('changes before the page has loaded, or without a text key, are ignored', () => {
  assert.equal(applyChange(null, { key: 'a' }), null);
  const p = page(['a']);
  assert.equal(applyChange(p, { key_base64: 'AA==' }), p);
});
