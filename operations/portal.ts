import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { validateCreditorID } from 'sepa';
import { decimal } from '../billing/money';
import type { IsoDate } from '../billing/types';
import { calendarDateAt } from '../billing/zoned-date';
import type { Logger } from '../config/logger';
import type { Queryable, Sql } from '../db/client';
import { findCompanyDetails } from '../db/queries/company';
import { listCustomerAccounts as listAccountsOfCustomer, type Account } from '../db/queries/accounts';
import { listContractActivities as listActivityRows, type ActivityListing } from '../db/queries/activities';
import { findContract, type ContractSummary } from '../db/queries/contracts';
import { findCustomer, isDuplicateMandateReference, listCustomerContracts as listContractsOfCustomer, type CustomerContract } from '../db/queries/customers';
import { findInvoice, findInvoiceCorrection, listInvoices as listInvoiceRows, type InvoiceHeader } from '../db/queries/invoices';
import { invoiceOpenAmounts } from '../db/queries/open-items';
import {
  countRecentMailedLinks,
  endPortalSession,
  findContractForTermination,
  findCustomersByEmail,
  findMandateSignatureBySubmission,
  findPortalCustomer,
  findPortalCustomerByNumber,
  findPortalProject,
  findPortalSession,
  insertMandateSignature,
  insertSignInLink,
  latestMandateSignature,
  listCurrentItems,
  listCustomerCorrections,
  listRecordedTerminations as listRecordedTerminationRows,
  portalSigningSecret,
  receiveTermination,
  recordTerminationOutcome,
  redeemSignInLink,
  setCustomerMandate,
  signInLinkState,
  type LinkState,
  type MandateSignature,
  type PortalCustomer,
  type PortalProject,
  type PortalTermination,
  type TerminationKind,
} from '../db/queries/portal';
import type { Mailer } from '../mail/mailer';
import { languageOf } from '../validation/locale';
import { pauseUpdate, terminateUpdate, type ScheduleResult } from '../workflows/definitions';
import { sendContractCommand } from './contract-workflows';
import { OperationError } from './errors';
import { sendOnce, type MailOutcome } from './mail';
import { renderCorrectionDocument, renderInvoiceDocument, type DocumentFormat, type RenderedDocument } from './documents';

/**
 * The customer center (Kundencenter): what a customer signed in by a mailed link sees and changes. Every
 * change goes the way the operator's API goes (the contract's workflow update, the customer's mandate on the
 * customer row), so one set of rules applies; what only the customer center has (links, sessions, signed
 * mandates, terminations received) is kept in the tables of migration 019.
 */

export type { LinkState, MandateSignature, PortalCustomer, PortalProject, PortalTermination, TerminationKind };

/** A sign-in link is good for 15 minutes and one use. */
export const SIGN_IN_LINK_SECONDS = 15 * 60;
/** A session lasts a working day; signing out ends it at once. */
export const SESSION_SECONDS = 8 * 60 * 60;
/** Links mailed per customer within {@link MAILED_LINK_WINDOW_SECONDS}, in every API process together. */
export const MAILED_LINKS_PER_WINDOW = 5;
export const MAILED_LINK_WINDOW_SECONDS = 15 * 60;
/** Customers one address may be the e-mail of, for whom the sign-in form mails a link each. */
const CUSTOMERS_PER_ADDRESS = 5;
/** How long the customer center waits for a contract's answer to a pause or termination. */
const COMMAND_DEADLINE_MS = 30_000;

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
const randomToken = () => randomBytes(32).toString('base64url');

/**
 * A sign-in token is `<random>.<signature>`: the signature (HMAC-SHA256 of the project and the random part
 * under a secret only the engine knows) turns away a forged or mistyped token, or one of another project,
 * before the books are asked; the books hold the SHA-256 of the whole token and whether it was used.
 */
function signToken(secret: Buffer, projectId: string, random: string): string {
  return createHmac('sha256', secret).update(`${projectId}.${random}`).digest('base64url');
}

