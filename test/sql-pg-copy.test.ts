/**
 * `pgPoolClient` with `pg-copy-streams` (src/gallery/sql-pg.ts): which servers get binary
 * COPY, and what is sent. The store suite runs over PGlite's socket server, which cannot take
 * COPY; a real PostgreSQL does (BENCHMARKS.md), so the driver side is checked on a fake pool.
 */
import { describe, it, expect } from 'vitest';
import { pgPoolClient, type PgCopyStream, type PgPool, type PgQueryable } from '../src/gallery/sql-pg.js';

/** A pool of one recording connection, answering `version()` with `version`. */
function fakePool(version: string, opts: { copyFails?: boolean } = {}) {
  const statements: string[] = [];
  const copies: { sql: string; bytes: number[]; ended: boolean }[] = [];
  const conn = {
    query(q: string | PgCopyStream) {
      if (typeof q !== 'string') {
        (q as unknown as { run(): void }).run();
        return q;
      }
      statements.push(q);
      return Promise.resolve({ rows: /version\(\)/.test(q) ? [{ v: version }] : [] });
    },
    release() {},
  } as PgQueryable & { release(): void };
  const pool = { query: conn.query, connect: async () => conn, end: async () => {} } as unknown as PgPool;
  const copyFrom = (sql: string): PgCopyStream => {
    const copy = { sql, bytes: [] as number[], ended: false };
    copies.push(copy);
    const listeners: Record<string, (e?: unknown) => void> = {};
    return Object.assign(
      {
        write: (chunk: Uint8Array) => (copy.bytes.push(...chunk), true),
        end: () => {
          copy.ended = true;
          // The server's answer comes after the data, as with pg.
          setTimeout(() => (opts.copyFails ? listeners.error?.(new Error('bad COPY data')) : listeners.finish?.()), 0);
        },
        on: (event: string, f: (e?: unknown) => void) => void (listeners[event] = f),
      },
      { run: () => statements.push(`<copy> ${sql}`) },
    );
  };
  return { pool, copyFrom, statements, copies };
}

describe('pgPoolClient and binary COPY', () => {
  it('a PostgreSQL server gets the rows as COPY … FROM STDIN (FORMAT binary) inside the transaction', async () => {
    const f = fakePool('PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu');
    const client = pgPoolClient(f.pool, 'postgres://x@host/db', f.copyFrom);
    await client.transaction(async (tx) => {
      expect(tx.copyBinary).toBeTypeOf('function');
      await tx.copyBinary!('facenet_embedding', ['identity_id', 'embedding'], new Uint8Array([1, 2, 3]));
    });
    expect(f.copies).toEqual([{ sql: 'COPY facenet_embedding (identity_id, embedding) FROM STDIN (FORMAT binary)', bytes: [1, 2, 3], ended: true }]);
    expect(f.statements).toEqual([
      'SELECT version() AS v',
      'BEGIN',
      '<copy> COPY facenet_embedding (identity_id, embedding) FROM STDIN (FORMAT binary)',
      'COMMIT',
    ]);
  });

  it('PGlite over a socket, or no pg-copy-streams: no COPY (the store inserts by statements)', async () => {
    const pglite = fakePool('PostgreSQL 18.6 (PGlite 0.5.14) on wasm32-unknown-emscripten, compiled by emcc');
    await pgPoolClient(pglite.pool, 'postgres://x@host/db', pglite.copyFrom).transaction(async (tx) => expect(tx.copyBinary).toBeUndefined());
    const plain = fakePool('PostgreSQL 15.20 on x86_64-pc-linux-gnu');
    await pgPoolClient(plain.pool, 'postgres://x@host/db').transaction(async (tx) => expect(tx.copyBinary).toBeUndefined());
    expect(plain.statements).not.toContain('SELECT version() AS v');
  });

  it('a COPY the server refuses rolls the transaction back with its error', async () => {
    const f = fakePool('PostgreSQL 15.20 on x86_64-pc-linux-gnu', { copyFails: true });
    const client = pgPoolClient(f.pool, 'postgres://x@host/db', f.copyFrom);
    await expect(client.transaction((tx) => tx.copyBinary!('t', ['a'], new Uint8Array([9])))).rejects.toThrow('bad COPY data');
    expect(f.statements.slice(-1)).toEqual(['ROLLBACK']);
  });
});
