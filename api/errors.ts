import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z, ZodError } from 'zod';
import { BillingError } from '../billing/errors';
import type { Logger } from '../config/logger';
import { OperationError, type OperationErrorKind } from '../operations/errors';

/** Stable error keys of the public API (the OpenAPI document lists them); clients branch on these, never on text. */
export const ERROR_KEYS = [
  'INCORRECT_INPUT_DATA',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'CONFLICT',
  'CREDIT_LIMIT_EXCEEDED',
  'NO_PRICE_FOUND',
  'UNIT_MISMATCH',
  'NO_TAX_RATE',
  'INVOICE_ALREADY_CANCELLED',
  'COMPANY_DETAILS_MISSING',
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorKey = (typeof ERROR_KEYS)[number];

/** The problem document every error answer carries (RFC 9457), as the OpenAPI document describes it. */
export const problemSchema = z
  .object({
    type: z.string().meta({ examples: ['https://kontor.dev/problems/incorrect-input-data'] }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    errorKey: z.enum(ERROR_KEYS),
    errors: z
      .array(z.object({ path: z.string().meta({ description: 'the field, dotted: billingAddress.country, subscription.0.quantity' }), message: z.string() }))
      .optional()
      .meta({ description: 'present for refused input: every field that is wrong, with why' }),
  })
  .meta({ description: 'RFC 9457 problem details with a stable errorKey' });

export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorKey: ErrorKey,
    readonly detail: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(detail);
    this.name = 'ApiError';
  }

  static notFound(what: string): ApiError {
    return new ApiError(404, 'NOT_FOUND', `${what} not found`);
  }

  static invalid(path: string, message: string): ApiError {
    return new ApiError(400, 'INCORRECT_INPUT_DATA', `${path}: ${message}`, [{ path, message }]);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  500: 'Internal Server Error',
};

const BILLING_ERROR_STATUS: Record<BillingError['code'], number> = {
  NO_PRICE_FOUND: 422,
  UNIT_MISMATCH: 422,
  NO_TAX_RATE: 422,
  INCORRECT_INPUT_DATA: 400,
};

const OPERATION_ERROR_STATUS: Record<OperationErrorKind, number> = { INVALID: 400, UNPROCESSABLE: 422, NOT_FOUND: 404, CONFLICT: 409 };

/** Turns every error into one RFC 9457 problem document. Unknown errors are 500 without internals. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ZodError) {
    const errors = error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
    const detail = errors.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    return new ApiError(400, 'INCORRECT_INPUT_DATA', detail, errors);
  }
  if (error instanceof OperationError) {
    const errorKey = (ERROR_KEYS as readonly string[]).includes(error.errorKey) ? (error.errorKey as ErrorKey) : 'INCORRECT_INPUT_DATA';
    return new ApiError(OPERATION_ERROR_STATUS[error.kind], errorKey, error.message, error.problems);
  }
  if (error instanceof BillingError) {
    const path = typeof error.details.path === 'string' ? error.details.path : undefined;
    return new ApiError(BILLING_ERROR_STATUS[error.code], error.code, error.message, path ? [{ path, message: error.message }] : []);
  }
  if (error instanceof WorkflowUpdateFailedError) return fromWorkflowFailure(error);
  if (error instanceof WorkflowNotFoundError) {
    return new ApiError(409, 'CONFLICT', 'the contract is no longer running; commands are only accepted while it runs');
  }
  if (isBodyParserError(error)) {
    if (error.type === 'entity.too.large') return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
    if (error.type === 'charset.unsupported' || error.type === 'encoding.unsupported') {
      return new ApiError(415, 'INCORRECT_INPUT_DATA', 'request body must be UTF-8', [{ path: '(body)', message: 'must be UTF-8' }]);
    }
    return ApiError.invalid('(body)', 'is not valid JSON; send an object with content-type application/json');
  }
  // The router could not percent-decode a path segment (`/Customers/%zz`).
  if (error instanceof URIError) return ApiError.invalid('(url)', 'contains a malformed percent-encoding');
  return new ApiError(500, 'INTERNAL_ERROR', 'internal error');
}

const KNOWN_KEYS = new Set<string>(['INCORRECT_INPUT_DATA', 'NOT_FOUND', 'CONFLICT', 'CREDIT_LIMIT_EXCEEDED', 'NO_PRICE_FOUND', 'UNIT_MISMATCH', 'NO_TAX_RATE', 'INVOICE_ALREADY_CANCELLED']);
const STATUS_OF_KEY: Record<string, number> = { NOT_FOUND: 404, CONFLICT: 409, INVOICE_ALREADY_CANCELLED: 409, NO_PRICE_FOUND: 422, UNIT_MISMATCH: 422, NO_TAX_RATE: 422, CREDIT_LIMIT_EXCEEDED: 422 };

/**
 * A command the contract workflow refused: its validator threw (bad input, never in history), or the
 * command's activity failed with a typed, non-retryable failure. The innermost typed failure decides.
 */
function fromWorkflowFailure(error: WorkflowUpdateFailedError): ApiError {
  let failure: unknown = error.cause;
  let typed: ApplicationFailure | undefined;
  while (failure instanceof TemporalFailure) {
    if (failure instanceof ApplicationFailure && failure.type && KNOWN_KEYS.has(failure.type)) typed = failure;
    failure = failure.cause;
  }
  const innermost = typed ?? (error.cause instanceof ApplicationFailure ? error.cause : undefined);
  if (!innermost) return new ApiError(500, 'INTERNAL_ERROR', 'internal error');
  const errorKey = (innermost.type && KNOWN_KEYS.has(innermost.type) ? innermost.type : 'INCORRECT_INPUT_DATA') as ErrorKey;
  const message = innermost.message;
  const details = (innermost.details?.[0] ?? {}) as { path?: unknown };
  const path = typeof details.path === 'string' ? details.path : /^([\w.]+): /.exec(message)?.[1];
  return new ApiError(STATUS_OF_KEY[errorKey] ?? 400, errorKey, message, path ? [{ path, message }] : []);
}

function isBodyParserError(error: unknown): error is { type: string; status: number } {
  return typeof error === 'object' && error !== null && 'type' in error && 'status' in error && typeof (error as { type: unknown }).type === 'string';
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, request, response, _next) => {
    const apiError = toApiError(error);
    // Refused input always says where: a refusal that names no field points at the request as a whole.
    const errors =
      apiError.errors.length === 0 && apiError.errorKey === 'INCORRECT_INPUT_DATA' ? [{ path: '(request)', message: apiError.detail }] : apiError.errors;
    if (apiError.status >= 500) {
      // what went wrong and where in the request, never a stack, SQL text or query parameters (they may
      // carry customer data); the Postgres error code says which constraint or syntax failed
      const failure = error instanceof Error ? error : new Error(String(error));
      const code = (failure as { code?: unknown }).code;
      logger.error(
        { error: { type: failure.name, message: failure.message, ...(typeof code === 'string' ? { code } : {}) }, method: request.method, path: request.path },
        'request failed',
      );
    }
    response
      .status(apiError.status)
      .type('application/problem+json')
      .json({
        type: `https://kontor.dev/problems/${apiError.errorKey.toLowerCase().replaceAll('_', '-')}`,
        title: TITLES[apiError.status] ?? 'Error',
        status: apiError.status,
        detail: apiError.detail,
        errorKey: apiError.errorKey,
        ...(errors.length > 0 ? { errors } : {}),
      });
  };
}

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new ApiError(404, 'NOT_FOUND', `no route for ${request.method} ${request.path}`));
};