function hasValidSignature(secret: Buffer, projectId: string, token: string): boolean {
  const [random, signature, ...rest] = token.split('.');
  if (!random || !signature || rest.length > 0) return false;
  const expected = Buffer.from(signToken(secret, projectId, random));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The secret that signs sign-in tokens, kept in the books so that every API process checks with the same one. */
const signingSecrets = new WeakMap<object, Buffer>();
async function signingSecret(sql: Sql): Promise<Buffer> {
  const cached = signingSecrets.get(sql);
  if (cached) return cached;
  const secret = Buffer.from(await portalSigningSecret(sql), 'utf8');
  signingSecrets.set(sql, secret);
  return secret;
}

export async function findProject(deps: { sql: Sql }, projectId: string): Promise<PortalProject> {
  if (!/^\d{1,18}$/.test(projectId)) throw OperationError.notFound(`project ${projectId}`);
  const project = await findPortalProject(deps.sql, projectId);
  if (!project) throw OperationError.notFound(`project ${projectId}`);
  return project;
}

/** The link's address in the customer center whose base (scheme, host, path prefix) is `portalUrl`. */
function linkUrl(portalUrl: string, projectId: string, token: string): string {
  return `${portalUrl.replace(/\/+$/, '')}/portal/${projectId}/link/${token}`;
}

async function newSignInLink(
  sql: Sql,
  link: { projectId: string; customerId: string; issuedBy: 'MAIL' | 'OPERATOR'; portalUrl: string },
): Promise<{ id: string; url: string; expiresAt: Date }> {
  const random = randomToken();
  const token = `${random}.${signToken(await signingSecret(sql), link.projectId, random)}`;
  const stored = await insertSignInLink(sql, { ...link, tokenHash: sha256(token), validForSeconds: SIGN_IN_LINK_SECONDS });
  return { id: stored.id, url: linkUrl(link.portalUrl, link.projectId, token), expiresAt: stored.expiresAt };
}

/**
 * The operator's way in for a customer (`POST /Customers/{n}/portalLink`): a single-use link valid for 15
 * minutes, answered to the operator and, when asked, mailed to the customer.
 */
export async function createSignInLink(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  request: { projectId: string; customerNumber: string; portalUrl: string; mail: boolean },
): Promise<{ url: string; expiresAt: Date; mail: MailOutcome | null }> {
  const customer = await findPortalCustomerByNumber(deps.sql, request.projectId, request.customerNumber);
  if (!customer) throw OperationError.notFound(`customer ${request.customerNumber}`);
  if (request.mail && !customer.email) throw OperationError.unprocessable('mail', 'the customer has no e-mail address to mail the link to');
  const link = await newSignInLink(deps.sql, { projectId: request.projectId, customerId: customer.id, issuedBy: 'OPERATOR', portalUrl: request.portalUrl });
  const mail = request.mail ? await mailSignInLink(deps, request.projectId, customer, link) : null;
  return { url: link.url, expiresAt: link.expiresAt, mail };
}

/**
 * The sign-in form: mails a link to every customer of the project with this address (a few at most), unless
 * that customer has had {@link MAILED_LINKS_PER_WINDOW} links mailed within the last 15 minutes. Answers
 * nothing about whether the address is known: the page says the same either way.
 */
export async function requestSignInLinks(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  request: { projectId: string; email: string; portalUrl: string },
): Promise<void> {
  const customers = await findCustomersByEmail(deps.sql, request.projectId, request.email, CUSTOMERS_PER_ADDRESS);
  for (const customer of customers) {
    if ((await countRecentMailedLinks(deps.sql, customer.id, MAILED_LINK_WINDOW_SECONDS)) >= MAILED_LINKS_PER_WINDOW) {
      deps.logger.warn({ projectId: request.projectId, customerNumber: customer.customerNumber }, 'portal sign-in link not mailed: too many within 15 minutes');
      continue;
    }
    const link = await newSignInLink(deps.sql, { projectId: request.projectId, customerId: customer.id, issuedBy: 'MAIL', portalUrl: request.portalUrl });
    try {
      await mailSignInLink(deps, request.projectId, customer, link);
    } catch (error) {
      // the page answers alike whatever happened; the mail log keeps the failure for the operator
      deps.logger.warn({ projectId: request.projectId, customerNumber: customer.customerNumber, err: error }, 'portal sign-in link not mailed');
    }
  }
}

async function mailSignInLink(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  projectId: string,
  customer: PortalCustomer,
  link: { id: string; url: string },
): Promise<MailOutcome> {
  const english = languageOf(customer.locale) === 'en';
  return sendOnce(deps, { projectId, kind: 'PORTAL_SIGN_IN', businessKey: link.id }, {
    to: customer.email!,
    subject: english ? 'Your sign-in link to the customer center' : 'Ihr Anmeldelink zum Kundencenter',
    text: (english
      ? [`Hello ${customer.name},`, '', 'sign in to the customer center with this link. It works once, within 15 minutes:', '', link.url, '', 'If you did not ask for it, ignore this mail.']
      : [`Guten Tag ${customer.name},`, '', 'mit diesem Link melden Sie sich im Kundencenter an. Er gilt einmal und 15 Minuten lang:', '', link.url, '', 'Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.']
    ).join('\n'),
  });
}

/** The customer center speaks the language of the customer's locale, as documents and mails do. */
export { languageOf };

/** Whether the link can still sign in, for the page that offers its button (nothing is used up). */
export async function checkSignInLink(deps: { sql: Sql }, projectId: string, token: string): Promise<LinkState> {
  if (!hasValidSignature(await signingSecret(deps.sql), projectId, token)) return 'UNKNOWN';
  return signInLinkState(deps.sql, projectId, sha256(token));
}

export interface OpenedSession {
  /** The cookie's value; the books keep its SHA-256 only. */
  secret: string;
  expiresAt: Date;
}

/** Uses a sign-in link once and opens a session; an unknown, used or expired link is refused (403). */
export async function signInWithLink(deps: { sql: Sql }, projectId: string, token: string): Promise<OpenedSession> {
  const refused = (reason: Exclude<LinkState, 'VALID'>) =>
    new OperationError('CONFLICT', 'FORBIDDEN', `the sign-in link is ${reason === 'UNKNOWN' ? 'not valid' : reason.toLowerCase()}`, 'token', { reason });
  if (!hasValidSignature(await signingSecret(deps.sql), projectId, token)) throw refused('UNKNOWN');
  const secret = randomToken();
  const redeemed = await redeemSignInLink(deps.sql, {
    projectId,
    tokenHash: sha256(token),
    sessionHash: sha256(secret),
    csrfToken: randomToken(),
    sessionSeconds: SESSION_SECONDS,
  });
  if ('refused' in redeemed) throw refused(redeemed.refused);
  return { secret, expiresAt: redeemed.expiresAt };
}

export interface SignedIn {
  sessionId: string;
  csrfToken: string;
  customer: PortalCustomer;
}

/** The customer of the session under this cookie, in this project only; null when there is none in force. */
export async function findSignedIn(deps: { sql: Sql }, projectId: string, secret: string | undefined): Promise<SignedIn | null> {
  if (!secret || secret.length > 200) return null;
  const session = await findPortalSession(deps.sql, projectId, sha256(secret));
  if (!session) return null;
  const customer = await findPortalCustomer(deps.sql, projectId, session.customerId);
  return customer ? { sessionId: session.id, csrfToken: session.csrfToken, customer } : null;
}

export async function signOut(deps: { sql: Sql }, sessionId: string): Promise<void> {
  await endPortalSession(deps.sql, sessionId);
}

export interface PortalContract extends CustomerContract {
  items: { itemNumber: string; itemName: string; quantity: string }[];
}

export interface PortalInvoice extends InvoiceHeader {
  /** What is still to pay: the gross less what payments and credits settled; zero for a cancelled invoice. */
  openAmount: string;
}

export interface PortalOverview {
  contracts: PortalContract[];
  accounts: Account[];
  invoices: PortalInvoice[];
  corrections: { correctionNumber: string; invoiceNumber: string; date: string; grossTotal: string; currency: string }[];
  mandate: { reference: string; signedOn: string; iban: string } | null;
}

/** Everything the customer's own pages show, read from the books as the operator's API reads them. */
export async function getOverview(deps: { sql: Sql }, projectId: string, customerId: string): Promise<PortalOverview> {
  const project = await findProject(deps, projectId);
  const today = calendarDateAt(Date.now(), project.timeZone);
  const customer = await findPortalCustomer(deps.sql, projectId, customerId);
  if (!customer) throw OperationError.notFound('customer');
  const contracts = await listContractsOfCustomer(deps.sql, customerId, { afterId: null, limit: 500 });
  const items = await listCurrentItems(deps.sql, contracts.map((contract) => contract.id), today);
  const accounts = await listAccountsOfCustomer(deps.sql, customerId, { afterId: null, limit: 100 });
  const invoices = (await listInvoiceRows(deps.sql, projectId, { customerNumber: customer.customerNumber, afterId: null, limit: 500 })).reverse();
  const open = await invoiceOpenAmounts(deps.sql, invoices.map((invoice) => invoice.id));
  const mandate = await findCustomerMandate(deps.sql, projectId, customer.customerNumber);
  return {
    contracts: contracts.map((contract) => ({ ...contract, items: items.filter((item) => item.contractId === contract.id) })),
    accounts,
    invoices: invoices.map((invoice) => ({
      ...invoice,
      openAmount: invoice.status === 'CANCELLED' ? '0.00' : decimal(open.get(invoice.id) ?? invoice.amountDue).toFixed(2),
    })),
    corrections: await listCustomerCorrections(deps.sql, customerId),
    mandate,
  };
}

async function findCustomerMandate(sql: Sql, projectId: string, customerNumber: string): Promise<PortalOverview['mandate']> {
  const customer = await findCustomer(sql, projectId, customerNumber);
  return customer?.sepaMandate && customer.iban ? { reference: customer.sepaMandate.reference, signedOn: customer.sepaMandate.signedOn, iban: customer.iban } : null;
}

/** One of the customer's own contracts; another customer's, or one of another project, is not found (404). */
export async function requireOwnContract(deps: { sql: Sql }, projectId: string, customer: PortalCustomer, contractNumber: string): Promise<ContractSummary> {
  const contract = await findContract(deps.sql, projectId, contractNumber);
  if (!contract || contract.customerNumber !== customer.customerNumber) throw OperationError.notFound(`contract ${contractNumber}`);
  return contract;
}

/**
 * A contract of the customer with what it bills today and its deliveries (subscription activities, what
 * logistics ships): those running now or later, and those of the last three months.
 */
export async function getOwnContract(
  deps: { sql: Sql },
  projectId: string,
  customer: PortalCustomer,
  contractNumber: string,
): Promise<{ contract: ContractSummary; items: PortalContract['items']; deliveries: ActivityListing[]; delivered: ActivityListing[] }> {
  const contract = await requireOwnContract(deps, projectId, customer, contractNumber);
  const project = await findProject(deps, projectId);
  const today = calendarDateAt(Date.now(), project.timeZone);
  const items = await listCurrentItems(deps.sql, [contract.id], today);
  const recent = await listActivityRows(deps.sql, contract.id, { origin: 'SUBSCRIPTION', from: addMonths(today, -3), after: null, limit: 200 });
  return {
    contract,
    items,
    deliveries: recent.filter((activity) => activity.periodEnd > today),
    delivered: recent.filter((activity) => activity.periodEnd <= today).reverse(),
  };
}

function addMonths(date: IsoDate, months: number): IsoDate {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const shifted = new Date(Date.UTC(year, month - 1 + months, Math.min(day, 28)));
  return shifted.toISOString().slice(0, 10);
}

/** A document of one of the customer's own invoices or corrections; any other is not found (404). */
export async function renderOwnDocument(
  deps: { sql: Sql },
  projectId: string,
  customer: PortalCustomer,
  request: { kind: 'INVOICE' | 'CORRECTION'; number: string; format: DocumentFormat },
): Promise<RenderedDocument> {
  if (request.kind === 'INVOICE') {
    const invoice = await findInvoice(deps.sql, projectId, request.number);
    if (!invoice || invoice.customerNumber !== customer.customerNumber) throw OperationError.notFound(`invoice ${request.number}`);
    return renderInvoiceDocument(deps, projectId, request.number, request.format);
  }
  const correction = await findInvoiceCorrection(deps.sql, projectId, request.number);
  if (!correction || correction.customerNumber !== customer.customerNumber) throw OperationError.notFound(`invoice correction ${request.number}`);
  return renderCorrectionDocument(deps, projectId, request.number, request.format);
}

/**
 * A delivery pause asked for in the customer center: the contract's `pause` update, the same command and
 * rules as `POST /Contracts/{n}/pause`, once per form submission (its key is the update's idempotency key).
 */
export async function pauseOwnDelivery(
  deps: { sql: Sql; temporal: Client; logger: Logger },
  request: { projectId: string; customer: PortalCustomer; contractNumber: string; from: IsoDate; until: IsoDate; submissionKey: string },
): Promise<ScheduleResult> {
  const contract = await requireOwnContract(deps, request.projectId, request.customer, request.contractNumber);
  return sendContractCommand(
    deps,
    { projectId: request.projectId, contractNumber: contract.contractNumber },
    { update: pauseUpdate, args: [{ from: request.from, until: request.until }], idempotencyKey: `portal-${request.submissionKey}`, deadlineMs: COMMAND_DEADLINE_MS },
  );
}

export interface MandateForm {
  creditorName: string;
  creditorId: string;
  creditorAddress: string;
  /** The reference the mandate will have, shown in its text before it is signed. */
  reference: string;
}

/** The mandate reference of a mandate given in the customer center: the customer number and the day, unique per project. */
function mandateReferenceFor(customerNumber: string, today: IsoDate, attempt: number): string {
  const base = `KC-${customerNumber.replace(/[^A-Za-z0-9+?/:().,' -]/g, '')}-${today.replaceAll('-', '')}`;
  return (attempt === 0 ? base : `${base}-${attempt + 1}`).slice(0, 35);
}

/** What the mandate page shows: the creditor the mandate is given to. Refused (409) while the project has no creditor id. */
export async function getMandateForm(deps: { sql: Sql }, projectId: string, customer: PortalCustomer): Promise<MandateForm> {
  const company = await findCompanyDetails(deps.sql, projectId);
  if (!company?.sepaCreditorId || !validateCreditorID(company.sepaCreditorId)) {
    throw OperationError.conflict('direct debit is not offered: the company has no SEPA creditor id', 'COMPANY_DETAILS_MISSING', 'company.sepaCreditorId');
  }
  const project = await findProject(deps, projectId);
  return {
    creditorName: company.legalName,
    creditorId: company.sepaCreditorId,
    creditorAddress: [company.address.addressLine1, company.address.addressLine2, `${company.address.zipCode} ${company.address.cityName}`].filter(Boolean).join(', '),
    reference: mandateReferenceFor(customer.customerNumber, calendarDateAt(Date.now(), project.timeZone), 0),
  };
}

/** The SEPA core mandate's text (the wording the German Kreditwirtschaft recommends), as the customer signs it. */
export function mandateText(form: MandateForm, language: 'de' | 'en'): string {
  if (language === 'en') {
    return (
      `SEPA Direct Debit Mandate. Creditor: ${form.creditorName}, ${form.creditorAddress}. Creditor identifier: ${form.creditorId}. ` +
      `Mandate reference: ${form.reference}. By signing this mandate form, you authorise ${form.creditorName} to send instructions to your bank ` +
      `to debit your account and your bank to debit your account in accordance with the instructions from ${form.creditorName}. ` +
      'As part of your rights, you are entitled to a refund from your bank under the terms and conditions of your agreement with your bank. ' +
      'A refund must be claimed within 8 weeks starting from the date on which your account was debited.'
    );
  }
  return (
    `SEPA-Lastschriftmandat. Zahlungsempfänger: ${form.creditorName}, ${form.creditorAddress}. Gläubiger-Identifikationsnummer: ${form.creditorId}. ` +
    `Mandatsreferenz: ${form.reference}. Ich ermächtige ${form.creditorName}, Zahlungen von meinem Konto mittels Lastschrift einzuziehen. ` +
    `Zugleich weise ich mein Kreditinstitut an, die von ${form.creditorName} auf mein Konto gezogenen Lastschriften einzulösen. ` +
    'Hinweis: Ich kann innerhalb von acht Wochen, beginnend mit dem Belastungsdatum, die Erstattung des belasteten Betrages verlangen. ' +
    'Es gelten dabei die mit meinem Kreditinstitut vereinbarten Bedingungen.'
  );
}

/**
 * The customer signs a SEPA mandate by a click: the text shown, IBAN, account holder, the date, time and IP
 * are kept (portal_mandate_signatures), and the mandate goes on the customer, where the next SEPA export
 * collects under it. Once per form submission: posting the form again gives the first signature.
 */
export async function signMandate(
  deps: { sql: Sql },
  request: {
    projectId: string;
    customer: PortalCustomer;
    iban: string;
    accountHolder: string;
    language: 'de' | 'en';
    ipAddress: string;
    userAgent: string | null;
    submissionKey: string;
  },
): Promise<MandateSignature> {
  const earlier = await findMandateSignatureBySubmission(deps.sql, request.projectId, request.customer.id, request.submissionKey);
  if (earlier) return earlier;
  const form = await getMandateForm(deps, request.projectId, request.customer);
  const project = await findProject(deps, request.projectId);
  const today = calendarDateAt(Date.now(), project.timeZone);
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const reference = mandateReferenceFor(request.customer.customerNumber, today, attempt);
    try {
      const signed = await deps.sql.begin(async (tx) => {
        const signature = await insertMandateSignature(tx, {
          projectId: request.projectId,
          customerId: request.customer.id,
          mandateReference: reference,
          iban: request.iban,
          accountHolder: request.accountHolder,
          creditorId: form.creditorId,
          mandateText: mandateText({ ...form, reference }, request.language),
          signedOn: today,
          ipAddress: request.ipAddress,
          userAgent: request.userAgent,
          submissionKey: request.submissionKey,
        });
        if (signature) await setCustomerMandate(tx, { customerId: request.customer.id, iban: request.iban, reference, signedOn: today });
        return signature;
      });
      if (signed) return signed;
      return (await findMandateSignatureBySubmission(deps.sql, request.projectId, request.customer.id, request.submissionKey))!;
    } catch (error) {
      // a reference taken already (a second mandate the same day, or by another customer by hand): the next one
      if (isUniqueViolation(error, 'portal_mandate_signatures_project_id_mandate_reference_key') || isDuplicateMandateReference(error)) continue;
      throw error;
    }
  }
  throw OperationError.conflict('no free mandate reference for today; try again tomorrow');
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const failure = error as { code?: unknown; constraint_name?: unknown } | null;
  return failure?.code === '23505' && failure.constraint_name === constraint;
}

