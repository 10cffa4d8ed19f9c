import type { IssuingCompany, PostalAddress } from '../../billing/parties';
import type { Queryable } from '../client';

/** The issuing company as the books hold it (billing/parties.ts). */
export type CompanyDetails = IssuingCompany;

/** The company's row: the address flattened into columns. */
type CompanyRow = Omit<IssuingCompany, 'address'> & PostalAddress;

function toCompany({ addressLine1, addressLine2, zipCode, cityName, country, ...rest }: CompanyRow): CompanyDetails {
  return { ...rest, address: { addressLine1, addressLine2, zipCode, cityName, country } };
}

export async function findCompanyDetails(sql: Queryable, projectId: string): Promise<CompanyDetails | null> {
  const [row] = await sql<CompanyRow[]>`
    select legal_name as "legalName", address_line1 as "addressLine1", address_line2 as "addressLine2", zip_code as "zipCode",
      city_name as "cityName", trim(country) as country, vat_id as "vatId", tax_number as "taxNumber", contact_name as "contactName",
      email, phone, iban, bic, bank_name as "bankName", sepa_creditor_id as "sepaCreditorId"
    from project_companies where project_id = ${projectId}`;
  return row ? toCompany(row) : null;
}

/** Writes the whole record (PUT semantics): a field left out is cleared. */
export async function saveCompanyDetails(sql: Queryable, projectId: string, company: CompanyDetails): Promise<CompanyDetails> {
  const values = {
    legal_name: company.legalName,
    address_line1: company.address.addressLine1,
    address_line2: company.address.addressLine2,
    zip_code: company.address.zipCode,
    city_name: company.address.cityName,
    country: company.address.country,
    vat_id: company.vatId,
    tax_number: company.taxNumber,
    contact_name: company.contactName,
    email: company.email,
    phone: company.phone,
    iban: company.iban,
    bic: company.bic,
    bank_name: company.bankName,
    sepa_creditor_id: company.sepaCreditorId,
  };
  await sql`
    insert into project_companies ${sql({ project_id: projectId, ...values })}
    on conflict (project_id) do update set ${sql(values)}, updated_at = now()`;
  return (await findCompanyDetails(sql, projectId))!;
}
