{#- The as-of day each attempt fact was last built for (audit.dbt_model_as_of): a run as of a
    past day (a backfill) leaves out what was loaded but happened later, and the next run must
    take those records in though no load is newer than the build. On-run-start creates the
    table; a post-hook of each fact records its day. -#}
{% macro create_model_as_of() -%}
    create schema if not exists audit;
    create table if not exists audit.dbt_model_as_of (
        model_name varchar primary key,
        as_of_date date not null,
        recorded_at timestamp not null
    );
{%- endmacro %}

{% macro record_model_as_of() -%}
    insert or replace into audit.dbt_model_as_of
    select '{{ this.identifier }}', {{ as_of_date() }}, get_current_timestamp() at time zone 'UTC'
{%- endmacro %}

{#- The day this model was last built as of; day 1900-01-01 when unknown (no row yet, a fact
    built before the table existed: its next run reads every record known by its as-of day,
    once; or no table, when compiled without the on-run-start hook). -#}
{% macro built_as_of() -%}
    {%- set missing = execute and is_incremental() and adapter.get_relation(
        database=this.database, schema='audit', identifier='dbt_model_as_of'
    ) is none -%}
    {%- if missing -%}
        date '1900-01-01'
    {%- else -%}
        coalesce(
            (
                select built.as_of_date from audit.dbt_model_as_of as built
                where built.model_name = '{{ this.identifier }}'
            ),
            date '1900-01-01'
        )
    {%- endif -%}
{%- endmacro %}
