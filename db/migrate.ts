import fs from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from './client';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** Any stable number: the advisory lock that keeps two processes from migrating at once. */
const MIGRATION_LOCK_ID = 7_171_001;

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  return files.map((file) => {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file name must be NNN_name.sql: ${file}`);
    return { version: Number(match[1]), name: match[2]!, file: path.join(dir, file) };
  });
}

/**
 * Applies the numbered, forwards-only migrations that are not applied yet, each in its own transaction.
 * Returns the names of those applied now.
 */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await listMigrations(dir);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`;
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`;
    const applied = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map((row) => row.version));
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.unsafe(await fs.readFile(migration.file, 'utf8'));
      await tx`insert into schema_migrations (version, name) values (${migration.version}, ${migration.name})`;
      appliedNow.push(`${String(migration.version).padStart(3, '0')}_${migration.name}`);
    }
    return appliedNow;
  });
}
