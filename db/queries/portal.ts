import type { Queryable } from '../client';

/**
 * The customer center's tables (migration 019): sign-in links and sessions (by the SHA-256 of their secret),
 * mandates signed in it, and terminations received through its cancellation button.
 */

export interface PortalProject {
  id: string;
  name: string;
  timeZone: string;
}

export async function findPortalProject(sql: Queryable, projectId: string): Promise<PortalProject | null> {
  const [row] = await sql<PortalProject[]>`select id, name, time_zone as "timeZone" from projects where id = ${projectId}`;
  return row ?? null;
}

/** The secret that signs sign-in tokens, drawn once by migration 019. */
export async function portalSigningSecret(sql: Queryable): Promise<string> {
  const [row] = await sql<{ secret: string }[]>`select secret from portal_signing_secret where id = 1`;
  return row!.secret;
}

export interface PortalCustomer {
  id: string;
  customerNumber: string;
  name: string;
  email: string | null;
  locale: string;
}

const CUSTOMER_COLUMNS = (sql: Queryable) => sql`
  id, customer_number as "customerNumber", email, locale,
  coalesce(nullif(company_name, ''), nullif(trim(concat_ws(' ', first_name, last_name)), ''), customer_number) as name`;

/** The customers of the project with this e-mail address (compared without case), oldest first. */
export async function findCustomersByEmail(sql: Queryable, projectId: string, email: string, limit: number): Promise<PortalCustomer[]> {
  return sql<PortalCustomer[]>`
    select ${CUSTOMER_COLUMNS(sql)} from customers
    where project_id = ${projectId} and lower(email) = lower(${email})
    order by id limit ${limit}`;
}

export async function findPortalCustomer(sql: Queryable, projectId: string, customerId: string): Promise<PortalCustomer | null> {
  const [row] = await sql<PortalCustomer[]>`select ${CUSTOMER_COLUMNS(sql)} from customers where project_id = ${projectId} and id = ${customerId}`;
  return row ?? null;
}

export async function findPortalCustomerByNumber(sql: Queryable, projectId: string, customerNumber: string): Promise<PortalCustomer | null> {
  const [row] = await sql<PortalCustomer[]>`
    select ${CUSTOMER_COLUMNS(sql)} from customers where project_id = ${projectId} and customer_number = ${customerNumber}`;
  return row ?? null;
}

export async function insertSignInLink(
  sql: Queryable,
  link: { projectId: string; customerId: string; tokenHash: string; issuedBy: 'MAIL' | 'OPERATOR'; validForSeconds: number },
): Promise<{ id: string; expiresAt: Date }> {
  const [row] = await sql<{ id: string; expiresAt: Date }[]>`
    insert into portal_sign_in_links (project_id, customer_id, token_hash, issued_by, expires_at)
    values (${link.projectId}, ${link.customerId}, ${link.tokenHash}, ${link.issuedBy}, now() + make_interval(secs => ${link.validForSeconds}))
    returning id, expires_at as "expiresAt"`;
  return row!;
}

/** Links mailed to the customer since `seconds` ago: the sign-in form sends no more than a few per address. */
export async function countRecentMailedLinks(sql: Queryable, customerId: string, seconds: number): Promise<number> {
  const [row] = await sql<{ count: string }[]>`
    select count(*) as count from portal_sign_in_links
    where customer_id = ${customerId} and issued_by = 'MAIL' and created_at > now() - make_interval(secs => ${seconds})`;
  return Number(row!.count);
}

export type LinkState = 'VALID' | 'USED' | 'EXPIRED' | 'UNKNOWN';

/** What a link's token says without using it: whether the sign-in page may offer its button. */
export async function signInLinkState(sql: Queryable, projectId: string, tokenHash: string): Promise<LinkState> {
  const [row] = await sql<{ used: boolean; expired: boolean }[]>`
    select used_at is not null as used, expires_at <= now() as expired
    from portal_sign_in_links where project_id = ${projectId} and token_hash = ${tokenHash}`;
  if (!row) return 'UNKNOWN';
  return row.used ? 'USED' : row.expired ? 'EXPIRED' : 'VALID';
}