export async function latestSignature(deps: { sql: Sql }, customerId: string): Promise<MandateSignature | null> {
  return latestMandateSignature(deps.sql, customerId);
}

export interface TerminationForm {
  customerName: string;
  email: string | null;
  customerNumber: string | null;
  contractNumber: string;
  kind: TerminationKind;
  /** The day the contract is to end (exclusive, as every end date); null: the earliest possible. */
  requestedEndDate: IsoDate | null;
  reason: string | null;
}

export interface TerminationReceipt extends PortalTermination {
  /** The time of receipt as the project's calendar date and wall-clock time. */
  receivedOn: IsoDate;
  receivedTime: string;
  mail: MailOutcome | null;
}

/**
 * The cancellation button (§ 312k BGB), reachable without sign-in. The termination is recorded as received
 * first, with its time; when the data identify one running contract (its number, and its customer's number or
 * e-mail address), an ordinary termination goes to the contract's workflow as the `terminate` update (the
 * same as `POST /Contracts/{n}/terminate`), to the date asked for or, when that is too early or not given, the
 * earliest the contract allows. Otherwise, an extraordinary one included (its reason is for a person to
 * judge), it stays recorded for the operator. Either way the customer gets a confirmation mail with the time
 * of receipt. A form posted twice is one termination (its submission key).
 */
