import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/http/errors.js';

// How an error that escaped a route is said to the client (src/http/errors.ts).
function validationError(context: string, validation: Array<Partial<FastifySchemaValidationError>>): FastifyError {
  return Object.assign(new Error('validation failed'), {
    code: 'FST_ERR_VALIDATION',
    statusCode: 400,
    validationContext: context,
    validation: validation.map((e) => ({ instancePath: '', schemaPath: '#', params: {}, message: 'x', ...e })),
  }) as unknown as FastifyError;
}

describe('classify', () => {
  it('lists the values of a union of literals, as Ajv reports it (each const, then the anyOf)', () => {
    const literal = (value: string, i: number) => ({
      keyword: 'const',
      instancePath: '/identifierName',
      schemaPath: `#/properties/identifierName/anyOf/${i}/const`,
      params: { allowedValue: value },
      message: 'must be equal to constant',
    });
    const error = validationError('querystring', [
      ...['mobile', 'email', 'externalId', 'id'].map(literal),
      {
        keyword: 'anyOf',
        instancePath: '/identifierName',
        schemaPath: '#/properties/identifierName/anyOf',
        message: 'must match a schema in anyOf',
      },
    ]);
    expect(classify(error)).toEqual([
      400,
      'Invalid querystring.identifierName: must be one of mobile, email, externalId, id',
    ]);
  });

  it('lists the values of an enum', () => {
    const error = validationError('body', [
      {
        keyword: 'enum',
        instancePath: '/type',
        schemaPath: '#/properties/type/enum',
        params: { allowedValues: ['EXTERNAL', 'SUPPLEMENTARY'] },
        message: 'must be equal to one of the allowed values',
      },
    ]);
    expect(classify(error)).toEqual([400, 'Invalid body.type: must be one of EXTERNAL, SUPPLEMENTARY']);
  });

  it("keeps Ajv's words for a union that is not only literals", () => {
    const error = validationError('body', [
      {
        keyword: 'const',
        instancePath: '/id',
        schemaPath: '#/properties/id/anyOf/0/const',
        message: 'must be equal to constant',
        params: { allowedValue: 'none' },
      },
      { keyword: 'type', instancePath: '/id', schemaPath: '#/properties/id/anyOf/1/type', message: 'must be integer' },
      {
        keyword: 'anyOf',
        instancePath: '/id',
        schemaPath: '#/properties/id/anyOf',
        message: 'must match a schema in anyOf',
      },
    ]);
    expect(classify(error)).toEqual([400, 'Invalid body.id: must be equal to constant']);
  });

  it('names a missing property in the path', () => {
    const error = validationError('querystring', [
      {
        keyword: 'required',
        params: { missingProperty: 'identifierValue' },
        message: "must have required property 'identifierValue'",
      },
    ]);
    expect(classify(error)).toEqual([400, 'Invalid querystring.identifierValue: is required']);
  });

  it("answers the router's refusals with 400, never 414", () => {
    const error = (code: string, statusCode: number, message: string) =>
      Object.assign(new Error(message), { code, statusCode }) as FastifyError;
    expect(classify(error('FST_ERR_BAD_URL', 400, "'/a/%zz' is not a valid url component"))).toEqual([
      400,
      "Malformed URL: '/a/%zz' is not a valid url component",
    ]);
    expect(classify(error('FST_ERR_MAX_PARAM_LENGTH', 414, 'too long'))).toEqual([
      400,
      'A path parameter is longer than 500 characters',
    ]);
  });
});
