import { randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { ApiDependencies } from '../api/dependencies';
import { toApiError } from '../api/errors';
import { CommandDeadlineError } from '../operations/contract-workflows';
import { OperationError } from '../operations/errors';
import {
  checkSignInLink,
  findProject,
  findSignedIn,
  getMandateForm,
  getOverview,
  getOwnContract,
  languageOf,
  latestSignature,
  mandateText,
  projectWallClock,
  pauseOwnDelivery,
  renderOwnDocument,
  requestSignInLinks,
  SESSION_SECONDS,
  signInWithLink,
  signMandate,
  signOut,
  submitTermination,
  type MandateForm,
  type SignedIn,
  type TerminationForm,
} from '../operations/portal';
import { pauseSchema } from '../validation/contracts';
import { ibanSchema, isoDateSchema } from '../validation/fields';
import { portalMailer } from './mailer';
import {
  cancelPage,
  cancelReceiptPage,
  contractPage,
  errorPage,
  invoicesPage,
  linkPage,
  mandatePage,
  overviewPage,
  signInPage,
  type FieldError,
  type PageContext,
} from './pages';
import { TEXTS, type Language } from './texts';

/**
 * The customer center under `/portal/{projectId}`: server-rendered pages, plain forms, no script. A customer
 * signs in by a single-use link mailed to them; the session cookie is HttpOnly, SameSite=Lax and Secure on
 * TLS, and every form carries a CSRF token (the session's, or before sign-in the one in the `kontor_portal_csrf`
 * cookie) that a POST without it is refused for. The cancellation form (§ 312k BGB) needs no sign-in.
 */

const SESSION_COOKIE = 'kontor_portal_session';
const CSRF_COOKIE = 'kontor_portal_csrf';
/** Sign-in requests per IP address and per e-mail address in 15 minutes, in one API process. */
export const SIGN_IN_REQUESTS_PER_IP = 20;
export const SIGN_IN_REQUESTS_PER_ADDRESS = 5;

/** No script, no foreign origin, no framing: the pages are forms and links to this origin only. */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The customer center's pages and forms, for the OpenAPI document: public (no api-key), HTML answers. */
export const PORTAL_PAGES: { operationId: string; method: 'get' | 'post'; path: string; summary: string }[] = [
  { operationId: 'portalHome', method: 'get', path: '/portal/{project}/', summary: 'Customer center: to the overview, or the sign-in page' },
  { operationId: 'portalStyles', method: 'get', path: '/portal/{project}/assets/portal.css', summary: "Customer center: the pages' style sheet" },
  { operationId: 'portalSignInPage', method: 'get', path: '/portal/{project}/sign-in', summary: 'Customer center: the sign-in page (e-mail address)' },
  { operationId: 'portalRequestSignInLink', method: 'post', path: '/portal/{project}/sign-in', summary: 'Customer center: mail a single-use sign-in link (rate-limited per address and IP)' },
  { operationId: 'portalLinkPage', method: 'get', path: '/portal/{project}/link/{token}', summary: "Customer center: a mailed link's page with its sign-in button (opening it uses nothing up)" },
  { operationId: 'portalSignIn', method: 'post', path: '/portal/{project}/link', summary: 'Customer center: sign in with a link, once; sets the session cookie' },
  { operationId: 'portalSignOut', method: 'post', path: '/portal/{project}/sign-out', summary: 'Customer center: end the session' },
  { operationId: 'portalOverview', method: 'get', path: '/portal/{project}/overview', summary: "Customer center: the customer's contracts and account balances" },
  { operationId: 'portalInvoices', method: 'get', path: '/portal/{project}/invoices', summary: "Customer center: the customer's invoices with open amounts, and corrections" },
  { operationId: 'portalInvoiceDocument', method: 'get', path: '/portal/{project}/invoices/{number}/document', summary: "Customer center: one of the customer's invoices as PDF or XRechnung" },
  { operationId: 'portalCorrectionDocument', method: 'get', path: '/portal/{project}/corrections/{number}/document', summary: "Customer center: one of the customer's corrections as PDF or XRechnung" },
  { operationId: 'portalContract', method: 'get', path: '/portal/{project}/contracts/{contractNumber}', summary: 'Customer center: a contract with its items, deliveries due and the delivery pause form' },
  { operationId: 'portalPauseDelivery', method: 'post', path: '/portal/{project}/contracts/{contractNumber}/pause', summary: "Customer center: a delivery pause, as the contract's pause update" },
  { operationId: 'portalMandatePage', method: 'get', path: '/portal/{project}/mandate', summary: 'Customer center: the SEPA mandate and its form' },
  { operationId: 'portalSignMandate', method: 'post', path: '/portal/{project}/mandate', summary: 'Customer center: give a SEPA mandate by a click (date, time and IP recorded)' },
  { operationId: 'portalCancelPage', method: 'get', path: '/portal/{project}/kuendigen', summary: 'Customer center: the cancellation form ("Verträge hier kündigen", § 312k BGB), no sign-in' },
  { operationId: 'portalCancel', method: 'post', path: '/portal/{project}/kuendigen', summary: 'Customer center: "jetzt kündigen": the termination, confirmed with its time of receipt' },
];

declare module 'express-serve-static-core' {
  interface Request {
    portal?: { projectId: string; base: string; language: Language; signedIn: SignedIn | null; anonymousCsrf: string | null };
    /** The customer center's public address is https. */
    portalOverTls?: boolean;
  }
}

export function portalRoutes(deps: ApiDependencies): Router {
  const { sql, temporal, logger, config } = deps;
  const mailer = portalMailer(config);
  const router = Router({ mergeParams: true });
  const portalUrl = config.portal.publicUrl;

  router.use(portalHeaders);
  router.use((request, _response, next) => {
    request.portalOverTls = portalUrl.startsWith('https:');
    next();
  });
  router.get('/assets/portal.css', (_request, response) => {
    response.setHeader('Cache-Control', 'public, max-age=3600');
    response.type('text/css');
    response.sendFile(path.join(__dirname, 'static', 'portal.css'));
  });
  router.use(express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 50 }));
  router.use(async (request, response, next) => {
    const projectId = String(request.params.project ?? '');
    await findProject({ sql }, projectId);
    const cookies = parseCookies(request.header('cookie'));
    const signedIn = await findSignedIn({ sql }, projectId, cookies[SESSION_COOKIE]);
    let anonymousCsrf = cookies[CSRF_COOKIE] && /^[\w-]{43}$/.test(cookies[CSRF_COOKIE]) ? cookies[CSRF_COOKIE] : null;
    const base = `/portal/${projectId}`;
    if (!signedIn && anonymousCsrf === null && request.method === 'GET') {
      anonymousCsrf = randomBytes(32).toString('base64url');
      response.append('Set-Cookie', cookie(request, CSRF_COOKIE, anonymousCsrf, base, null));
    }
    request.portal = { projectId, base, language: languageFor(request, signedIn), signedIn, anonymousCsrf };
    next();
  });
  router.use((request, response, next) => (request.method === 'POST' ? requireCsrfToken(request, response, next) : next()));

  const context = (request: Request): PageContext => {
    const portal = request.portal!;
    return {
      base: portal.base,
      language: portal.language,
      csrfToken: portal.signedIn?.csrfToken ?? portal.anonymousCsrf ?? '',
      customer: portal.signedIn?.customer ?? null,
    };
  };
  const signedIn = (request: Request): SignedIn => {
    const session = request.portal!.signedIn;
    if (!session) throw new PortalSignInNeeded();
    return session;
  };

  router.get('/', (request, response) => response.redirect(303, `${request.portal!.base}/${request.portal!.signedIn ? 'overview' : 'sign-in'}`));

  // Sign-in
  router.get('/sign-in', (request, response) => {
    if (request.portal!.signedIn) return response.redirect(303, `${request.portal!.base}/overview`);
    response.send(signInPage(context(request)));
  });
  const perIp = rateLimit({
    windowMs: 15 * 60_000,
    limit: SIGN_IN_REQUESTS_PER_IP,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // an IPv6 address counts by its /56 network: one host has many addresses
    keyGenerator: (request) => `portal-ip:${request.portal!.projectId}:${ipKeyGenerator(request.ip ?? '')}`,
    handler: (request, response) => response.status(429).send(signInPage(context(request), { tooMany: true })),
  });
  const perAddress = rateLimit({
    windowMs: 15 * 60_000,
    limit: SIGN_IN_REQUESTS_PER_ADDRESS,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (request) => `portal-address:${request.portal!.projectId}:${String(request.body?.email ?? '').trim().toLowerCase()}`,
    handler: (request, response) => response.status(429).send(signInPage(context(request), { tooMany: true })),
  });
  router.post('/sign-in', perIp, perAddress, async (request, response) => {
    const parsed = z.object({ email: z.email().max(320) }).safeParse({ email: String(request.body?.email ?? '').trim() });
    if (!parsed.success) {
      response.status(400).send(signInPage(context(request), { email: String(request.body?.email ?? '') }));
      return;
    }
    await requestSignInLinks({ sql, mailer, logger }, { projectId: request.portal!.projectId, email: parsed.data.email, portalUrl });
    response.send(signInPage(context(request), { sent: true }));
  });

  // The mailed link shows a button: opening the link alone (a mail scanner fetching it) uses nothing up.
  router.get('/link/:token', async (request, response) => {
    const token = String(request.params.token);
    const state = token.length <= 200 ? await checkSignInLink({ sql }, request.portal!.projectId, token) : 'UNKNOWN';
    if (state !== 'VALID') {
      response.status(403).send(signInPage(context(request), { linkRefused: true }));
      return;
    }
    response.send(linkPage(context(request), token));
  });
  router.post('/link', async (request, response) => {
    const token = String(request.body?.token ?? '').slice(0, 200);
    try {
      const session = await signInWithLink({ sql }, request.portal!.projectId, token);
      response.append('Set-Cookie', cookie(request, SESSION_COOKIE, session.secret, request.portal!.base, SESSION_SECONDS));
      response.redirect(303, `${request.portal!.base}/overview`);
    } catch (error) {
      if (!(error instanceof OperationError) || error.errorKey !== 'FORBIDDEN') throw error;
      response.status(403).send(signInPage(context(request), { linkRefused: true }));
    }
  });
  router.post('/sign-out', async (request, response) => {
    const session = request.portal!.signedIn;
    if (session) await signOut({ sql }, session.sessionId);
    response.append('Set-Cookie', cookie(request, SESSION_COOKIE, '', request.portal!.base, 0));
    response.redirect(303, `${request.portal!.base}/sign-in`);
  });

  // The customer's own pages
  router.get('/overview', async (request, response) => {
    const session = signedIn(request);
    response.send(overviewPage(context(request), await getOverview({ sql }, request.portal!.projectId, session.customer.id)));
  });
  router.get('/invoices', async (request, response) => {
    const session = signedIn(request);
    response.send(invoicesPage(context(request), await getOverview({ sql }, request.portal!.projectId, session.customer.id)));
  });
  const documentQuery = z.object({ format: z.enum(['pdf', 'xrechnung']).default('pdf') });
  for (const [segment, kind] of [
    ['invoices', 'INVOICE'],
    ['corrections', 'CORRECTION'],
  ] as const) {
    router.get(`/${segment}/:number/document`, async (request, response) => {
      const session = signedIn(request);
      const { format } = documentQuery.parse(request.query);
      const document = await renderOwnDocument({ sql }, request.portal!.projectId, session.customer, { kind, number: String(request.params.number), format });
      if (document.format === 'xrechnung') {
        response.type('application/xml').attachment(`${document.number}-xrechnung.xml`).send(document.content);
      } else {
        response.type('application/pdf').attachment(`${document.number}.pdf`).send(document.content);
      }
    });
  }

  router.get('/contracts/:contractNumber', async (request, response) => {
    const session = signedIn(request);
    const view = await getOwnContract({ sql }, request.portal!.projectId, session.customer, String(request.params.contractNumber));
    response.send(contractPage(context(request), view, { submissionKey: submissionKey(), paused: request.query.paused === '1' }));
  });
  router.post('/contracts/:contractNumber/pause', async (request, response) => {
    const session = signedIn(request);
    const contractNumber = String(request.params.contractNumber);
    const form = { from: String(request.body?.from ?? ''), until: String(request.body?.until ?? '') };
    const key = submissionKeyOf(request);
    const parsed = pauseSchema.safeParse(form);
    try {
      if (!parsed.success) throw parsed.error;
      await pauseOwnDelivery({ sql, temporal, logger }, { projectId: request.portal!.projectId, customer: session.customer, contractNumber, ...parsed.data, submissionKey: key });
    } catch (error) {
      if (error instanceof CommandDeadlineError) throw error;
      const refusal = toApiError(error);
      if (refusal.status >= 500 || refusal.status === 404) throw error;
      const view = await getOwnContract({ sql }, request.portal!.projectId, session.customer, contractNumber);
      response.status(refusal.status).send(contractPage(context(request), view, { submissionKey: key, ...form, errors: fieldErrors(refusal) }));
      return;
    }
    response.redirect(303, `${request.portal!.base}/contracts/${encodeURIComponent(contractNumber)}?paused=1#pause`);
  });

  // SEPA mandate
  const mandateView = async (request: Request, customer: SignedIn['customer']) => {
    let form: MandateForm | null = null;
    try {
      form = await getMandateForm({ sql }, request.portal!.projectId, customer);
    } catch (error) {
      if (!(error instanceof OperationError) || error.errorKey !== 'COMPANY_DETAILS_MISSING') throw error;
    }
    const overview = await getOverview({ sql }, request.portal!.projectId, customer.id);
    return { form, text: form ? mandateText(form, request.portal!.language) : null, current: overview.mandate };
  };
  router.get('/mandate', async (request, response) => {
    const session = signedIn(request);
    const view = await mandateView(request, session.customer);
    const signed = request.query.signed === '1' ? await latestSignature({ sql }, session.customer.id) : null;
    response.send(
      mandatePage(context(request), {
        ...view,
        signed,
        signedAt: signed ? await projectWallClock({ sql }, request.portal!.projectId, signed.signedAt) : null,
        submissionKey: submissionKey(),
        holder: session.customer.name,
      }),
    );
  });
  router.post('/mandate', async (request, response) => {
    const session = signedIn(request);
    const key = submissionKeyOf(request);
    const entered = { iban: String(request.body?.iban ?? ''), holder: String(request.body?.accountHolder ?? '') };
    const parsed = z.object({ iban: ibanSchema, accountHolder: z.string().trim().min(2).max(70) }).safeParse({ iban: entered.iban, accountHolder: entered.holder });
    try {
      if (!parsed.success) throw parsed.error;
      await signMandate(
        { sql },
        {
          projectId: request.portal!.projectId,
          customer: session.customer,
          iban: parsed.data.iban,
          accountHolder: parsed.data.accountHolder,
          language: request.portal!.language,
          ipAddress: request.ip ?? request.socket.remoteAddress ?? 'unknown',
          userAgent: request.header('user-agent')?.slice(0, 500) ?? null,
          submissionKey: key,
        },
      );
    } catch (error) {
      const refusal = toApiError(error);
      if (refusal.status >= 500) throw error;
      const view = await mandateView(request, session.customer);
      response.status(refusal.status).send(mandatePage(context(request), { ...view, signed: null, signedAt: null, submissionKey: key, ...entered, errors: fieldErrors(refusal) }));
      return;
    }
    response.redirect(303, `${request.portal!.base}/mandate?signed=1`);
  });

  // Kündigungsbutton (§ 312k BGB): no sign-in
  router.get('/kuendigen', (request, response) => {
    const customer = request.portal!.signedIn?.customer;
    response.send(
      cancelPage(context(request), {
        submissionKey: submissionKey(),
        values: customer ? { customerName: customer.name, email: customer.email ?? '', customerNumber: customer.customerNumber } : {},
      }),
    );
  });
  router.post('/kuendigen', async (request, response) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const values = Object.fromEntries(
      ['customerName', 'email', 'customerNumber', 'contractNumber', 'kind', 'requestedEndDate', 'reason'].map((name) => [name, String(body[name] ?? '').trim()]),
    ) as Record<keyof TerminationForm, string>;
    const key = submissionKeyOf(request);
    const parsed = terminationFormSchema.safeParse(values);
    if (!parsed.success) {
      response.status(400).send(cancelPage(context(request), { submissionKey: key, values, errors: fieldErrors(toApiError(parsed.error)) }));
      return;
    }
    const receipt = await submitTermination(
      { sql, temporal, logger, mailer },
      { projectId: request.portal!.projectId, submissionKey: key, form: parsed.data, ipAddress: request.ip ?? null, language: request.portal!.language },
    );
    response.send(cancelReceiptPage(context(request), receipt));
  });

  router.use((request, response) => {
    response.status(404).send(errorPage(context(request), TEXTS[request.portal!.language].errors.notFound));
  });
  router.use(portalErrors(deps));
  return router;
}