export async function submitTermination(
  deps: { sql: Sql; temporal: Client; logger: Logger; mailer: Mailer },
  request: { projectId: string; submissionKey: string; form: TerminationForm; ipAddress: string | null; language: 'de' | 'en' },
): Promise<TerminationReceipt> {
  const project = await findProject(deps, request.projectId);
  const { form } = request;
  let termination = await receiveTermination(deps.sql, { projectId: request.projectId, submissionKey: request.submissionKey, ...form, ipAddress: request.ipAddress });
  const target = await findContractForTermination(deps.sql, request.projectId, {
    contractNumber: termination.contractNumber,
    customerNumber: termination.customerNumber,
    email: termination.email,
  });
  if (termination.outcome === 'RECEIVED') {
    termination = await carryOutTermination(deps, request.projectId, termination, target);
  }
  const recipient = termination.email ?? target?.email ?? null;
  let mail: MailOutcome | null = null;
  if (recipient) {
    try {
      mail = await mailTerminationReceipt(deps, project, termination, recipient, request.language);
    } catch (error) {
      deps.logger.warn({ projectId: request.projectId, terminationId: termination.id, err: error }, 'termination confirmation not mailed yet');
    }
  }
  const { date, time } = wallClock(termination.receivedAt, project.timeZone);
  return { ...termination, receivedOn: date, receivedTime: time, mail };
}

