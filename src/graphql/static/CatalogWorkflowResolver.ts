import 'reflect-metadata';
import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Catalog } from '../../catalog/Catalog';
import {
  draftDatasetVersion,
  listDatasetVersions,
  retireDataset,
  reviewDatasetVersion,
  submitDatasetVersion,
  type CatalogWorkflowOptions,
  type DatasetVersionRecord,
} from '../../catalog/catalogWorkflow';
import { UnauthenticatedError } from '../../errors';
import type { RequestContext } from '../../server/RequestContext';
// buildGatewaySchema lists this resolver; the import cycle is harmless because both sides
// only use each other when called, never while their modules load.
import { buildGatewaySchema } from '../buildGatewaySchema';
import type { DatasetRowSource } from '../buildDatasetSchema';
import { DatasetStatusGql, DatasetVersionInfo } from './catalogTypes';
import { actorOf } from './actor';

/**
 * The catalog edited through the API (R1, R4): a source department's `catalog_editor` drafts
 * and submits versions of its entries; the data authority's `authority` approves (publishes),
 * rejects or retires them. Every version is kept (`datasetVersions`). Rules and errors are
 * those of `catalog/catalogWorkflow.ts`; this class only checks who calls and refreshes the
 * served schema after a publication (other gateways follow through NOTIFY).
 */
@Resolver()
export class CatalogWorkflowResolver {
  @Mutation(() => DatasetVersionInfo, {
    description:
      'Drafts a version of one catalog entry of your department (R1, R4): `sdl` holds one dataset type (`type X @dataset(...) { ... }`) in the catalog directives. Every problem is listed in extensions.problems. Needs the catalog_editor role.',
  })
  async draftDatasetVersion(
    @Ctx() ctx: RequestContext,
    @Arg('sdl', () => String, { description: 'One dataset type in catalog SDL' }) sdl: string,
  ): Promise<DatasetVersionInfo> {
    const actor = actorOf(ctx, 'catalog_editor', 'drafting a catalog entry');
    // Validated against the newest published catalog (refresh only reloads when it changed).
    const { catalog } = await ctx.services.catalog.refresh();
    return toInfo(await draftDatasetVersion(ctx.services, actor, sdl, catalog, workflowOptions(ctx)));
  }

  @Mutation(() => DatasetVersionInfo, {
    description: 'Submits a DRAFT version of your department’s entry to the data authority for review (R1). Needs the catalog_editor role.',
  })
  async submitDatasetVersion(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String, { description: '信息资源代码' }) code: string,
    @Arg('version', () => Int) version: number,
  ): Promise<DatasetVersionInfo> {
    const actor = actorOf(ctx, 'catalog_editor', 'submitting a catalog entry');
    return toInfo(await submitDatasetVersion(ctx.services, actor, code, version));
  }

  @Mutation(() => DatasetVersionInfo, {
    description:
      'The data authority’s review of a version IN_REVIEW (R1): approve publishes it for the whole city (the previous version is superseded, R4); reject needs a comment. Needs the authority role.',
  })
  async reviewDatasetVersion(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String, { description: '信息资源代码' }) code: string,
    @Arg('version', () => Int) version: number,
    @Arg('approve', () => Boolean) approve: boolean,
    @Arg('comment', () => String, { nullable: true, description: 'Required when rejecting: the reason the department is told' })
    comment?: string | null,
  ): Promise<DatasetVersionInfo> {
    const actor = actorOf(ctx, 'authority', 'reviewing a catalog entry');
    const record = await reviewDatasetVersion(ctx.services, actor, code, version, approve ? 'APPROVE' : 'REJECT', comment, workflowOptions(ctx));
    if (approve) await refreshCatalog(ctx);
    return toInfo(record);
  }

  @Mutation(() => DatasetVersionInfo, {
    description: 'Retires a published catalog entry (R4): it leaves the served schema, its rows stay. Needs the authority role.',
  })
  async retireDataset(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String, { description: '信息资源代码' }) code: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<DatasetVersionInfo> {
    const actor = actorOf(ctx, 'authority', 'retiring a catalog entry');
    const record = await retireDataset(ctx.services, actor, code, reason, workflowOptions(ctx));
    await refreshCatalog(ctx);
    return toInfo(record);
  }

  @Query(() => [DatasetVersionInfo], { description: 'Every version of a catalog entry, oldest first, with who did what and when (R4).' })
  async datasetVersions(
    @Ctx() ctx: RequestContext,
    @Arg('code', () => String, { description: '信息资源代码' }) code: string,
  ): Promise<DatasetVersionInfo[]> {
    if (!ctx.principal) throw new UnauthenticatedError('the catalog history needs an identified caller');
    return (await listDatasetVersions(ctx.services, code)).map(toInfo);
  }
}

/** The published catalog must still build into the served schema, or every gateway would stay on the old one. */
function workflowOptions(ctx: RequestContext): CatalogWorkflowOptions {
  const { config } = ctx.services;
  return {
    resourceCodePattern: new RegExp(config.catalog.resourceCodePattern),
    assertServable: (catalog: Catalog) => {
      buildGatewaySchema(catalog, { defaultPageSize: config.limits.defaultPageSize, maxPageSize: config.limits.maxPageSize, source: unusedRowSource });
    },
  };
}

/** The schema built by assertServable is thrown away; its resolvers never run. */
const unusedRowSource: DatasetRowSource = {
  lookup: () => Promise.reject(new Error('validation schema serves no rows')),
  list: () => Promise.reject(new Error('validation schema serves no rows')),
};

/**
 * Serves the new catalog from this process at once. The publication is committed already, so
 * a failed reload is logged, not reported as a failed mutation; the poll retries it.
 */
async function refreshCatalog(ctx: RequestContext): Promise<void> {
  try {
    await ctx.services.catalog.refresh();
  } catch (err) {
    ctx.log.error({ err }, 'catalog reload after a publication failed');
  }
}

function toInfo(r: DatasetVersionRecord): DatasetVersionInfo {
  return {
    code: r.code,
    version: r.version,
    status: DatasetStatusGql[r.status],
    name: r.name,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    submittedBy: r.submittedBy,
    reviewedBy: r.reviewedBy,
    reviewComment: r.reviewComment,
    publishedAt: r.publishedAt?.toISOString() ?? null,
  };
}