const optional = (schema: z.ZodType) => z.preprocess((value) => (value === '' ? null : value), schema.nullable());

const terminationFormSchema = z
  .object({
    customerName: z.string().min(2).max(200),
    email: optional(z.email().max(320)),
    customerNumber: optional(z.string().max(100)),
    contractNumber: z.string().min(1).max(100),
    kind: z.enum(['ORDINARY', 'EXTRAORDINARY']),
    requestedEndDate: optional(isoDateSchema),
    reason: optional(z.string().max(2000)),
  })
  .refine((form) => form.email !== null || form.customerNumber !== null, { path: ['email'], message: 'e-mail address or customer number needed' }) as z.ZodType<TerminationForm>;

function fieldErrors(error: { errors: FieldError[]; detail: string }): FieldError[] {
  return error.errors.length > 0 ? error.errors : [{ path: '', message: error.detail }];
}

/** A fresh key per form shown: posting the same form twice is one pause, one mandate, one termination. */
function submissionKey(): string {
  return randomBytes(18).toString('base64url');
}

function submissionKeyOf(request: Request): string {
  const key = String(request.body?.submission ?? '');
  if (!/^[\w-]{16,64}$/.test(key)) throw OperationError.invalid('submission', 'the form is incomplete; reload the page');
  return key;
}

