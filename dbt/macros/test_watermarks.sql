{#- Where a unique_since_last_pass test last passed: for each test (its model and column), the
    latest loaded_at it had checked. Written by the on-run-end hook, only for tests that ran and
    passed; read by the test to check only the rows loaded since. -#}

{% macro create_test_watermarks() -%}
    create schema if not exists audit;
    create table if not exists audit.dbt_test_watermarks (
        test_key varchar not null,
        tested_through timestamp not null,
        recorded_at timestamp not null
    );
{%- endmacro %}

{% macro test_watermark_key(model_name, column_name) -%}
    {{ model_name ~ '.' ~ column_name }}
{%- endmacro %}

{#- The loaded_at up to which the test passed last, or none: then it checks every row, as it
    does in a --full-refresh or with --vars '{test_every_row: true}'. -#}
{% macro test_watermark(model_name, column_name) -%}
    {%- if not execute or flags.FULL_REFRESH or var('test_every_row', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set table = adapter.get_relation(
        database=target.database, schema='audit', identifier='dbt_test_watermarks'
    ) -%}
    {%- if table is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select max(tested_through) from " ~ table
        ~ " where test_key = '" ~ test_watermark_key(model_name, column_name) ~ "'"
    ) -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{% macro record_test_watermarks(results) -%}
    {%- if execute -%}
        {%- for result in results if result.status == 'pass' -%}
            {%- set test = graph.nodes.get(result.node.unique_id) or {} -%}
            {%- set metadata = test.get('test_metadata') or {} -%}
            {%- if metadata.get('name') == 'unique_since_last_pass' -%}
                {%- set tested = graph.nodes[test.attached_node] -%}
                {%- set loaded_at = metadata.kwargs.loaded_at %}
            insert into audit.dbt_test_watermarks
            select
                '{{ test_watermark_key(tested.name, metadata.kwargs.column_name) }}',
                max({{ loaded_at }}),
                get_current_timestamp() at time zone 'UTC'
            from {{ tested.relation_name }}
            having max({{ loaded_at }}) is not null;
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