/**
 * Uses the link once: marks it used and opens a session for its customer in one statement, so that two
 * requests with the same link cannot both sign in. Null with the reason when the link is unknown, used or
 * expired.
 */
export async function redeemSignInLink(
  sql: Queryable,
  redemption: { projectId: string; tokenHash: string; sessionHash: string; csrfToken: string; sessionSeconds: number },
): Promise<{ customerId: string; expiresAt: Date } | { refused: Exclude<LinkState, 'VALID'> }> {
  const [row] = await sql<{ customerId: string; expiresAt: Date }[]>`
    with used as (
      update portal_sign_in_links set used_at = now()
      where project_id = ${redemption.projectId} and token_hash = ${redemption.tokenHash} and used_at is null and expires_at > now()
      returning id, project_id, customer_id
    )
    insert into portal_sessions (project_id, customer_id, session_hash, csrf_token, sign_in_link_id, expires_at)
    select project_id, customer_id, ${redemption.sessionHash}, ${redemption.csrfToken}, id, now() + make_interval(secs => ${redemption.sessionSeconds})
    from used
    returning customer_id as "customerId", expires_at as "expiresAt"`;
  if (row) return row;
  const state = await signInLinkState(sql, redemption.projectId, redemption.tokenHash);
  return { refused: state === 'VALID' ? 'USED' : state };
}

export interface PortalSession {
  id: string;
  projectId: string;
  customerId: string;
  csrfToken: string;
}

/** The session in force under this secret, in this project; null when unknown, ended or expired. */
export async function findPortalSession(sql: Queryable, projectId: string, sessionHash: string): Promise<PortalSession | null> {
  const [row] = await sql<PortalSession[]>`
    select id, project_id as "projectId", customer_id as "customerId", csrf_token as "csrfToken"
    from portal_sessions
    where project_id = ${projectId} and session_hash = ${sessionHash} and ended_at is null and expires_at > now()`;
  return row ?? null;
}

export async function endPortalSession(sql: Queryable, sessionId: string): Promise<void> {
  await sql`update portal_sessions set ended_at = now() where id = ${sessionId} and ended_at is null`;
}

export interface MandateSignature {
  id: string;
  mandateReference: string;
  iban: string;
  accountHolder: string;
  creditorId: string;
  signedAt: Date;
  signedOn: string;
  ipAddress: string;
}

const SIGNATURE_COLUMNS = (sql: Queryable) => sql`
  id, mandate_reference as "mandateReference", iban, account_holder as "accountHolder", creditor_id as "creditorId",
  signed_at as "signedAt", signed_on as "signedOn", ip_address as "ipAddress"`;

/** Records a mandate signature once per form submission; null when that submission was recorded before. */
export async function insertMandateSignature(
  sql: Queryable,
  signature: {
    projectId: string;
    customerId: string;
    mandateReference: string;
    iban: string;
    accountHolder: string;
    creditorId: string;
    mandateText: string;
    signedOn: string;
    ipAddress: string;
    userAgent: string | null;
    submissionKey: string;
  },
): Promise<MandateSignature | null> {
  const [row] = await sql<MandateSignature[]>`
    insert into portal_mandate_signatures (project_id, customer_id, mandate_reference, iban, account_holder, creditor_id,
      mandate_text, signed_on, ip_address, user_agent, submission_key)
    values (${signature.projectId}, ${signature.customerId}, ${signature.mandateReference}, ${signature.iban}, ${signature.accountHolder},
      ${signature.creditorId}, ${signature.mandateText}, ${signature.signedOn}, ${signature.ipAddress}, ${signature.userAgent}, ${signature.submissionKey})
    on conflict (project_id, submission_key) do nothing
    returning ${SIGNATURE_COLUMNS(sql)}`;
  return row ?? null;
}

