import type { Request, RequestHandler, Response } from 'express';

/** Told of every answered request: how it ended and how many milliseconds since the API took it in. */
export type AnswerObserver = (request: Request, response: Response, durationMs: number) => void;

/**
 * Tells each observer of every request once its answer is handed to the operating system ('finish'), through
 * one listener per request however many observers there are. A request whose connection closes before its
 * answer is finished is not observed: there is no answer to tell of.
 */
export function observeAnswers(...observers: AnswerObserver[]): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      const durationMs = performance.now() - started;
      for (const observe of observers) observe(request, response, durationMs);
    });
    next();
  };
}
