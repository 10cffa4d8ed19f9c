import { loadConfig } from '../config/config';
import { createSql } from './client';
import { migrate } from './migrate';

/** `npm run migrate`: applies pending migrations to DATABASE_URL and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const sql = createSql(config.databaseUrl, { max: 1 });
  try {
    const applied = await migrate(sql);
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
