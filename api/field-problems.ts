import type { ErrorRequestHandler } from 'express';
import { FieldProblemsError } from '../operations/field-problems';
import { ApiError, toApiError } from './errors';

/**
 * Answers an operation's refusal that names its fields itself with those fields as the problem document's
 * `errors`, and its own message as `detail`; every other error goes on unchanged. A router mounts it after
 * its routes. (toApiError maps an OperationError by its one path; once it reads `problems` too, this goes.)
 */
export const answerFieldProblems: ErrorRequestHandler = (error, _request, _response, next) => {
  if (!(error instanceof FieldProblemsError)) {
    next(error);
    return;
  }
  const answer = toApiError(error);
  next(new ApiError(answer.status, answer.errorKey, answer.detail, [...error.problems]));
};
