-- The manager's tables move to a schema of their own, so GET /dump carries none of their rows
-- (--exclude-table-data=manager.*): operators, sessions, keys, certificates, ACME, rate limits, dy.fi state and the
-- registered services' internal URLs are the deployment's secrets, not the map. Owned sequences and indexes move
-- with their tables.
CREATE SCHEMA IF NOT EXISTS "manager";
--> statement-breakpoint
ALTER TABLE "public"."users" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."manager_sessions" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."rate_limits" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."api_keys" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."registered_services" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."tls_certificates" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."acme_accounts" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."acme_challenges" SET SCHEMA "manager";
--> statement-breakpoint
ALTER TABLE "public"."ddns_state" SET SCHEMA "manager";
--> statement-breakpoint
-- Keys get a role (issue 17): the gateway's keys so far were all workers' keys.
ALTER TABLE "manager"."api_keys" RENAME COLUMN "scope" TO "role";
--> statement-breakpoint
ALTER TABLE "manager"."api_keys" ADD CONSTRAINT "api_keys_role_check" CHECK ("manager"."api_keys"."role" in ('worker', 'feeder', 'admin'));
