{#- Where an incremental model last took in the loads: the latest loaded_at of the event tables
    when the model was last built (nothing writes them while dbt runs). A statement or attempt
    loaded since then may fall on a day already built: late telemetry, a record released from
    quarantine, an attempt's graded version arriving after its day. The model then rebuilds
    from that day, not only from its latest day built. -#}

{% macro create_model_watermarks() -%}
    create schema if not exists audit;
    create table if not exists audit.dbt_model_watermarks (
        model_name varchar primary key,
        loaded_through timestamp,
        recorded_at timestamp not null
    );
{%- endmacro %}

{#- A post-hook of each model that calls rebuild_since: it has taken in every load so far. -#}
{% macro record_model_watermark() -%}
    insert or replace into audit.dbt_model_watermarks
    select
        '{{ this.identifier }}',
        greatest(
            (select max(loaded_at) from {{ source('raw', 'xapi_statements') }}),
            (select max(loaded_at) from {{ source('raw', 'assessment_attempts') }})
        ),
        get_current_timestamp() at time zone 'UTC'
{%- endmacro %}

{#- The earliest day (`day_expression`) of the rows of `relation` loaded after this model's
    watermark, or NULL: then nothing late has landed (least() and greatest() skip a NULL). No
    watermark yet (a model built before it existed): NULL, and the model builds from its latest
    day as it did. No watermark table (a warehouse never built since, compiled by `dbt compile`
    or `dbt docs generate`, which run no on-run-start hook): NULL as well. -#}
{% macro first_late_day(relation, day_expression) -%}
    {#- only an incremental run reads it (in a unit test, `this` is no relation) -#}
    {%- set missing = execute and is_incremental() and adapter.get_relation(
        database=this.database, schema='audit', identifier='dbt_model_watermarks'
    ) is none -%}
    {%- if missing -%}
        cast(null as date)
    {%- else -%}
    (
        select min({{ day_expression }})
        from {{ relation }}
        where loaded_at > (
            select watermark.loaded_through
            from audit.dbt_model_watermarks as watermark
            where watermark.model_name = '{{ this.identifier }}'
        )
    )
    {%- endif -%}
{%- endmacro %}

{#- The incremental strategy `replace_covered`: delete+insert where a new row also replaces the
    old rows of its key whose start lies within its span (config `span`: the key, start and end
    columns). A late day can join two runs of active days; the later run's start is then no key
    of the new rows, and plain delete+insert would keep it. -#}
{% macro get_incremental_replace_covered_sql(arg_dict) -%}
    {%- set key, span_start, span_end = config.require('span') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }} as old
    using {{ arg_dict['temp_relation'] }} as new
    where
        old.{{ key }} = new.{{ key }}
        and old.{{ span_start }} between new.{{ span_start }} and new.{{ span_end }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#- Whether a statement this model may have counted was voided since its last build (its
    loaded_at moves to the voiding's load). A voiding can empty a learner-day, or take back a
    module's only completion: keys no rebuild from a day can delete. Voidings are rare, so the
    model is then rebuilt whole (`rebuild_since` reads from the start, and the pre-hook
    `clear_when_voided` empties it inside the model's transaction). -#}
{% macro voided_since_last_build() -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- if adapter.get_relation(
        database=this.database, schema='audit', identifier='dbt_model_watermarks'
    ) is none -%}
        {{- return(false) -}}
    {%- endif -%}
    {%- set voided = run_query(
        "select count(*) from " ~ source('raw', 'xapi_statements')
        ~ " where voided_by is not null and loaded_at > (select loaded_through"
        ~ " from audit.dbt_model_watermarks where model_name = '" ~ this.identifier ~ "')"
    ).columns[0].values()[0] -%}
    {{- return(voided > 0) -}}
{%- endmacro %}

{% macro clear_when_voided() -%}
    {%- if voided_since_last_build() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The day (or week, `grain='week'`) an incremental run rebuilds from: the latest one built
    (`built_column` of the model), or the first one of the statements loaded since its last
    build, and with `attempts_day` of the attempts too, when that is earlier. Evaluated once
    before the model runs and written into its SQL as a literal: inlined, its scalar
    subqueries would run again wherever the model filters on it. Outside an incremental run,
    the expression itself (parsing still sees its refs). -#}
{% macro rebuild_since(built_column, attempts_day=none, grain='day') -%}
    {%- set late = [first_late_day(ref('stg_xapi__statements'), 'activity_date')] -%}
    {%- if attempts_day -%}
        {%- do late.append(
            first_late_day(ref('stg_assessment_attempts__attempts'), attempts_day)
        ) -%}
    {%- endif -%}
    {#- an empty model (built as of a day before its first record) builds from the start -#}
    {%- set starts = [
        "coalesce((select max(built." ~ built_column ~ ") from " ~ this ~ " as built),"
        ~ " date '1900-01-01')"
    ] -%}
    {%- for day in late -%}
        {%- do starts.append("date_trunc('week', " ~ day ~ ")" if grain == 'week' else day) -%}
    {%- endfor -%}
    {%- set expression = 'least(' ~ starts | join(', ') ~ ')' -%}
    {%- if voided_since_last_build() -%}
        date '1900-01-01'
    {%- elif execute and is_incremental() -%}
        {%- set day = run_query(
            "select strftime(" ~ expression ~ ", '%Y-%m-%d')"
        ).columns[0].values()[0] -%}
        {{- "cast(null as date)" if day is none else "date '" ~ day ~ "'" -}}
    {%- else -%}
        ({{ expression }})
    {%- endif -%}
{%- endmacro %}
