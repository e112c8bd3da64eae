CREATE TABLE "set_aside_targets" (
	"consumer_id" text NOT NULL,
	"pass" integer NOT NULL,
	"address" "inet" NOT NULL,
	"set_aside_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "leases" DROP CONSTRAINT "leases_state_check";--> statement-breakpoint
ALTER TABLE "leases" ADD COLUMN "reissues" smallint[];--> statement-breakpoint
ALTER TABLE "set_aside_targets" ADD CONSTRAINT "set_aside_targets_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "set_aside_targets_consumer_pass_address_idx" ON "set_aside_targets" USING btree ("consumer_id","pass","address");--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_state_check" CHECK ("leases"."state" in ('open', 'done', 'reissued', 'set_aside'));