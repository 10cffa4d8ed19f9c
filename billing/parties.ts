/** A postal address as invoices, mandates and e-invoices print it. */
export interface PostalAddress {
  addressLine1: string;
  addressLine2: string | null;
  zipCode: string;
  cityName: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** The issuing company of a project: the seller on every invoice, the creditor of every direct debit. */
export interface IssuingCompany {
  legalName: string;
  address: PostalAddress;
  vatId: string | null;
  taxNumber: string | null;
  contactName: string | null;
  email: string;
  phone: string;
  iban: string | null;
  bic: string | null;
  bankName: string | null;
  sepaCreditorId: string | null;
}
