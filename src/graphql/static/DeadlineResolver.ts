import 'reflect-metadata';
import { Arg, Ctx, Field, GraphQLISODateTime, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { calendarGap, deadlineOverview } from '../../workflow/deadlines';
import { saveHolidayYear } from '../../workflow/calendarStore';
import type { RequestContext } from '../../server/RequestContext';
import { GraphQLJSONObject } from './catalogTypes';
import { actorOf, authorityOf } from './actor';

@ObjectType({ description: 'A message to your department: a deadline reminder or escalation.' })
class NotificationInfo {
  @Field(() => String) id!: string;
  @Field(() => String, { description: 'REMINDER or ESCALATION' }) kind!: string;
  @Field(() => String) subjectType!: string;
  @Field(() => Int) subjectId!: number;
  @Field(() => GraphQLISODateTime) dueAt!: Date;
  @Field(() => String) message!: string;
  @Field(() => GraphQLISODateTime) createdAt!: Date;
}

@ObjectType({ description: 'What one department owes: open obligations, due within 24 h, overdue.' })
class DepartmentDeadlinesInfo {
  @Field(() => String) department!: string;
  @Field(() => Int) open!: number;
  @Field(() => Int) dueSoon!: number;
  @Field(() => Int) overdue!: number;
  @Field(() => GraphQLISODateTime, { nullable: true }) nextDue!: Date | null;
}

/** Deadlines (issue 4, item 6): workflow/deadlines.ts, run by jobs/createJobs.ts. */
@Resolver()
export class DeadlineResolver {
  @Query(() => [NotificationInfo], { description: 'Reminders and escalations addressed to your department, newest first.' })
  async notifications(@Ctx() ctx: RequestContext, @Arg('limit', () => Int, { nullable: true }) limit?: number | null): Promise<NotificationInfo[]> {
    const a = actorOf(ctx);
    const rows = await ctx.services.prisma.notification.findMany({ where: { department: a.agency }, orderBy: { id: 'desc' }, take: Math.min(Math.max(limit ?? 100, 1), 1000) });
    return rows.map((n) => ({ ...n, id: n.id.toString() }));
  }

  @Query(() => [DepartmentDeadlinesInfo], { description: 'The data authority’s overview of everything due and overdue, by department. Needs the authority role.' })
  async deadlineOverview(@Ctx() ctx: RequestContext): Promise<DepartmentDeadlinesInfo[]> {
    authorityOf(ctx, 'the deadline overview is for the data authority');
    return deadlineOverview(ctx.services.sql);
  }
}

@ObjectType({ description: 'The working-day calendar in force.' })
class CalendarStatusInfo {
  @Field(() => [Int], { description: 'Years whose holiday schedule is loaded' }) years!: number[];
  @Field(() => String, { nullable: true, description: 'Set when a schedule the deadlines need is missing (deadlines are then provisional)' }) warning!: string | null;
}

@ObjectType()
class HolidayYearLoadedInfo {
  @Field(() => Int) year!: number;
  @Field(() => Int, { description: 'Open deadlines whose due date changed' }) recomputed!: number;
}

/** The working-day calendar (issue 4, item 1): workflow/calendarStore.ts. */
@Resolver()
export class CalendarResolver {
  @Query(() => CalendarStatusInfo, { description: 'Loaded holiday schedules, and a warning when one that deadlines need is missing.' })
  calendarStatus(@Ctx() ctx: RequestContext): CalendarStatusInfo {
    const gap = calendarGap(ctx.services.calendar, new Date());
    return { years: ctx.services.calendar.years, warning: gap?.message ?? null };
  }

  @Mutation(() => HolidayYearLoadedInfo, {
    description:
      'The data authority loads (or replaces) a newly announced year’s schedule (国务院办公厅 notice, holiday-cn format: { year, papers, days: [{ name, date, isOffDay }] }); open deadlines are recomputed at once, on every gateway. Needs the authority role.',
  })
  async loadHolidayYear(@Ctx() ctx: RequestContext, @Arg('schedule', () => GraphQLJSONObject) schedule: Record<string, unknown>): Promise<HolidayYearLoadedInfo> {
    const a = authorityOf(ctx, 'holiday schedules are loaded by the data authority');
    const r = await saveHolidayYear(ctx.services.sql, ctx.services.calendar, schedule, `${a.agency}/${a.subject}`);
    ctx.services.calendar = r.calendar;
    return { year: Number(schedule.year), recomputed: r.recomputed };
  }
}