async function carryOutTermination(
  deps: { sql: Sql; temporal: Client; logger: Logger },
  projectId: string,
  termination: PortalTermination,
  target: Awaited<ReturnType<typeof findContractForTermination>>,
): Promise<PortalTermination> {
  const record = (note: string, endDate: string | null = null) =>
    recordTerminationOutcome(deps.sql, termination.id, {
      outcome: 'RECORDED',
      customerId: target?.customerId ?? null,
      contractId: target?.contractId ?? null,
      endDate,
      note,
    });
  if (!target) return record('the data identify no contract of this project: for the operator to check');
  if (termination.kind === 'EXTRAORDINARY') return record('extraordinary termination: its reason is for the operator to judge');
  if (target.status === 'ENDED') return record('the contract has ended already');
  const terminate = (endDate: string | null, keySuffix: string) =>
    sendContractCommand(
      deps,
      { projectId, contractNumber: target.contractNumber },
      {
        update: terminateUpdate,
        args: [endDate === null ? {} : { endDate }],
        idempotencyKey: `portal-termination-${termination.id}${keySuffix}`,
        deadlineMs: COMMAND_DEADLINE_MS,
      },
    );
  try {
    let note: string | null = null;
    let result;
    try {
      result = await terminate(termination.requestedEndDate, '');
    } catch (error) {
      const earliest = earliestEndDateOf(error);
      if (termination.requestedEndDate === null || earliest === null) throw error;
      // asked for a day before the contract allows: it ends on the earliest day it can
      result = await terminate(null, '-earliest');
      note = `the date asked for (${termination.requestedEndDate}) lies before the earliest possible end date ${earliest}`;
    }
    return recordTerminationOutcome(deps.sql, termination.id, {
      outcome: 'TERMINATED',
      customerId: target.customerId,
      contractId: target.contractId,
      endDate: result.endDate,
      note,
    });
  } catch (error) {
    const contract = await findContract(deps.sql, projectId, target.contractNumber);
    const reason = refusalOf(error);
    if (reason !== null) return record(`the contract refused the termination: ${reason}`, contract?.endDate ?? null);
    // The customer is owed a confirmation of receipt whatever Temporal does: the termination stays with the
    // operator, who finds out whether the update (idempotent by its key) was carried out after all.
    deps.logger.error({ projectId, contractNumber: target.contractNumber, err: error }, 'portal termination not answered by the contract workflow');
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return record(`the contract's workflow gave no answer (${message}): check whether the contract is terminated`, contract?.endDate ?? null);
  }
}

