import type { Queryable } from '../client';

export interface TaxSettings {
  oneStopShop: boolean;
}

export async function findTaxSettings(sql: Queryable, projectId: string): Promise<TaxSettings> {
  const [settings] = await sql<TaxSettings[]>`select one_stop_shop as "oneStopShop" from projects where id = ${projectId}`;
  return settings!;
}

export async function saveTaxSettings(sql: Queryable, projectId: string, settings: TaxSettings): Promise<TaxSettings> {
  const [saved] = await sql<TaxSettings[]>`
    update projects set one_stop_shop = ${settings.oneStopShop} where id = ${projectId} returning one_stop_shop as "oneStopShop"`;
  return saved!;
}
