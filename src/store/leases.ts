// Instances and leases: what lets several gateway processes share one database safely.
// - Every instance registers and heartbeats; one whose heartbeat is older than the TTL is gone
//   (crashed, partitioned, or shut down), and only then may another take over its intents.
// - A lease is a named lock with an expiry, held by an instance id: a background job (start-up
//   blob sweep, issue 15's watcher and webhooks) runs where the lease was won and renews it
//   while it works; a holder that dies loses it when it expires, never earlier.
// Acquire is one conditional upsert, so concurrent callers on either engine see one winner.
// Times are each instance's clock in unix ms: instances must keep their clocks in sync (NTP),
// with the TTL far above any skew.

import type { SqlDb } from './sql'

export class Instances {
  constructor(
    private readonly db: SqlDb,
    readonly id: string,
    readonly ttlMs: number,
  ) {}

  async heartbeat(now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      [this.id, now, now],
    )
  }

  /** Ids of instances whose heartbeat is fresh (this one included once it has beaten). */
  async live(now = Date.now()): Promise<Set<string>> {
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM instances WHERE heartbeat_at > ?`, [now - this.ttlMs])
    return new Set(rows.map((r) => r.id))
  }

  /** A clean shutdown: this instance's intents become another's to finish at once. */
  async leave(): Promise<void> {
    await this.db.run(`DELETE FROM instances WHERE id = ?`, [this.id])
    await this.db.run(`DELETE FROM leases WHERE holder = ?`, [this.id])
  }

  /** Forgets instances gone for long (their rows only matter while their intents are open). */
  async prune(now = Date.now()): Promise<void> {
    await this.db.run(`DELETE FROM instances WHERE heartbeat_at < ?`, [now - 100 * this.ttlMs])
  }
}

export class Leases {
  constructor(
    private readonly db: SqlDb,
    private readonly holder: string,
  ) {}

  /**
   * Takes (or renews) the lease `name` for `ttlMs`; true when this instance holds it now.
   * Free, expired, or already ours: taken. Held by someone else and unexpired: not.
   */
  async acquire(name: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.expires_at <= ? OR leases.holder = excluded.holder`,
      [name, this.holder, now + ttlMs, now],
    )
    return changed > 0
  }

  async release(name: string): Promise<void> {
    await this.db.run(`DELETE FROM leases WHERE name = ? AND holder = ?`, [name, this.holder])
  }

  /** Frees a lease held by an instance known to be gone (no fresh heartbeat), before it expires. */
  async breakDead(name: string, deadHolder: string): Promise<void> {
    await this.db.run(`DELETE FROM leases WHERE name = ? AND holder = ?`, [name, deadHolder])
  }

  async holderOf(name: string, now = Date.now()): Promise<string | null> {
    const row = await this.db.get<{ holder: string }>(`SELECT holder FROM leases WHERE name = ? AND expires_at > ?`, [name, now])
    return row?.holder ?? null
  }

  /**
   * Runs `job` only if the lease is won, renewing it every third of the TTL while the job runs;
   * null when another instance holds it.
   */
  async withLease<T>(name: string, ttlMs: number, job: () => Promise<T>): Promise<T | null> {
    if (!(await this.acquire(name, ttlMs))) return null
    const renew = setInterval(() => void this.acquire(name, ttlMs).catch(() => undefined), Math.max(50, ttlMs / 3))
    try {
      return await job()
    } finally {
      clearInterval(renew)
      await this.release(name)
    }
  }
}