export async function findMandateSignatureBySubmission(sql: Queryable, projectId: string, customerId: string, submissionKey: string): Promise<MandateSignature | null> {
  const [row] = await sql<MandateSignature[]>`
    select ${SIGNATURE_COLUMNS(sql)} from portal_mandate_signatures
    where project_id = ${projectId} and customer_id = ${customerId} and submission_key = ${submissionKey}`;
  return row ?? null;
}

export async function latestMandateSignature(sql: Queryable, customerId: string): Promise<MandateSignature | null> {
  const [row] = await sql<MandateSignature[]>`
    select ${SIGNATURE_COLUMNS(sql)} from portal_mandate_signatures where customer_id = ${customerId} order by id desc limit 1`;
  return row ?? null;
}

/**
 * Puts a mandate signed in the customer center on the customer, where the next SEPA export finds it. A new
 * mandate is usable again even if the bank reported the previous one unusable (migration 013).
 */
export async function setCustomerMandate(
  sql: Queryable,
  mandate: { customerId: string; iban: string; reference: string; signedOn: string },
): Promise<void> {
  await sql`
    update customers set iban = ${mandate.iban}, bic = null, sepa_mandate_reference = ${mandate.reference},
      sepa_mandate_signed_on = ${mandate.signedOn}, sepa_mandate_unusable_reason = null, sepa_mandate_unusable_since = null,
      updated_at = now()
    where id = ${mandate.customerId}`;
}

export type TerminationKind = 'ORDINARY' | 'EXTRAORDINARY';
export type TerminationOutcome = 'RECEIVED' | 'TERMINATED' | 'RECORDED';

export interface PortalTermination {
  id: string;
  receivedAt: Date;
  customerName: string;
  email: string | null;
  customerNumber: string | null;
  contractNumber: string;
  kind: TerminationKind;
  requestedEndDate: string | null;
  reason: string | null;
  customerId: string | null;
  contractId: string | null;
  outcome: TerminationOutcome;
  endDate: string | null;
  note: string | null;
}

const TERMINATION_COLUMNS = (sql: Queryable) => sql`
  id, received_at as "receivedAt", customer_name as "customerName", email, customer_number as "customerNumber",
  contract_number as "contractNumber", kind, requested_end_date as "requestedEndDate", reason, customer_id as "customerId",
  contract_id as "contractId", outcome, end_date as "endDate", note`;

/**
 * Records a termination as received, once per form submission: a repeated submission returns the row the
 * first one wrote (with its time of receipt).
 */
export async function receiveTermination(
  sql: Queryable,
  termination: Pick<PortalTermination, 'customerName' | 'email' | 'customerNumber' | 'contractNumber' | 'kind' | 'requestedEndDate' | 'reason'> & {
    projectId: string;
    submissionKey: string;
    ipAddress: string | null;
  },
): Promise<PortalTermination> {
  const [inserted] = await sql<PortalTermination[]>`
    insert into portal_terminations (project_id, submission_key, customer_name, email, customer_number, contract_number, kind,
      requested_end_date, reason, ip_address)
    values (${termination.projectId}, ${termination.submissionKey}, ${termination.customerName}, ${termination.email},
      ${termination.customerNumber}, ${termination.contractNumber}, ${termination.kind}, ${termination.requestedEndDate},
      ${termination.reason}, ${termination.ipAddress})
    on conflict (project_id, submission_key) do nothing
    returning ${TERMINATION_COLUMNS(sql)}`;
  if (inserted) return inserted;
  const [existing] = await sql<PortalTermination[]>`
    select ${TERMINATION_COLUMNS(sql)} from portal_terminations
    where project_id = ${termination.projectId} and submission_key = ${termination.submissionKey}`;
  return existing!;
}

