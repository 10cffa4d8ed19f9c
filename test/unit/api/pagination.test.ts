import { encodeCursor } from '../../../api/pagination';
import { listActivitiesSchema } from '../../../api/routes/activities';
import { paginationSchema } from '../../../api/schemas';

describe('list cursors', () => {
  test('an id list takes back the cursor it handed out', () => {
    expect(paginationSchema.parse({ cursor: encodeCursor('42') })).toEqual({ limit: 50, afterId: '42' });
  });

  test.each([
    ['base64 of a word', 'ca'],
    ['an activity cursor on an id list', encodeCursor('2026-01-01|7')],
    ['an id beyond bigint', encodeCursor('1'.repeat(19))],
    ['not base64url', 'a+b/'],
  ])('an id list refuses %s as a cursor, before any query sees it', (_case, cursor) => {
    const parsed = paginationSchema.safeParse({ cursor });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['cursor']);
  });

  test('the activities list takes period start and id, and refuses a bare id', () => {
    expect(listActivitiesSchema.parse({ cursor: encodeCursor('2026-01-01|7') }).after).toEqual({ periodStart: '2026-01-01', id: '7' });
    expect(listActivitiesSchema.safeParse({ cursor: encodeCursor('7') }).success).toBe(false);
  });
});