/** German by default; the customer's locale once signed in; before that `?lang=en`, the form's choice, or the browser's first language. */
function languageFor(request: Request, signedIn: SignedIn | null): Language {
  if (signedIn) return languageOf(signedIn.customer.locale);
  const chosen = request.query.lang ?? (request.body as { lang?: unknown } | undefined)?.lang;
  if (chosen === 'en' || chosen === 'de') return chosen;
  return languageOf(request.header('accept-language')?.split(',')[0]);
}

function portalHeaders(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('Cache-Control', 'no-store');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.type('html');
  next();
}

/** Every POST carries the CSRF token of its page: the session's once signed in, else the one in the CSRF cookie. */
const requireCsrfToken: RequestHandler = (request, _response, next) => {
  const portal = request.portal!;
  const expected = portal.signedIn?.csrfToken ?? portal.anonymousCsrf;
  const given = String(request.body?._csrf ?? '');
  if (!expected || !equalSecrets(expected, given)) {
    next(new PortalCsrfRefused());
    return;
  }
  next();
};

function equalSecrets(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

class PortalCsrfRefused extends Error {}
class PortalSignInNeeded extends Error {}

function portalErrors({ logger }: ApiDependencies): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const portal = request.portal;
    const language = portal?.language ?? 'de';
    const t = TEXTS[language];
    const pageContext: PageContext = {
      base: portal?.base ?? `/portal/${String(request.params.project ?? '')}`,
      language,
      csrfToken: portal?.signedIn?.csrfToken ?? portal?.anonymousCsrf ?? '',
      customer: portal?.signedIn?.customer ?? null,
    };
    response.type('html');
    if (error instanceof PortalCsrfRefused) {
      response.status(403).send(errorPage(pageContext, t.errors.csrf));
      return;
    }
    if (error instanceof PortalSignInNeeded) {
      response.status(401).send(signInPage(pageContext));
      return;
    }
    if (error instanceof CommandDeadlineError) {
      response.status(503).send(errorPage(pageContext, t.errors.unavailable));
      return;
    }
    const refusal = toApiError(error);
    if (refusal.status === 404) {
      response.status(404).send(errorPage(pageContext, t.errors.notFound));
      return;
    }
    if (refusal.status >= 500) {
      const failure = error instanceof Error ? error : new Error(String(error));
      logger.error({ error: { type: failure.name, message: failure.message }, method: request.method, path: request.baseUrl }, 'portal request failed');
      response.status(refusal.status).send(errorPage(pageContext, refusal.status === 503 ? t.errors.unavailable : t.errors.internal));
      return;
    }
    response.status(refusal.status).send(errorPage(pageContext, refusal.detail, refusal.errors));
  };
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const name = part.slice(0, index).trim();
    if (!(name in cookies)) cookies[name] = part.slice(index + 1).trim();
  }
  return cookies;
}

/**
 * HttpOnly, SameSite=Lax, scoped to the project's pages, and Secure when the request came over TLS or the
 * customer center's public address is https (TLS ends at a proxy in front of the API).
 */
function cookie(request: Request, name: string, value: string, cookiePath: string, maxAgeSeconds: number | null): string {
  return [
    `${name}=${value}`,
    `Path=${cookiePath}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(request.secure || request.portalOverTls ? ['Secure'] : []),
    ...(maxAgeSeconds === null ? [] : [`Max-Age=${maxAgeSeconds}`]),
  ].join('; ');
}
