// The store the unit tests use: feeds in a Map with versions as ETags, first-write-wins
// like the real one, and hooks to make the next writes conflict or the store fail.
import { ConcurrencyError } from '../src/store.js';

export class MemoryFeedStore {
  feeds = new Map();
  conflicts = 0; // how many of the next writes lose a race
  down = false; // whether the store answers at all

  async read(customerId) {
    if (this.down) throw new Error('connection refused');
    const stored = this.feeds.get(customerId);
    return stored ? { feed: structuredClone(stored.feed), etag: String(stored.version) } : null;
  }

  async write(feed, etag) {
    if (this.down) throw new Error('connection refused');
    const stored = this.feeds.get(feed.customer_id);
    if (this.conflicts > 0 || (stored ? String(stored.version) !== etag : etag !== null)) {
      this.conflicts = Math.max(0, this.conflicts - 1);
      throw new ConcurrencyError(feed.customer_id);
    }
    this.feeds.set(feed.customer_id, { feed: structuredClone(feed), version: (stored?.version ?? 0) + 1 });
  }
}
