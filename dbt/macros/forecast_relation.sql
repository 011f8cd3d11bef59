{#- forecasts.mastery_forecast once the engine has written it, else none: the forecast-based
    at-risk reason is absent, not guessed, before. -#}
{% macro forecast_relation() -%}
    {%- if execute -%}
        {{ return(adapter.get_relation(
            database=target.database, schema='forecasts', identifier='mastery_forecast'
        )) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
