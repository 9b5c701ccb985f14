// Prefix reuse for a stateless API: a finished chat conversation keeps its engine session (its KV cache)
// with a checkpoint after every turn. A request whose turns start with a cached conversation's turns
// takes that session, rewinds it to the longest common prefix, and appends only what is new. The idle
// sessions' KV bytes are bounded (openai_api.prefix_cache_max_bytes), least recently used go first.
import type { Checkpoint, EngineSession } from '../engine/engine_session.ts';

interface Entry {
  keys: string[];
  /** checkpoints[i]: the session after turns 0..i. */
  checkpoints: Checkpoint[];
  session: EngineSession;
  bytes: number;
  lastUsedMs: number;
}

export interface PrefixCacheOptions {
  maxBytes: number;
  maxEntries: number;
  ttlMs: number;
  nowMs?: () => number;
}

export interface CachedPrefix {
  session: EngineSession;
  /** Turns already in the session (the request appends the rest). */
  reusedTurns: number;
  checkpoints: Checkpoint[];
}

export interface PrefixCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export class PrefixCache {
  private readonly entries = new Set<Entry>();
  private readonly nowMs: () => number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private readonly opts: PrefixCacheOptions) {
    this.nowMs = opts.nowMs ?? (() => Date.now());
  }

  get enabled(): boolean {
    return this.opts.maxBytes > 0;
  }

  stats(): PrefixCacheStats {
    let bytes = 0;
    for (const e of this.entries) bytes += e.bytes;
    return { entries: this.entries.size, bytes, hits: this.hits, misses: this.misses, evictions: this.evictions };
  }

  /**
   * Takes the session sharing the longest prefix with `keys` out of the cache (so no two requests share
   * it) and rewinds it to that prefix; null when none shares a turn. The caller owns the session.
   */
  async take(keys: readonly string[]): Promise<CachedPrefix | null> {
    this.expire();
    let best: { entry: Entry; common: number } | null = null;
    for (const entry of this.entries) {
      const common = commonPrefix(entry.keys, keys);
      if (common > 0 && (best === null || common > best.common)) best = { entry, common };
    }
    if (!best) {
      this.misses += 1;
      return null;
    }
    const { entry, common } = best;
    this.entries.delete(entry);
    try {
      if (common < entry.keys.length) await entry.session.rewind(entry.checkpoints[common - 1]);
    } catch {
      // A checkpoint the session can no longer reach: start fresh rather than fail the request.
      await entry.session.dispose().catch(() => undefined);
      this.misses += 1;
      return null;
    }
    this.hits += 1;
    return { session: entry.session, reusedTurns: common, checkpoints: entry.checkpoints.slice(0, common) };
  }

  /** Keeps a finished conversation (or disposes it when it alone exceeds the bound). */
  async put(keys: string[], checkpoints: Checkpoint[], session: EngineSession): Promise<void> {
    const bytes = session.stats().kvBytes;
    if (!this.enabled || bytes > this.opts.maxBytes || keys.length === 0) {
      await session.dispose();
      return;
    }
    this.entries.add({ keys, checkpoints, session, bytes, lastUsedMs: this.nowMs() });
    await this.evict();
  }

  async clear(): Promise<void> {
    const all = [...this.entries];
    this.entries.clear();
    await Promise.all(all.map((e) => e.session.dispose().catch(() => undefined)));
  }

  private expire(): void {
    const now = this.nowMs();
    for (const e of this.entries) {
      if (now - e.lastUsedMs > this.opts.ttlMs) this.drop(e);
    }
  }

  private async evict(): Promise<void> {
    this.expire();
    let bytes = this.stats().bytes;
    while (this.entries.size > 0 && (bytes > this.opts.maxBytes || this.entries.size > this.opts.maxEntries)) {
      let oldest: Entry | null = null;
      for (const e of this.entries) if (oldest === null || e.lastUsedMs < oldest.lastUsedMs) oldest = e;
      bytes -= oldest!.bytes;
      this.drop(oldest!);
    }
  }

  private drop(entry: Entry): void {
    this.entries.delete(entry);
    this.evictions += 1;
    void entry.session.dispose().catch(() => undefined);
  }
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