export async function recordTerminationOutcome(
  sql: Queryable,
  id: string,
  outcome: { outcome: Exclude<TerminationOutcome, 'RECEIVED'>; customerId: string | null; contractId: string | null; endDate: string | null; note: string | null },
): Promise<PortalTermination> {
  const [row] = await sql<PortalTermination[]>`
    update portal_terminations set outcome = ${outcome.outcome}, customer_id = ${outcome.customerId}, contract_id = ${outcome.contractId},
      end_date = ${outcome.endDate}, note = ${outcome.note}
    where id = ${id}
    returning ${TERMINATION_COLUMNS(sql)}`;
  return row!;
}

/** Terminations the operator has to look at: those not carried out by a contract's workflow. */
export async function listRecordedTerminations(sql: Queryable, projectId: string, page: { afterId: string | null; limit: number }): Promise<PortalTermination[]> {
  return sql<PortalTermination[]>`
    select ${TERMINATION_COLUMNS(sql)} from portal_terminations
    where project_id = ${projectId} and outcome <> 'TERMINATED' ${page.afterId ? sql`and id > ${page.afterId}` : sql``}
    order by id limit ${page.limit}`;
}

/**
 * The contract the termination form names, if the other data identify its customer: the contract number in
 * the project, and its customer's number or e-mail address (without case) matching what was given.
 */
export async function findContractForTermination(
  sql: Queryable,
  projectId: string,
  identity: { contractNumber: string; customerNumber: string | null; email: string | null },
): Promise<{ contractId: string; contractNumber: string; customerId: string; customerName: string; status: string; email: string | null; locale: string } | null> {
  const [row] = await sql<{ contractId: string; contractNumber: string; customerId: string; customerName: string; status: string; email: string | null; locale: string }[]>`
    select c.id as "contractId", c.contract_number as "contractNumber", cu.id as "customerId", c.status, cu.email, cu.locale,
      coalesce(nullif(cu.company_name, ''), nullif(trim(concat_ws(' ', cu.first_name, cu.last_name)), ''), cu.customer_number) as "customerName"
    from contracts c join customers cu on cu.id = c.customer_id
    where c.project_id = ${projectId} and c.contract_number = ${identity.contractNumber}
      and (${identity.customerNumber}::text is not null and cu.customer_number = ${identity.customerNumber}
        or ${identity.email}::text is not null and lower(cu.email) = lower(${identity.email}))`;
  return row ?? null;
}

/** The items each contract of the customer has today, for the customer's overview. */
export async function listCurrentItems(
  sql: Queryable,
  contractIds: string[],
  today: string,
): Promise<{ contractId: string; itemNumber: string; itemName: string; quantity: string }[]> {
  if (contractIds.length === 0) return [];
  return sql<{ contractId: string; itemNumber: string; itemName: string; quantity: string }[]>`
    select sl.contract_id as "contractId", i.item_number as "itemNumber", i.name as "itemName", sl.quantity
    from subscription_lines sl join items i on i.id = sl.item_id
    where sl.contract_id in ${sql(contractIds)} and sl.valid_from <= ${today} and (sl.valid_until is null or sl.valid_until > ${today})
    order by sl.contract_id, sl.id`;
}

/** The customer's invoice corrections (stornos), newest first. */
export async function listCustomerCorrections(
  sql: Queryable,
  customerId: string,
): Promise<{ correctionNumber: string; invoiceNumber: string; date: string; grossTotal: string; currency: string }[]> {
  return sql<{ correctionNumber: string; invoiceNumber: string; date: string; grossTotal: string; currency: string }[]>`
    select ic.correction_number as "correctionNumber", i.invoice_number as "invoiceNumber", ic.correction_date as date,
      ic.gross_total as "grossTotal", trim(i.currency) as currency
    from invoice_corrections ic join invoices i on i.id = ic.invoice_id
    where i.customer_id = ${customerId}
    order by ic.id desc limit 500`;
}