/** The earliest end date a refused termination names (operations/contracts.ts puts it in the failure's details). */
function earliestEndDateOf(error: unknown): string | null {
  for (let failure: unknown = error instanceof WorkflowUpdateFailedError ? error.cause : null; failure instanceof TemporalFailure; failure = failure.cause) {
    if (failure instanceof ApplicationFailure) {
      const details = failure.details?.[0] as { earliestEndDate?: unknown } | undefined;
      if (typeof details?.earliestEndDate === 'string') return details.earliestEndDate;
    }
  }
  return null;
}

/** Why the contract refused, for the operator's record; null for a failure that is no refusal (rethrown). */
function refusalOf(error: unknown): string | null {
  if (error instanceof WorkflowNotFoundError) return 'its workflow is not running';
  if (!(error instanceof WorkflowUpdateFailedError)) return null;
  let message = error.message;
  for (let failure: unknown = error.cause; failure instanceof TemporalFailure; failure = failure.cause) message = failure.message;
  return message;
}

function wallClock(instant: Date, timeZone: string): { date: IsoDate; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)!.value;
  return { date: `${part('year')}-${part('month')}-${part('day')}`, time: `${part('hour')}:${part('minute')}:${part('second')}` };
}

/** An instant as the project's calendar date and wall-clock time: when a customer signed or sent something. */
export async function projectWallClock(deps: { sql: Sql }, projectId: string, instant: Date): Promise<{ date: IsoDate; time: string }> {
  const project = await findProject(deps, projectId);
  return wallClock(instant, project.timeZone);
}

