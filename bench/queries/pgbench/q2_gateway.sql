-- The gateway's single SQL statement for Q2 (captured with log_min_duration_statement=0 on
-- hzgw_bench), as a pgbench script: the database's own limit for the gateway's Q2 strategy, to
-- set next to the shared queries/pgbench/q2_postgraphile.sql. Run against the loaded bench db:
--   PGDATABASE=hzgw_bench ../shared/bench/pgbench.sh -c 10 bench/queries/pgbench/q2_gateway.sql
\set d random(1, 16)
SELECT coalesce(json_agg(json_build_object('uscc', t0."uscc", 'name', t0."name", 'legalRepresentative', t0."legal_representative",
  'status', t0."status", 'establishedOn', t0."established_on",
  '__r_licenses', (SELECT coalesce(json_agg(json_build_object('licenseNo', t1."license_no", 'licenseType', t1."license_type",
      'issuingAuthority', t1."issuing_authority", 'validUntil', t1."valid_until", 'status', t1."status") ORDER BY t1."license_no"), '[]'::json)
    FROM (SELECT * FROM "ds"."enterprise_license" t1 WHERE t1."uscc" = t0."uscc" ORDER BY t1."license_no" LIMIT 100) t1))
  ORDER BY t0."uscc"), '[]'::json)::text AS d
FROM (SELECT * FROM "ds"."enterprise" t0
      WHERE t0."district" = (ARRAY['东城区','西城区','朝阳区','丰台区','石景山区','海淀区','门头沟区','房山区','通州区','顺义区','昌平区','大兴区','怀柔区','平谷区','密云区','延庆区'])[:d]::text
      ORDER BY t0."uscc" LIMIT 51) t0;
