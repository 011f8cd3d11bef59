{#- A table of the forecasts schema (the engine's and the disengagement model's output) once
    Dagster has written it, else none: a model reading it then leaves its columns null, rather
    than failing an analyst's `dbt build` on a warehouse the batch has not run on yet. -#}
{% macro forecast_relation(identifier='mastery_forecast') -%}
    {%- if execute -%}
        {{ return(adapter.get_relation(
            database=target.database, schema='forecasts', identifier=identifier
        )) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
