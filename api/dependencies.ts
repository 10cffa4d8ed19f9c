import type { Client } from '@temporalio/client';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { Sql } from '../db/client';

/** What the API's routes and the customer center's pages are built with (`createApp`). */
export interface ApiDependencies {
  sql: Sql;
  temporal: Client;
  config: Config;
  logger: Logger;
}
