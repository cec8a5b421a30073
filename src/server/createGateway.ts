/**
 * The HTTP gateway: node:http with Apollo Server 5 on /graphql, file deliveries on
 * /datasets/{code}/deliveries, /healthz and /readyz. The served schema follows the published
 * catalog without a restart (Apollo's gateway interface hands it new schemas).
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener, type HTTPGraphQLResponse } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { Lexer, Source, TokenKind } from 'graphql';
import type { Logger } from 'pino';
import { accessViewFor, anonymousView, unrestrictedView, type AccessView } from '../access/accessPolicy';
import { AccessAudit } from '../audit/AccessAudit';
import { ROLES, type Principal, type Purpose, type Role } from '../auth/Principal';
import { handleDeliveryUpload } from '../delivery/handleDeliveryUpload';
import { GatewayError, GatewayErrorCode, UnauthenticatedError } from '../errors';
import { checkOperationLimits } from '../graphql/queryCost';
import { resolveDeliveryTarget } from '../graphql/static/CatalogResolver';
import { verifyBatch } from '../workflow/batchVerification';
import { plansCsv } from '../province/openCatalog';
import type { GatewayServices } from './GatewayServices';
import { accessRecordOf, accessRecordPlugin } from './accessRecordPlugin';
import { createJitExecutor } from './createJitExecutor';
import { errorLoggingPlugin, formatError, newErrorId } from './formatError';
import type { RecordWriteSlot, RequestContext } from './RequestContext';

export interface Gateway {
  server: http.Server;
  apollo: ApolloServer<RequestContext>;
  /** Starts listening; resolves to the bound URL of /graphql. */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish (grace period), closes the rest. */
  stop(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendJson(res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

/**
 * Who asks: a verified bearer token (any mode), or in development mode only the
 * X-Dev-Agency / X-Dev-Roles / X-Dev-Subject headers. A token that does not verify is a 401,
 * never a fallback to anonymous.
 * @throws UnauthenticatedError for a malformed or invalid Authorization header.
 */
async function authenticate(req: IncomingMessage, services: GatewayServices): Promise<(Principal & { purposeClaim?: string }) | null> {
  const auth = header(req, 'authorization');
  if (auth !== undefined) {
    const m = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/.exec(auth.trim());
    if (!m) throw new UnauthenticatedError('Authorization header must be "Bearer <JWT>"');
    return services.tokens.verify(m[1]);
  }
  if (services.config.mode !== 'development') return null;
  const agency = header(req, 'x-dev-agency');
  if (!agency) return null;
  if (!services.catalog.current()?.catalog.departments.some((d) => d.code === agency)) {
    throw new UnauthenticatedError(`X-Dev-Agency ${agency} is not a known department`);
  }
  const roles = (header(req, 'x-dev-roles') ?? 'consumer')
    .split(',')
    .map((r) => r.trim())
    .filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  return { agency, subject: header(req, 'x-dev-subject') ?? 'developer', roles, via: 'development' };
}

/** The declared purpose of use (R7): `X-Purpose: <code>` and optional `X-Purpose-Text` (URI-encoded). */
// Control characters (NUL above all: PostgreSQL text cannot hold it) have no place in a purpose.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Header values arrive as bytes read as Latin-1: anything but printable ASCII was not meant so.
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

function badPurpose(message: string): GatewayError {
  return new GatewayError(message, GatewayErrorCode.BAD_USER_INPUT, { status: 400 });
}

/**
 * The purpose a request declares: X-Purpose (its code) and X-Purpose-Text (percent-encoded
 * UTF-8), or else the token's `purpose` claim. A token issued for one purpose serves that
 * purpose only: an X-Purpose naming another is refused (403), as are purposes that could not be
 * recorded as given (400).
 */
function purposeFrom(req: IncomingMessage, claim: string | undefined): Purpose | null {
  const raw = header(req, 'x-purpose');
  const code = raw?.trim();
  if (!code) return claim ? { code: claim } : null;
  if (NOT_PRINTABLE_ASCII.test(code)) throw badPurpose('X-Purpose must be printable ASCII (a purpose code); give the text in X-Purpose-Text, percent-encoded');
  if (claim !== undefined && code !== claim) {
    throw new GatewayError(
      `this token was issued for purpose "${claim}" and cannot be used for purpose "${code}" (X-Purpose); ask the identity provider for a token for that purpose, or leave X-Purpose out`,
      GatewayErrorCode.FORBIDDEN,
      { status: 403 },
    );
  }
  let text: string | undefined;
  const rawText = header(req, 'x-purpose-text');
  if (rawText) {
    if (NOT_PRINTABLE_ASCII.test(rawText)) {
      throw badPurpose('X-Purpose-Text must be percent-encoded UTF-8 (encodeURIComponent), e.g. %E6%A0%B8%E9%AA%8C for 核验; raw bytes outside printable ASCII are refused');
    }
    try {
      text = decodeURIComponent(rawText);
    } catch {
      throw badPurpose('X-Purpose-Text must be percent-encoded UTF-8 (encodeURIComponent), e.g. %E6%A0%B8%E9%AA%8C for 核验');
    }
    if (CONTROL.test(text)) throw badPurpose('X-Purpose-Text must not contain control characters');
  }
  return { code, text };
}

/** limits.maxCost and the page sizes, before the operation runs (graphql/queryCost.ts). */
function operationLimitsPlugin(maxCost: number): ApolloServerPlugin<RequestContext> {
  const listener: GraphQLRequestListener<RequestContext> = {
    async didResolveOperation({ request, operation, document, schema }) {
      if (!operation) return;
      const problem = checkOperationLimits(schema, operation, document, request.variables, maxCost);
      if (!problem) return;
      throw new GatewayError(
        problem.kind === 'cost'
          ? `query cost ${problem.cost} exceeds the limit of ${maxCost} (limits.maxCost); each list counts with the rows it may return (first, else its default page size): ask for fewer rows or fields, or split the query`
          : `first must be between 0 and ${problem.max} (limits.maxPageSize) on ${problem.field}, got ${problem.first}`,
        GatewayErrorCode.BAD_USER_INPUT,
        { status: 400, extensions: problem.kind === 'pageSize' ? { argumentName: 'first' } : {} },
      );
    },
  };
  return { requestDidStart: async () => listener };
}

/** HTTP status of a request-level GatewayError on a non-GraphQL answer. */
const STATUS_BY_CODE: Partial<Record<string, number>> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };
function httpStatusOf(err: GatewayError): number {
  return (err.extensions.http as { status?: number } | undefined)?.status ?? STATUS_BY_CODE[err.code] ?? 400;
}

function bodyTooLarge(limit: number): GatewayError {
  return new GatewayError(`request body exceeds ${limit} bytes (server.maxRequestBytes)`, GatewayErrorCode.BAD_USER_INPUT, { status: 413 });
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(bodyTooLarge(limit));
  // Event-based rather than for-await: this runs on every request.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** True when a query has more than `max` lexical tokens (syntax errors are left to the parser). */
function tokenLimitExceeded(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    for (let t = lexer.advance(); t.kind !== TokenKind.EOF; t = lexer.advance()) if (++count > max) return true;
  } catch {
    return false;
  }
  return false;
}

export async function createGateway(services: GatewayServices): Promise<Gateway> {
  // Queries already counted (bounded): the same query strings come back on every request.
  const withinTokenLimit = new Set<string>();
  const { config, log } = services;
  let inflight = 0;
  const server = http.createServer();
  server.keepAliveTimeout = 65_000;

  const executor = createJitExecutor();
  // Apollo's gateway interface: the schema comes from the catalog runtime and follows it.
  const schemaGateway: GatewayInterface = {
    onSchemaLoadOrUpdate(callback) {
      const push = () => {
        const s = services.catalog.current();
        if (s) callback({ apiSchema: s.schema, coreSupergraphSdl: `catalog-version-${s.version}` });
      };
      push();
      return services.catalog.onChange(push);
    },
    async load() {
      return { schema: services.catalog.current()!.schema, executor };
    },
    async stop() {},
  };

  // Query shape limits, checked while validating (before anything executes); the error names
  // the limit. Field suggestions are hidden in production so the schema cannot be probed.
  const armor = new ApolloArmor({
    maxDepth: { n: config.limits.maxDepth, exposeLimits: true, flattenFragments: true },
    maxAliases: { n: config.limits.maxAliases, exposeLimits: true },
    // The cost (with variables and default page sizes) is checked once the operation is known:
    // operationLimitsPlugin, graphql/queryCost.ts.
    costLimit: { enabled: false },
    // The token limit is checked before Apollo (tokenLimitExceeded): armor's own check throws
    // from a parsing hook, which Apollo answers with 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: config.limits.maxDirectives, exposeLimits: true },
    blockFieldSuggestion: { enabled: config.mode === 'production' },
  }).protect();

  const apollo = new ApolloServer<RequestContext>({
    gateway: schemaGateway,
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    formatError,
    includeStacktraceInErrorResponses: false,
    // src/main.ts owns SIGTERM/SIGINT: drain, then close pools and the embedded database.
    stopOnTerminationSignals: false,
    introspection: config.server.introspection,
    logger: log.child({ component: 'apollo' }),
    plugins: [
      ...(armor.plugins as ApolloServerPlugin<RequestContext>[]),
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer: server, stopGracePeriodMillis: config.server.shutdownGraceMs }),
      errorLoggingPlugin(),
      operationLimitsPlugin(config.limits.maxCost),
      ...(config.access.enforce ? [accessRecordPlugin()] : []),
      ...(config.mode === 'production' ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  const unrestricted = unrestrictedView();
  const contextFor = (
    req: IncomingMessage,
    requestId: string,
    reqLog: () => Logger,
    principal: (Principal & { purposeClaim?: string }) | null,
  ): RequestContext => {
    const purpose = purposeFrom(req, principal?.purposeClaim);
    const loadView = (): Promise<AccessView> =>
      !config.access.enforce
        ? Promise.resolve(unrestricted)
        : principal
          ? accessViewFor(services.grants, services.catalog.current()!.catalog, principal, purpose)
          : Promise.resolve(anonymousView());
    return new GatewayRequestContext(requestId, principal, purpose, reqLog, services, loadView);
  };

  /** Per agency, the rate window (its number) whose first refusal has been recorded. */
  const rateRefusalRecorded = new Map<string, number>();
  /**
   * The access record of a request refused before any operation ran (rate limit, body too large,
   * not JSON, too many tokens, an unusable purpose): identified callers leave a record of every
   * attempt, refused ones too. The answer carries no data, so it goes out even if the record
   * cannot be written (that is logged).
   */
  const recordRefusal = async (
    principal: Principal | null,
    requestId: string,
    purpose: Purpose | null,
    req: IncomingMessage,
    pathname: string,
    errorCode: string,
    log: () => Logger,
  ): Promise<void> => {
    if (!principal || !config.access.enforce) return;
    const record = new AccessAudit().toRecord({
      at: new Date(),
      requestId,
      agency: principal.agency,
      subject: principal.subject,
      purposeCode: purpose?.code ?? null,
      purposeText: purpose?.text ?? null,
      operationType: null,
      operationName: null,
      operationHash: services.auditKeys.operationHash(`${req.method ?? ''} ${pathname}`),
      errorCodes: [errorCode],
    });
    await services.accessRecords.append(record).catch((err: unknown) => log().error({ err, errorCode }, 'access record of a refused request not written'));
  };
  const recordRefusalOf = (ctx: RequestContext, req: IncomingMessage, pathname: string, errorCode: string) =>
    recordRefusal(ctx.principal, ctx.requestId, ctx.purpose, req, pathname, errorCode, () => ctx.log);

  /** readBody, recording the refusal of a body that cannot be taken (too large, cut off). */
  const readBodyOf = async (ctx: RequestContext, req: IncomingMessage, pathname: string): Promise<string> => {
    try {
      return await readBody(req, config.server.maxRequestBytes);
    } catch (err) {
      if (err instanceof GatewayError) await recordRefusalOf(ctx, req, pathname, err.code);
      throw err;
    }
  };

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, url: { search: string }) => {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown = undefined;
    const refused = (code: string) => recordRefusalOf(ctx, req, '/graphql', code);
    if (req.method === 'POST') {
      const text = await readBodyOf(ctx, req, '/graphql');
      const type = headers.get('content-type') ?? '';
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          await refused('BAD_REQUEST');
          sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      } else {
        body = text;
      }
    }
    const query = req.method === 'GET' ? new URLSearchParams(url.search).get('query') : (body as { query?: unknown } | undefined)?.query;
    if (typeof query === 'string' && !withinTokenLimit.has(query)) {
      if (tokenLimitExceeded(query, config.limits.maxTokens)) {
        await refused('GRAPHQL_PARSE_FAILED');
        sendJson(res, 400, {
          errors: [{ message: `Syntax Error: Token limit of ${config.limits.maxTokens} exceeded (limits.maxTokens).`, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }],
        });
        return;
      }
      if (withinTokenLimit.size >= 1000) withinTokenLimit.clear();
      withinTokenLimit.add(query);
    }
    // The access-record plugin starts the record's write and leaves it here: it is waited for
    // once Apollo has serialized the response, and nothing is sent before it is committed.
    const recordWrite: RecordWriteSlot = {};
    ctx.recordWrite = recordWrite;
    let result: HTTPGraphQLResponse;
    let failure: Awaited<RecordWriteSlot['failed']> = null;
    try {
      result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method!.toUpperCase(), headers, search: url.search, body },
        context: async () => ctx,
      });
    } finally {
      // Even an unexpected failure is answered only once the record is settled.
      if (recordWrite.failed) failure = await recordWrite.failed;
    }
    if (failure) {
      // The record could not be written: its error answer instead of the data (logged by the
      // plugin), as JSON whatever the response would have been (a multipart one is dropped).
      if (result.body.kind === 'chunked') await result.body.asyncIterator.return?.();
      res.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(failure.body) });
      res.end(failure.body);
      return;
    }
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };

  const handleDelivery = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, code: string) => {
    // A GatewayError (no identity, another department, unknown dataset) is answered by the
    // request handler's catch with its HTTP status.
    const target = await resolveDeliveryTarget(ctx, code);
    await handleDeliveryUpload(req, res, {
      sql: services.sql,
      target,
      meta: { deliveredBy: `${ctx.principal!.agency}/${ctx.principal!.subject}`, requestId: ctx.requestId },
      limits: { maxReportedProblems: config.limits.maxReportedProblems, maxUploadBytes: config.limits.maxUploadBytes },
      rowAudit: services.rowAudit,
    });
  };

  /** POST /datasets/{code}/verifications (CSV in, CSV out; workflow/batchVerification.ts), recorded like any operation. */
  const handleBatchVerification = async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext, code: string) => {
    const body = await readBodyOf(ctx, req, `/datasets/${code}/verifications`);
    let csv: string | undefined;
    let failure: unknown;
    try {
      csv = await verifyBatch(ctx, code, body);
    } catch (err) {
      failure = err;
    }
    const errorCodes = failure ? [failure instanceof GatewayError ? failure.code : 'INTERNAL_SERVER_ERROR'] : [];
    if (ctx.principal && config.access.enforce) {
      // Written before the answer leaves; without it, no answer.
      await services.accessRecords.append(
        accessRecordOf(ctx, {
          operationType: 'batch-verification',
          operationName: code,
          operationHash: services.auditKeys.operationHash(`POST /datasets/${code}/verifications\n${body.length}`),
          errorCodes,
        }),
      ).catch((err: unknown) => {
        // As on the GraphQL path: the cause goes to the log, the caller gets an errorId.
        const errorId = newErrorId();
        ctx.log.error({ err, errorId }, 'access record not written: the verification result is withheld');
        throw new GatewayError(
          `the access record of this verification could not be written, so no result is returned; try again later (errorId ${errorId})`,
          GatewayErrorCode.SERVICE_UNAVAILABLE,
          { status: 503, extensions: { errorId } },
        );
      });
    }
    if (failure) throw failure;
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-length': Buffer.byteLength(csv!) });
    res.end(csv);
  };

  const ready = async (): Promise<{ ok: boolean; reason?: string }> => {
    if (!services.catalog.current()) return { ok: false, reason: 'catalog not loaded' };
    try {
      await Promise.race([
        services.sql`SELECT 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      return { ok: true };
    } catch {
      return { ok: false, reason: 'database unreachable' };
    }
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const given = header(req, 'x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    // The request's child logger is made on first use: most requests at level warn log nothing.
    let childLog: Logger | undefined;
    const reqLog = () => (childLog ??= log.child({ reqId: requestId }));
    const started = process.hrtime.bigint();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    // Plain string split: new URL() on every request costs more than the routing needs.
    const url = { pathname: q < 0 ? rawUrl : rawUrl.slice(0, q), search: q < 0 ? '' : rawUrl.slice(q) };
    inflight++;
    if (log.isLevelEnabled('debug')) reqLog().debug({ method: req.method, url: url.pathname }, 'request received');
    res.on('close', () => {
      inflight--;
      if (log.isLevelEnabled('info')) {
        reqLog().info({ method: req.method, url: url.pathname, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      }
    });
    const run = async () => {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/readyz') {
        const r = await ready();
        return sendJson(res, r.ok ? 200 : 503, r.ok ? { status: 'ready', catalogVersion: services.catalog.current()?.version } : { status: 'not ready', reason: r.reason });
      }
      const plan = /^\/open-plans\/(\d{4})\.(csv|json)$/.exec(url.pathname);
      if (plan && req.method === 'GET') {
        // Published plans are public information (R13): no identity needed.
        const plans = await services.prisma.openPlan.findMany({ where: { year: Number(plan[1]), status: 'PUBLISHED' }, orderBy: { agency: 'asc' } });
        if (plan[2] === 'json') return sendJson(res, 200, plans.map((p) => ({ agency: p.agency, year: p.year, items: p.items, publishedAt: p.publishedAt })));
        const csv = plansCsv(plans);
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-length': Buffer.byteLength(csv) });
        return res.end(csv);
      }
      const principal = await authenticate(req, services);
      const dataRoute = url.pathname === '/graphql' || url.pathname.startsWith('/datasets/');
      if (!principal && config.mode !== 'development' && dataRoute) {
        // Only development mode serves callers without a token (X-Dev-* headers).
        req.resume();
        return sendJson(
          res,
          401,
          { errors: [{ message: 'authentication required: send Authorization: Bearer <JWT> (production mode accepts no anonymous requests)', extensions: { code: 'UNAUTHENTICATED' } }] },
          { 'www-authenticate': 'Bearer' },
        );
      }
      // The rate limit first: every request of an identified caller counts, whatever it asks.
      if (principal && dataRoute) {
        const rate = await services.rateLimiter.check(principal.agency);
        if (!rate.allowed) {
          // The first refusal of an agency in each window is recorded; recording every one would
          // let a flood of refused requests fill the record (and wait for it) at no cost to it.
          const window = Math.floor(Date.now() / 1000 / rate.windowSeconds);
          if (rateRefusalRecorded.get(principal.agency) !== window) {
            rateRefusalRecorded.set(principal.agency, window);
            await recordRefusal(principal, requestId, null, req, url.pathname, 'RATE_LIMITED', reqLog);
          }
          req.resume();
          const message = `rate limit of ${rate.limit} requests per ${rate.windowSeconds} s for agency ${principal.agency} reached (all gateway processes together); retry after ${rate.retryAfterSeconds} s`;
          const body = url.pathname === '/graphql' ? { errors: [{ message, extensions: { code: 'RATE_LIMITED' } }] } : { error: { code: 'RATE_LIMITED', message } };
          return sendJson(res, 429, body, { 'retry-after': String(rate.retryAfterSeconds) });
        }
      }
      let ctx: RequestContext;
      try {
        ctx = contextFor(req, requestId, reqLog, principal);
      } catch (err) {
        // An unusable purpose: refused before anything runs, and recorded without one.
        if (err instanceof GatewayError && dataRoute) await recordRefusal(principal, requestId, null, req, url.pathname, err.code, reqLog);
        throw err;
      }
      if (url.pathname === '/graphql') return handleGraphQL(req, res, ctx, url);
      const v = /^\/datasets\/(.+)\/verifications$/.exec(url.pathname);
      if (v && req.method === 'POST') return handleBatchVerification(req, res, ctx, decodeURIComponent(v[1]));
      const m = /^\/datasets\/(.+)\/deliveries$/.exec(url.pathname);
      if (m && req.method === 'POST') return handleDelivery(req, res, ctx, decodeURIComponent(m[1]));
      return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
    };
    run().catch((err: unknown) => {
      if (err instanceof GatewayError) {
        // The rest of an unread body is discarded, and the connection closed after the answer.
        req.resume();
        if (!res.headersSent) {
          const status = httpStatusOf(err);
          // GraphQL clients get a GraphQL-shaped body; other routes a plain error object.
          const body = url.pathname === '/graphql' ? { errors: [{ message: err.message, extensions: { code: err.code } }] } : { error: { code: err.code, message: err.message } };
          sendJson(res, status, body, status === 401 ? { 'www-authenticate': 'Bearer' } : { connection: 'close' });
        }
        return;
      }
      const errorId = randomUUID().slice(0, 12);
      reqLog().error({ err, errorId }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: `Internal server error; quote errorId ${errorId}`, errorId } });
      else res.destroy();
    });
  });

  return {
    server,
    apollo,
    listen: (port = config.server.port, host = config.server.host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${host}:${a.port}/graphql`);
        });
      }),
    async stop() {
      log.info({ inflight }, 'stopping: draining in-flight requests');
      await apollo.stop(); // drains the HTTP server (ApolloServerPluginDrainHttpServer)
    },
  };
}

/**
 * The request context. A class, so that `log` is a getter on the prototype: Apollo
 * shallow-copies the context for each operation (own properties only), and a getter among them
 * would be called by the copy, making the request's child logger even when nothing is logged.
 */
class GatewayRequestContext implements RequestContext {
  accessView?: AccessView;
  readonly audit = new AccessAudit();
  private view?: Promise<AccessView>;

  constructor(
    readonly requestId: string,
    readonly principal: Principal | null,
    readonly purpose: Purpose | null,
    private readonly reqLog: () => Logger,
    readonly services: GatewayServices,
    private readonly loadView: () => Promise<AccessView>,
  ) {}

  get log(): Logger {
    return this.reqLog();
  }

  access(): Promise<AccessView> {
    this.view ??= this.loadView().then((v) => (this.accessView = v));
    return this.view;
  }
}
