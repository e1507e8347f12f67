/**
 * Errors as RFC 9457 `application/problem+json`: one error handler maps validation failures (naming
 * the field), unknown workflows, rejected commands and everything else to a status and a one-line
 * detail. Nothing is written before validation passes, so a rejected request changes nothing.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { UnknownDefinitionError } from '../engine/engine.js';
import { ForkError } from '../operations/fork.js';
import { WorkflowNotFoundError } from '../saga/runtime/index.js';
import { InvalidWorkflowIdError } from '../saga/stream/index.js';
import { CommandRejectedError } from '../saga/triggers.js';
import { StreamNotFoundError, WrongExpectedVersionError } from '../store/errors.js';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export interface InvalidField {
  readonly field: string;
  readonly message: string;
}

export function sendProblem(reply: FastifyReply, status: number, detail: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title: titles[status] ?? 'Error', status, detail, instance: reply.request.url, ...extra });
}

/** A request the route itself finds wrong after schema validation (e.g. `since` after `until`). */
export class BadRequestError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'BadRequestError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A well-formed request the target cannot take (a start whose input lacks what the definition requires): 422 naming the fields. */
export class UnprocessableError extends Error {
  readonly fields: readonly string[];
  constructor(fields: string | readonly string[], readonly reason: string) {
    const list = typeof fields === 'string' ? [fields] : fields;
    super(list.map((field) => `${field}: ${reason}`).join('; '));
    this.name = 'UnprocessableError';
    this.fields = list;
  }
}

/** A route this server cannot serve as configured (starts and definitions under `cadenza serve`, which hosts no engine): 501. */
export class NotHostedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotHostedError';
  }
}

export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, `No route ${request.method} ${request.url.split('?')[0]}`));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const where = error.validationContext ?? 'request';
      const fields: InvalidField[] = error.validation.map((issue) => ({
        field: fieldName(where, issue.instancePath, issue.params),
        message: issue.message ?? 'is invalid',
      }));
      return sendProblem(reply, 400, fields.map((f) => `${f.field}: ${f.message}`).join('; '), { invalidFields: fields });
    }
    if (error instanceof BadRequestError) return sendProblem(reply, 400, error.message, { invalidFields: [{ field: error.field, message: error.message }] });
    if (error instanceof UnprocessableError) return sendProblem(reply, 422, error.message, { invalidFields: error.fields.map((field) => ({ field, message: error.reason })) });
    if (error instanceof NotHostedError) return sendProblem(reply, 501, error.message);
    if (error instanceof NotFoundError || error instanceof StreamNotFoundError || error instanceof WorkflowNotFoundError || error instanceof UnknownDefinitionError) {
      return sendProblem(reply, 404, error instanceof StreamNotFoundError ? `Unknown workflow (${error.message})` : error.message);
    }
    if (error instanceof InvalidWorkflowIdError) return sendProblem(reply, 400, error.message);
    if (error instanceof CommandRejectedError || error instanceof ForkError) return sendProblem(reply, 409, error.message);
    // Someone else moved the stream first (a fork onto an existing id, a command racing the runtime): ask again.
    if (error instanceof WrongExpectedVersionError) return sendProblem(reply, 409, `The workflow changed or already exists: ${error.message}`);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return sendProblem(reply, error.statusCode, error.message);
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, 500, 'The request failed on the server; see its log');
  });
}

/** `body.note`, `querystring.limit`: the place of the value, as a client would name it. */
function fieldName(where: string, instancePath: string | undefined, params: Record<string, unknown> | undefined): string {
  const path = (instancePath ?? '').split('/').filter((p) => p !== '');
  const missing = params?.missingProperty;
  if (typeof missing === 'string') path.push(missing);
  return [where, ...path].join('.');
}
