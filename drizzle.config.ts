import { defineConfig } from 'drizzle-kit';

// drizzle-kit generates migrations/ from the schema; `hopmap migrate` applies them. DATABASE_URL is only
// needed by drizzle-kit's own push/studio commands, never by generate.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  strict: true,
  verbose: true,
});