const germanDate = (date: string) => date.split('-').reverse().join('.');

/**
 * The last day of service: an end date is exclusive (the contract runs until the day before), and a
 * confirmation names the day the customer last has the service.
 */
export function lastDayOf(endDate: IsoDate): IsoDate {
  const day = new Date(`${endDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}

async function mailTerminationReceipt(
  deps: { sql: Sql; mailer: Mailer; logger: Logger },
  project: PortalProject,
  termination: PortalTermination,
  recipient: string,
  language: 'de' | 'en',
): Promise<MailOutcome> {
  const { date, time } = wallClock(termination.receivedAt, project.timeZone);
  const english = language === 'en';
  const end =
    termination.outcome === 'TERMINATED' && termination.endDate
      ? english
        ? `The contract ends at the end of ${lastDayOf(termination.endDate)} (end date ${termination.endDate}).`
        : `Der Vertrag endet mit Ablauf des ${germanDate(lastDayOf(termination.endDate))}.`
      : english
        ? 'We will check your termination and confirm the end date separately.'
        : 'Wir prüfen Ihre Kündigung und bestätigen Ihnen das Vertragsende gesondert.';
  return sendOnce(deps, { projectId: project.id, kind: 'PORTAL_TERMINATION', businessKey: termination.id }, {
    to: recipient,
    subject: english ? `Confirmation of your termination of contract ${termination.contractNumber}` : `Bestätigung Ihrer Kündigung des Vertrags ${termination.contractNumber}`,
    text: (english
      ? [
          `Hello ${termination.customerName},`,
          '',
          `we received your ${termination.kind === 'ORDINARY' ? 'ordinary' : 'extraordinary'} termination of contract ${termination.contractNumber} on ${date} at ${time} (${project.timeZone}).`,
          end,
        ]
      : [
          `Guten Tag ${termination.customerName},`,
          '',
          `Ihre ${termination.kind === 'ORDINARY' ? 'ordentliche' : 'außerordentliche'} Kündigung des Vertrags ${termination.contractNumber} ist am ${germanDate(date)} um ${time} Uhr bei uns eingegangen.`,
          end,
        ]
    ).join('\n'),
  });
}

/** Terminations received through the button that no workflow carried out, for the operator to look at. */
export async function listRecordedTerminations(deps: { sql: Queryable }, projectId: string, page: { afterId: string | null; limit: number }): Promise<PortalTermination[]> {
  return listRecordedTerminationRows(deps.sql, projectId, page);
}
