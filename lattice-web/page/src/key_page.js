// The page of keys a store's view shows, kept current by live changes without refetching.
// No dependencies: tests/unit/web_page/ runs it under node.

// Applies one live change to `page` ({entries sorted by key, next_cursor, first_page}):
// updates or removes a shown key, and adds a new one when it falls inside the range the page
// covers (after its first key unless it is the first page, before its last unless it is the
// last page). Returns a new page; `page` is not changed.
export function applyChange(page, change) {
  if (!page || typeof change.key !== 'string') return page;
  const entries = page.entries.filter((e) => e.key !== change.key);
  if (!change.deleted) {
    const last = page.entries.length ? page.entries[page.entries.length - 1].key : null;
    const known = entries.length !== page.entries.length;
    const first = page.entries.length ? page.entries[0].key : null;
    const belowEnd = !page.next_cursor || (last !== null && change.key < last);
    const aboveStart = page.first_page !== false || (first !== null && change.key > first);
    const inRange = belowEnd && aboveStart;
    if (known || inRange) {
      const old = page.entries.find((e) => e.key === change.key);
      entries.push({ key: change.key, value: change.value, value_base64: change.value_base64,
        conflicted: old ? old.conflicted : false, fresh: true });
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
  }
  return { ...page, entries };
}
