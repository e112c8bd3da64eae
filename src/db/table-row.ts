import type { Column, Table } from 'drizzle-orm';

/** drizzle's int8 columns (bigint, bigserial), which node-postgres returns as strings (src/db/int8.ts). */
type Int8ColumnType = 'PgBigInt53' | 'PgBigSerial53' | 'PgBigInt64' | 'PgBigSerial64';

type DriverValue<C extends Column> =
  | (C['_']['columnType'] extends Int8ColumnType ? string : C['_']['data'])
  | (C['_']['notNull'] extends true ? never : null);

/**
 * A row of `T` as raw SQL returns it: keyed by SQL column name (`last_seen_at`), each value the type node-postgres
 * parses it into, which is the schema's type except that int8 arrives as a string. Derived from the drizzle schema,
 * so a query's row type cannot drift from its table: `Pick<TableRow<typeof consumers>, 'pass' | 'ring_done'>`.
 */
export type TableRow<T extends Table> = {
  [K in keyof T['_']['columns'] as T['_']['columns'][K]['_']['name']]: DriverValue<T['_']['columns'][K]>;
};
